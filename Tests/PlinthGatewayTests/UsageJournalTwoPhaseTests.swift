import Foundation
import PlinthCore
import PlinthGateway
import XCTest

/// Two-phase records: appended pending, then delivered (billed) or abandoned. Readers and folds
/// see only settled records; recovery settles what a dead process left.
final class UsageJournalTwoPhaseTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try temporaryDirectory("twophase") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func testPendingRecordIsBilledOnlyOnceDelivered() throws {
        let journal = try UsageJournal(directory: directory)
        defer { journal.close() }
        let start = journal.durablePosition
        let ticket = try journal.appendPending(makeEvent(0))
        let last = try journal.append(makeEvent(1))
        try journal.flush()
        XCTAssertEqual(journal.durablePosition, start, "the durable position waits for the pending record")
        XCTAssertEqual(try UsageJournalReader(directory: directory).events(), [makeEvent(1)])
        XCTAssertEqual(try UsageJournalReader(directory: directory).records().map(\.state), [.pending, .delivered])

        ticket.mark(.sending)
        try journal.flush()
        XCTAssertEqual(journal.durablePosition, start, "mid-send is not settled either")
        ticket.mark(.delivered)
        try journal.flush()
        XCTAssertEqual(journal.durablePosition, last)
        XCTAssertEqual(try UsageJournalReader(directory: directory).events(), [makeEvent(0), makeEvent(1)])
    }

    func testAbandonedRecordIsNeverBilledButFoldingPassesIt() throws {
        let journal = try UsageJournal(directory: directory)
        defer { journal.close() }
        let sink = MemoryUsageSink()
        let reader = UsageJournalReader(directory: directory)
        let tickets = try (0..<6).map { try journal.appendPending(makeEvent($0)) }
        try journal.flush()
        XCTAssertEqual(try reader.fold(into: sink, upTo: journal.durablePosition).events, 0)
        for (i, ticket) in tickets.enumerated() { ticket.mark(i % 2 == 0 ? .delivered : .abandoned) }
        try journal.flush()
        XCTAssertEqual(journal.durablePosition, tickets.last?.position)
        let report = try reader.fold(into: sink, upTo: journal.durablePosition)
        XCTAssertEqual(report.events, 3)
        XCTAssertEqual(report.cursor, tickets.last?.position, "abandoned records move the cursor too")
        XCTAssertEqual(sink.snapshot, expectedTotals([0, 2, 4].map { makeEvent($0) }))
        XCTAssertEqual(try reader.fold(into: sink, upTo: journal.durablePosition).events, 0, "idempotent")
    }

    func testLiveFoldNeverPassesARecordWhoseResponseIsStillGoingOut() throws {
        let journal = try UsageJournal(directory: directory)
        defer { journal.close() }
        let sink = MemoryUsageSink()
        let reader = UsageJournalReader(directory: directory)
        try journal.append(makeEvent(0))
        let slow = try journal.appendPending(makeEvent(1))
        for i in 2..<5 { try journal.append(makeEvent(i)) }
        try journal.flush()
        XCTAssertEqual(try reader.fold(into: sink, upTo: journal.durablePosition).events, 1)
        slow.mark(.delivered)
        try journal.flush()
        XCTAssertEqual(try reader.fold(into: sink, upTo: journal.durablePosition).events, 4)
        XCTAssertEqual(sink.requestCount, 5)
    }

    func testRecoveryAbandonsPendingAndDeliversRecordsCaughtMidSend() throws {
        do {
            let journal = try UsageJournal(directory: directory)
            let states: [UsageRecordState] = [.pending, .sending, .delivered, .abandoned]
            for (i, state) in states.enumerated() { try journal.appendPending(makeEvent(i)).mark(state) }
            journal.close()  // leaves them as they are, like a process that died
        }
        let reopened = try UsageJournal(directory: directory)
        XCTAssertEqual(reopened.recovery.abandonedRecords, 1)
        XCTAssertEqual(reopened.recovery.deliveredRecords, 1)
        reopened.close()
        let reader = UsageJournalReader(directory: directory)
        XCTAssertEqual(try reader.records().map(\.state), [.abandoned, .delivered, .delivered, .abandoned])
        XCTAssertEqual(try reader.events(), [makeEvent(1), makeEvent(2)])
        let sink = MemoryUsageSink()
        XCTAssertEqual(try reader.fold(into: sink).events, 2)
    }

    func testPendingRecordHoldsFoldingAcrossRotationUntilSettled() throws {
        let journal = try UsageJournal(directory: directory, options: .init(flushEvery: 8, maxSegmentBytes: 1024))
        defer { journal.close() }
        let first = journal.durablePosition
        let ticket = try journal.appendPending(makeEvent(0))
        let events = (1..<60).map { makeEvent($0) }
        var last = first
        for e in events { last = try journal.append(e) }
        try journal.flush()
        XCTAssertGreaterThan(segmentFiles(directory).count, 2)
        XCTAssertEqual(journal.durablePosition, first, "the old segment's pending record holds the position")
        let sink = MemoryUsageSink()
        let reader = UsageJournalReader(directory: directory)
        XCTAssertEqual(try reader.fold(into: sink, upTo: journal.durablePosition).events, 0)

        ticket.mark(.delivered)
        try journal.flush()
        XCTAssertEqual(journal.durablePosition, last)
        let report = try reader.fold(into: sink, upTo: journal.durablePosition)
        XCTAssertEqual(report.events, 60)
        XCTAssertEqual(report.corruptSegments, [])
        // Passed segments are sealed: their preallocated tail is cut.
        let sizes = segmentFiles(directory).dropLast().map {
            (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? -1
        }
        XCTAssertTrue(sizes.allSatisfy { $0 > 16 && $0 < 1024 }, "\(sizes)")
    }

    func testConcurrentTicketsSettleIndependently() throws {
        let journal = try UsageJournal(directory: directory, options: .init(flushEvery: 16))
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in 0..<250 {
                guard let ticket = try? journal.appendPending(makeEvent(worker * 1000 + i)) else { continue }
                ticket.mark(.sending)
                ticket.mark(i % 5 == 0 ? .abandoned : .delivered)
            }
        }
        try journal.flush()
        journal.close()
        let ids = try UsageJournalReader(directory: directory).events().map(\.requestID)
        XCTAssertEqual(ids.count, 800)
        XCTAssertEqual(Set(ids).count, 800)
    }
}
