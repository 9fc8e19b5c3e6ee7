import Foundation
import PlinthCore
import PlinthGateway
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `kill -9` of a process that appends events with syncing disabled: every record whose `append`
/// returned must survive with the state last set (the stores went into the page cache).
final class UsageJournalCrashTests: XCTestCase {
    static let childDirectoryVariable = "PLINTH_JOURNAL_CRASH_CHILD_DIR"

    /// The child role: only runs when the parent test starts this binary with the variable set.
    func testChildAppendsUntilKilled() throws {
        guard let directory = ProcessInfo.processInfo.environment[Self.childDirectoryVariable] else {
            throw XCTSkip("child role of testKill9LosesNothingAlreadyWritten")
        }
        // Never sync: only the page cache protects the records.
        let journal = try UsageJournal(
            directory: directory, options: .init(flushInterval: .seconds(3600), flushEvery: Int.max))
        var i = 0
        while true {
            // Two-phase like the gateway: some answers go out, some fail, some are cut mid-way.
            try journal.appendPending(makeEvent(i)).mark(Self.state(i))
            i += 1
            // Report after append returned, unbuffered: the parent trusts only reported counts.
            let line = Array("\(i)\n".utf8)
            _ = line.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
        }
    }

    func testKill9LosesNothingAlreadyWritten() throws {
        let directory = try temporaryDirectory("crash")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let child = Process()
        child.executableURL = URL(fileURLWithPath: executable)
        child.arguments = ["PlinthGatewayTests.UsageJournalCrashTests/testChildAppendsUntilKilled"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childDirectoryVariable] = directory
        child.environment = environment
        let output = Pipe()
        child.standardOutput = output
        child.standardError = FileHandle.nullDevice
        try child.run()

        var text = ""
        var lastReported = 0
        let deadline = Date().addingTimeInterval(60)
        while lastReported < 3000 && Date() < deadline {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            lastReported = Self.lastCount(text)
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        text += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        lastReported = Self.lastCount(text)
        XCTAssertEqual(child.terminationReason, .uncaughtSignal)
        XCTAssertGreaterThan(lastReported, 0, "child never appended: \(text.prefix(500))")

        // Every record whose state was set survives with that state, read as a restart will.
        let records = try UsageJournalReader(directory: directory).records()
        XCTAssertGreaterThanOrEqual(records.count, lastReported, "a record whose append returned was lost")
        XCTAssertEqual(records.map(\.event), (0..<records.count).map { makeEvent($0) })
        for (i, record) in records.prefix(lastReported).enumerated() {
            XCTAssertEqual(record.state, Self.state(i), "record \(i)")
        }
        // The next gateway start settles them: pending ones abandoned, those mid-send delivered.
        let journal = try UsageJournal(directory: directory)
        journal.close()
        let settled = try UsageJournalReader(directory: directory).records()
        XCTAssertEqual(settled.count, records.count)
        for (i, record) in settled.prefix(lastReported).enumerated() {
            XCTAssertEqual(record.state, Self.state(i).afterCrash, "record \(i)")
        }
        XCTAssertTrue(settled.allSatisfy(\.state.isFinal))
        let billed = try UsageJournalReader(directory: directory).events().map(\.requestID)
        XCTAssertEqual(
            Array(billed.prefix(while: { Int($0.dropFirst(4))! < lastReported })),
            (0..<lastReported).filter { Self.state($0).afterCrash == .delivered }.map { "req-\($0)" })
    }

    private static func state(_ i: Int) -> UsageRecordState {
        [UsageRecordState.pending, .sending, .delivered, .abandoned][i % 4]
    }

    /// The last complete line that is a number.
    private static func lastCount(_ text: String) -> Int {
        let complete = text.hasSuffix("\n") ? Substring(text) : text[..<(text.lastIndex(of: "\n") ?? text.startIndex)]
        for line in complete.split(separator: "\n").reversed() {
            if let n = Int(line) { return n }
        }
        return 0
    }
}
