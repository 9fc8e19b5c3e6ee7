import XCTest

@testable import PlinthRuntime

final class BatchSchedulerTests: XCTestCase {
    typealias Scheduler = BatchScheduler<String>

    func request(_ id: UInt64, _ key: String = "k", rows: Int = 1, at time: UInt64) -> Scheduler.Request {
        Scheduler.Request(id: id, key: key, rows: rows, arrivalMicros: time)
    }

    func testFirstRequestOnAnIdleModelWaitsForTheDelay() {
        var s = Scheduler(.init(maxBatch: 8, maxDelayMicros: 500))
        XCTAssertEqual(s.submit(request(1, at: 1000), nowMicros: 1000), [.wake(atMicros: 1500)])
        XCTAssertEqual(s.submit(request(2, at: 1100), nowMicros: 1100), [.wake(atMicros: 1500)])
        XCTAssertEqual(s.timerFired(nowMicros: 1499), [.wake(atMicros: 1500)])
        XCTAssertEqual(s.timerFired(nowMicros: 1500), [.execute(ids: [1, 2], rows: 2)])
        XCTAssertTrue(s.queue.isEmpty)
    }

    func testZeroDelayRunsAtOnceAndBatchesWhatQueuedMeanwhile() {
        var s = Scheduler(.init(maxBatch: 8, maxDelayMicros: 0))
        XCTAssertEqual(s.submit(request(1, at: 0), nowMicros: 0), [.execute(ids: [1], rows: 1)])
        XCTAssertEqual(s.submit(request(2, at: 5), nowMicros: 5), [])
        XCTAssertEqual(s.submit(request(3, at: 6), nowMicros: 6), [])
        XCTAssertEqual(s.batchFinished(nowMicros: 50), [.execute(ids: [2, 3], rows: 2)])
        XCTAssertEqual(s.batchFinished(nowMicros: 90), [])
    }

    func testAFullBatchStartsBeforeTheDelay() {
        var s = Scheduler(.init(maxBatch: 4, maxDelayMicros: 10_000))
        _ = s.submit(request(1, rows: 2, at: 0), nowMicros: 0)
        _ = s.submit(request(2, rows: 1, at: 1), nowMicros: 1)
        XCTAssertEqual(s.submit(request(3, rows: 1, at: 2), nowMicros: 2), [.execute(ids: [1, 2, 3], rows: 4)])
    }

    func testRowsNeverExceedMaxBatchAndOversizedRequestsRunAlone() {
        var s = Scheduler(.init(maxBatch: 4, maxDelayMicros: 100))
        XCTAssertEqual(s.submit(request(1, rows: 9, at: 0), nowMicros: 0), [.execute(ids: [1], rows: 9)])
        _ = s.batchFinished(nowMicros: 10)
        _ = s.submit(request(2, rows: 3, at: 10), nowMicros: 10)
        _ = s.submit(request(3, rows: 3, at: 11), nowMicros: 11)
        XCTAssertEqual(s.submit(request(4, rows: 1, at: 12), nowMicros: 12), [.execute(ids: [2, 4], rows: 4)])
        XCTAssertEqual(s.batchFinished(nowMicros: 20), [.wake(atMicros: 111)])
        XCTAssertEqual(s.timerFired(nowMicros: 111), [.execute(ids: [3], rows: 3)])
    }

    func testRequestsWithDifferentKeysRunSeparately() {
        var s = Scheduler(.init(maxBatch: 8, maxDelayMicros: 100))
        _ = s.submit(request(1, "a", at: 0), nowMicros: 0)
        _ = s.submit(request(2, "b", at: 1), nowMicros: 1)
        _ = s.submit(request(3, "a", at: 2), nowMicros: 2)
        XCTAssertEqual(s.timerFired(nowMicros: 100), [.execute(ids: [1, 3], rows: 2)])
        XCTAssertEqual(s.batchFinished(nowMicros: 120), [.execute(ids: [2], rows: 1)])
    }

    func testConcurrentBatchesUpToTheLimit() {
        var s = Scheduler(.init(maxBatch: 1, maxDelayMicros: 0, maxConcurrentBatches: 2))
        XCTAssertEqual(s.submit(request(1, at: 0), nowMicros: 0), [.execute(ids: [1], rows: 1)])
        XCTAssertEqual(s.submit(request(2, at: 0), nowMicros: 0), [.execute(ids: [2], rows: 1)])
        XCTAssertEqual(s.submit(request(3, at: 0), nowMicros: 0), [])
        XCTAssertEqual(s.running, 2)
        XCTAssertEqual(s.batchFinished(nowMicros: 1), [.execute(ids: [3], rows: 1)])
    }

    func testAFullQueueRejects() {
        var s = Scheduler(.init(maxBatch: 1, maxDelayMicros: 0, maxQueued: 2))
        _ = s.submit(request(1, at: 0), nowMicros: 0)  // running
        _ = s.submit(request(2, at: 0), nowMicros: 0)
        _ = s.submit(request(3, at: 0), nowMicros: 0)
        XCTAssertEqual(s.submit(request(4, at: 0), nowMicros: 0), [.reject(id: 4)])
    }
}
