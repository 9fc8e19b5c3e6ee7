import Foundation
import PlinthCore
import PlinthGateway
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `kill -9` of a process that appends events with fsync disabled: every event whose `append`
/// returned must survive (the bytes were `write()`n into the page cache).
final class UsageJournalCrashTests: XCTestCase {
    static let childDirectoryVariable = "PLINTH_JOURNAL_CRASH_CHILD_DIR"

    /// The child role: only runs when the parent test starts this binary with the variable set.
    func testChildAppendsUntilKilled() throws {
        guard let directory = ProcessInfo.processInfo.environment[Self.childDirectoryVariable] else {
            throw XCTSkip("child role of testKill9LosesNothingAlreadyWritten")
        }
        // Never fsync: only the page cache protects the events.
        let journal = try UsageJournal(
            directory: directory, options: .init(flushInterval: .seconds(3600), flushEvery: Int.max))
        var i = 0
        while true {
            try journal.append(makeEvent(i))
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

        let events = try UsageJournalReader(directory: directory).events()
        XCTAssertGreaterThanOrEqual(events.count, lastReported, "an event whose append returned was lost")
        XCTAssertEqual(events, (0..<events.count).map { makeEvent($0) })
        // The next gateway start recovers cleanly and keeps every event.
        let journal = try UsageJournal(directory: directory)
        journal.close()
        XCTAssertEqual(try UsageJournalReader(directory: directory).events().count, events.count)
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
