import Foundation
import PlinthCore
import PlinthGateway
import XCTest

final class UsageFoldTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try temporaryDirectory("fold") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func write(_ events: [UsageEvent], options: UsageJournal.Options = .init()) throws {
        let journal = try UsageJournal(directory: directory, options: options)
        for e in events { try journal.append(e) }
        journal.close()
    }

    func testFoldingTwiceCountsOnce() throws {
        let events = (0..<500).map {
            makeEvent($0, tenant: $0 % 2 == 0 ? "t1" : "t2", minute: 29_000_000 + Int64($0 % 3))
        }
        try write(events)
        let sink = MemoryUsageSink()
        let reader = UsageJournalReader(directory: directory)
        let first = try reader.fold(into: sink, maxEventsPerBatch: 64)
        XCTAssertEqual(first.events, 500)
        XCTAssertEqual(sink.snapshot, expectedTotals(events))
        let second = try reader.fold(into: sink)
        XCTAssertEqual(second.events, 0)
        XCTAssertEqual(sink.snapshot, expectedTotals(events))
    }

    func testConcurrentFoldsOfOneJournalCountOnce() throws {
        let events = (0..<400).map { makeEvent($0) }
        try write(events)
        let sink = MemoryUsageSink()
        let directory = directory
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            // Separate reader values, as separate tasks of the control plane would have.
            _ = try? UsageJournalReader(directory: directory).fold(into: sink, maxEventsPerBatch: 16)
        }
        XCTAssertEqual(sink.snapshot, expectedTotals(events))
    }

    func testPerMinuteTotalsAreSummedByKey() throws {
        let minute: Int64 = 29_000_000
        let events = [
            UsageEvent(
                requestID: "a", tenantID: "t", apiKeyID: "k", deployment: "d", version: "v1", status: 200,
                latencyMicros: 10, queueMicros: 1, computeMicros: 5, bytesIn: 100, bytesOut: 50, batchSize: 4,
                shadow: false, timestampMicros: minute * 60_000_000),
            UsageEvent(
                requestID: "b", tenantID: "t", apiKeyID: "k", deployment: "d", version: "v1", status: 503,
                latencyMicros: 30, queueMicros: 2, computeMicros: 0, bytesIn: 10, bytesOut: 5, batchSize: 1,
                shadow: false, timestampMicros: minute * 60_000_000 + 59_999_999),
        ]
        try write(events)
        let sink = MemoryUsageSink()
        try UsageJournalReader(directory: directory).fold(into: sink)
        let key = UsageMinuteKey(
            minute: minute, tenantID: "t", apiKeyID: "k", deployment: "d", version: "v1", shadow: false)
        var expected = UsageTotals()
        expected.requests = 2
        expected.succeeded = 1
        expected.serverErrors = 1
        expected.latencyMicros = 40
        expected.queueMicros = 3
        expected.computeMicros = 5
        expected.bytesIn = 110
        expected.bytesOut = 55
        expected.examples = 5
        XCTAssertEqual(sink.snapshot, [key: expected])
    }

    func testCrashDuringFoldNeverDoubleCounts() throws {
        let events = (0..<300).map { makeEvent($0) }
        try write(events, options: .init(maxSegmentBytes: 4096))
        let sink = MemoryUsageSink()
        let reader = UsageJournalReader(directory: directory)
        // Crash at each apply in turn; then recover with a full fold. Totals must stay exact.
        for crashAt in [2, 1, 3, 2, 4] {
            sink.failOnApply = crashAt
            XCTAssertThrowsError(try reader.fold(into: sink, maxEventsPerBatch: 37))
            sink.failOnApply = nil
            // What is stored is exactly a prefix of the journal: nothing twice, no gap.
            XCTAssertEqual(
                sink.snapshot, expectedTotals(Array(events.prefix(Int(sink.requestCount)))), "crash at apply \(crashAt)"
            )
            XCTAssertGreaterThan(sink.requestCount, 0)
        }
        try reader.fold(into: sink, maxEventsPerBatch: 37)
        XCTAssertEqual(sink.snapshot, expectedTotals(events))
        XCTAssertEqual(try reader.fold(into: sink).events, 0)
    }

    func testTornTailThenRecoveryThenFoldCountsEveryValidEventOnce() throws {
        let events = (0..<40).map { makeEvent($0) }
        try write(events)
        let sink = MemoryUsageSink()
        let reader = UsageJournalReader(directory: directory)
        let file = try XCTUnwrap(segmentFiles(directory).last)
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
        XCTAssertEqual(truncate(file, off_t(size - 3)), 0)
        // Folding before recovery stops at the torn record …
        XCTAssertEqual(try reader.fold(into: sink).events, 39)
        // … the gateway restarts, recovers, and writes more …
        let journal = try UsageJournal(directory: directory)
        try journal.append(makeEvent(100))
        journal.close()
        // … and the next fold adds exactly the new event.
        XCTAssertEqual(try reader.fold(into: sink).events, 1)
        XCTAssertEqual(sink.snapshot, expectedTotals(Array(events.dropLast()) + [makeEvent(100)]))
    }

    func testLiveFoldStopsAtDurablePosition() throws {
        let journal = try UsageJournal(
            directory: directory, options: .init(flushInterval: .seconds(3600), flushEvery: 1_000_000))
        defer { journal.close() }
        for i in 0..<5 { try journal.append(makeEvent(i)) }
        let sink = MemoryUsageSink()
        let reader = UsageJournalReader(directory: directory)
        XCTAssertEqual(try reader.fold(into: sink, upTo: journal.durablePosition).events, 0)
        try journal.flush()
        XCTAssertEqual(try reader.fold(into: sink, upTo: journal.durablePosition).events, 5)
        for i in 5..<8 { try journal.append(makeEvent(i)) }
        try journal.flush()
        XCTAssertEqual(try reader.fold(into: sink, upTo: journal.durablePosition).events, 3)
        XCTAssertEqual(sink.snapshot, expectedTotals((0..<8).map { makeEvent($0) }))
    }

    func testRetentionRemovesOnlyFoldedSegmentsPastAgeOrSize() throws {
        let journal = try UsageJournal(directory: directory, options: .init(flushEvery: 4, maxSegmentBytes: 1024))
        let events = (0..<120).map { makeEvent($0) }
        for e in events { try journal.append(e) }
        try journal.flush()
        let sink = MemoryUsageSink()
        let reader = UsageJournalReader(directory: directory)
        let all = segmentFiles(directory)
        XCTAssertGreaterThan(all.count, 4)
        // Folded only up to the third segment: the rest is not in the store and must stay.
        let segments = try reader.segments()
        let partial = try reader.fold(into: sink, upTo: UsageCursor(segment: segments[2], offset: 0))
        let cursor = try XCTUnwrap(partial.cursor)
        XCTAssertEqual(cursor.segment, segments[2])

        // Young and small: nothing goes.
        XCTAssertEqual(try reader.prune(before: cursor, retention: .init(maxAgeSeconds: 3600, maxBytes: 1 << 30)), 0)
        // Over the byte budget: the oldest folded segment goes first, until the rest fits.
        let firstSize = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: all[1])[.size] as? Int64)
        XCTAssertEqual(try reader.prune(before: cursor, retention: .init(maxAgeSeconds: 3600, maxBytes: firstSize)), 1)
        XCTAssertEqual(segmentFiles(directory), Array(all.dropFirst()))
        // Past their age: every folded one goes, nothing unfolded does.
        let later = Date().addingTimeInterval(7200)
        XCTAssertEqual(
            try reader.prune(before: cursor, retention: .init(maxAgeSeconds: 3600, maxBytes: 1 << 30), now: later), 1)
        XCTAssertEqual(segmentFiles(directory), Array(all.dropFirst(2)))

        // Folding the rest still counts every event once.
        try reader.fold(into: sink, upTo: journal.durablePosition)
        XCTAssertEqual(sink.snapshot, expectedTotals(events))
        journal.close()
    }

    func testFoldAcrossRotationAndPruneFoldedSegments() throws {
        let journal = try UsageJournal(directory: directory, options: .init(flushEvery: 4, maxSegmentBytes: 1024))
        let events = (0..<120).map { makeEvent($0) }
        let sink = MemoryUsageSink()
        let reader = UsageJournalReader(directory: directory)
        for (i, e) in events.enumerated() {
            try journal.append(e)
            if i % 25 == 0 { try reader.fold(into: sink, upTo: journal.durablePosition) }
        }
        try journal.flush()
        let report = try reader.fold(into: sink, upTo: journal.durablePosition)
        XCTAssertEqual(sink.snapshot, expectedTotals(events))
        let cursor = try XCTUnwrap(report.cursor)
        let before = segmentFiles(directory).count
        XCTAssertGreaterThan(try reader.removeSegments(before: cursor), 0)
        XCTAssertLessThan(segmentFiles(directory).count, before)
        journal.close()
        XCTAssertEqual(try reader.fold(into: sink).events, 0)
        XCTAssertEqual(sink.snapshot, expectedTotals(events))
    }

    func testCorruptRecordInAnOlderSegmentIsReportedAndTheRestFolded() throws {
        try write((0..<10).map { makeEvent($0) })
        try write((10..<20).map { makeEvent($0) })
        let first = try XCTUnwrap(segmentFiles(directory).first)
        // Flip one payload byte of the 6th record.
        var data = try Data(contentsOf: URL(fileURLWithPath: first))
        let recordSize = (data.count - 16) / 10
        data[16 + 5 * recordSize + 20] ^= 0xFF
        try data.write(to: URL(fileURLWithPath: first))
        let sink = MemoryUsageSink()
        let report = try UsageJournalReader(directory: directory).fold(into: sink)
        XCTAssertEqual(report.corruptSegments, [1])
        XCTAssertEqual(report.events, 15)
        XCTAssertEqual(sink.snapshot, expectedTotals((0..<5).map { makeEvent($0) } + (10..<20).map { makeEvent($0) }))
    }
}
