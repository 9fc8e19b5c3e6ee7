import Foundation
import PlinthCore
import PlinthGateway
import XCTest

final class UsageJournalTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try temporaryDirectory("journal") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func testUsageEventBinaryEncodingRoundTrips() {
        var event = makeEvent(7)
        event.tenantID = "tenant-ünïcødé-🚀"
        event.timestampMicros = -5
        XCTAssertEqual(UsageEvent.decode(event.encoded[...]), event)
        let bytes = event.encoded
        for cut in [0, 1, 10, bytes.count - 1] {
            XCTAssertNil(UsageEvent.decode(bytes[..<cut]), "truncated at \(cut)")
        }
        XCTAssertNil(UsageEvent.decode((bytes + [0])[...]), "trailing byte")
    }

    func testAppendedEventsReadBackInOrderAfterClose() throws {
        let journal = try UsageJournal(directory: directory)
        let events = (0..<200).map { makeEvent($0) }
        for e in events { try journal.append(e) }
        try journal.flush()
        journal.close()
        XCTAssertThrowsError(try journal.append(events[0])) { XCTAssertEqual($0 as? JournalError, .closed) }
        XCTAssertEqual(try UsageJournalReader(directory: directory).events(), events)
    }

    func testFlushMakesEverythingDurableAndDurablePositionAdvances() throws {
        let journal = try UsageJournal(
            directory: directory, options: .init(flushInterval: .seconds(3600), flushEvery: 1_000_000))
        defer { journal.close() }
        let start = journal.durablePosition
        var last = start
        for i in 0..<5 { last = try journal.append(makeEvent(i)) }
        XCTAssertEqual(journal.durablePosition, start, "nothing is fsynced before the group commits")
        try journal.flush()
        XCTAssertEqual(journal.durablePosition, last)
    }

    func testGroupCommitHappensWithoutExplicitFlush() throws {
        let journal = try UsageJournal(directory: directory, options: .init(flushInterval: .milliseconds(2)))
        defer { journal.close() }
        // Several rounds, each after the flusher has gone idle: a lone event must be fsynced
        // within the interval without waiting for a full group.
        for round in 0..<5 {
            usleep(20_000)
            let last = try journal.append(makeEvent(round))
            let deadline = Date().addingTimeInterval(30)
            while journal.durablePosition < last && Date() < deadline { usleep(500) }
            XCTAssertEqual(journal.durablePosition, last, "round \(round)")
        }
    }

    func testTornTailIsCutOnRecoveryAndNewEventsGoToANewSegment() throws {
        let events = (0..<50).map { makeEvent($0) }
        do {
            let journal = try UsageJournal(directory: directory)
            for e in events { try journal.append(e) }
            journal.close()
        }
        // A crash mid-write: the last record is cut in the middle.
        let file = try XCTUnwrap(segmentFiles(directory).last)
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
        XCTAssertEqual(truncate(file, off_t(size - 10)), 0)

        let reopened = try UsageJournal(directory: directory)
        XCTAssertEqual(reopened.recovery.existingSegments, 1)
        XCTAssertGreaterThan(reopened.recovery.truncatedBytes, 0)
        try reopened.append(makeEvent(1000))
        reopened.close()
        XCTAssertEqual(segmentFiles(directory).count, 2, "recovery never appends to an old segment")
        XCTAssertEqual(
            try UsageJournalReader(directory: directory).events(), Array(events.dropLast()) + [makeEvent(1000)])
    }

    func testGarbageAfterLastRecordIsCut() throws {
        do {
            let journal = try UsageJournal(directory: directory)
            for i in 0..<3 { try journal.append(makeEvent(i)) }
            journal.close()
        }
        let file = try XCTUnwrap(segmentFiles(directory).last)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: file))
        handle.seekToEndOfFile()
        handle.write(Data([0x20, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3]))
        handle.closeFile()
        let reopened = try UsageJournal(directory: directory)
        XCTAssertEqual(reopened.recovery.truncatedBytes, 11)
        reopened.close()
        XCTAssertEqual(try UsageJournalReader(directory: directory).events().count, 3)
    }

    func testSegmentWithTornHeaderIsRemovedOnRecovery() throws {
        do {
            let journal = try UsageJournal(directory: directory)
            try journal.append(makeEvent(1))
            journal.close()
        }
        // The process died while creating the next segment: a half-written header.
        let torn = directory + "/usage-00000000000000000002.journal"
        _ = FileManager.default.createFile(atPath: torn, contents: Data("PLU".utf8))
        let reopened = try UsageJournal(directory: directory)
        XCTAssertEqual(reopened.recovery.removedSegments, 1)
        try reopened.append(makeEvent(2))
        reopened.close()
        XCTAssertEqual(try UsageJournalReader(directory: directory).events(), [makeEvent(1), makeEvent(2)])
    }

    func testOnlyOneWriterMayOpenAJournal() throws {
        let first = try UsageJournal(directory: directory)
        XCTAssertThrowsError(try UsageJournal(directory: directory)) { error in
            guard case .io(let op, _, let code)? = error as? JournalError else { return XCTFail("\(error)") }
            XCTAssertEqual(op, "flock")
            XCTAssertEqual(code, EWOULDBLOCK)
        }
        try first.append(makeEvent(1))
        first.close()
        let second = try UsageJournal(directory: directory)
        try second.append(makeEvent(2))
        second.close()
        XCTAssertEqual(try UsageJournalReader(directory: directory).events(), [makeEvent(1), makeEvent(2)])
    }

    func testConcurrentAppendsAllLandOnce() throws {
        let journal = try UsageJournal(directory: directory, options: .init(flushEvery: 16))
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in 0..<250 { _ = try? journal.append(makeEvent(worker * 1000 + i)) }
        }
        try journal.flush()
        journal.close()
        let ids = try UsageJournalReader(directory: directory).events().map(\.requestID)
        XCTAssertEqual(ids.count, 1000)
        XCTAssertEqual(Set(ids).count, 1000)
    }

    func testRotationSplitsSegmentsAndNothingIsLost() throws {
        let journal = try UsageJournal(directory: directory, options: .init(flushEvery: 8, maxSegmentBytes: 2048))
        let events = (0..<300).map { makeEvent($0) }
        for e in events { try journal.append(e) }
        try journal.flush()
        journal.close()
        XCTAssertGreaterThan(
            segmentFiles(directory).count, 1, "rotation is soft: the flusher rotates soon after the limit")
        XCTAssertEqual(try UsageJournalReader(directory: directory).events(), events)
    }
}
