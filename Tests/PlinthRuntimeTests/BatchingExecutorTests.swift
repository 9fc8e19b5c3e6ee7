import Dispatch
import Synchronization
import XCTest

@testable import PlinthRuntime

/// The executor's non-blocking paths: `submit` (completion on the batch's thread) and the event
/// loop's run-if-idle, mixed with blocking callers.
final class BatchingExecutorTests: XCTestCase {
    static func row(_ i: Int) -> [WireTensor] {
        [WireTensor(name: "x", datatype: .fp32, shape: [1, 3], data: .float32([Float(i), 1, 1]))]
    }

    static func y(_ outcome: BatchingExecutor.Outcome) -> [Float] {
        guard case .float32(let values) = outcome.outputs.first(where: { $0.name == "y" })?.data else { return [] }
        return values
    }

    func testSubmittedRequestsAreBatchedAndEachCompletesOnceWithItsOwnRows() {
        let model = RowStatsModel()
        let executor = BatchingExecutor(model: model, maxBatch: 16, maxDelayMicros: 20_000, concurrency: 1)
        defer { executor.shutdown() }
        let count = 40
        let results = Mutex<[Int: [Result<BatchingExecutor.Outcome, InferenceError>]]>([:])
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            executor.submit(Self.row(i)) { result in
                results.withLock { $0[i, default: []].append(result) }
                group.leave()
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        let all = results.withLock { $0 }
        XCTAssertEqual(all.count, count)
        for (i, list) in all {
            XCTAssertEqual(list.count, 1, "request \(i) completed \(list.count) times")
            guard case .success(let outcome) = list[0] else { return XCTFail("request \(i): \(list[0])") }
            XCTAssertEqual(Self.y(outcome), [Float(i) + 2, Float(2 * i)], "request \(i) got another request's rows")
        }
        XCTAssertGreaterThan(model.largestBatch.withLock { $0 }, 1, "submitted requests were not batched")
    }

    func testRunIfIdleDeclinesWhileBusyAndMixedCallersAllGetAnswers() throws {
        let model = RowStatsModel()
        let executor = BatchingExecutor(model: model, maxBatch: 8, maxDelayMicros: 0, concurrency: 1)
        defer { executor.shutdown() }
        // Idle: runs on the calling thread.
        let alone = try XCTUnwrap(executor.inferAllIfIdle([Self.row(5)], arrivals: [0])?.first).get()
        XCTAssertEqual(Self.y(alone), [7, 10])
        XCTAssertEqual(alone.batchRows, 1)
        // Blocking callers, submitters and run-if-idle callers at once: each gets its own answer
        // (run-if-idle may decline, then the request is submitted like the event loop does).
        let count = 60
        let answers = Mutex<[Int: [Float]]>([:])
        let group = DispatchGroup()
        DispatchQueue.concurrentPerform(iterations: count) { i in
            switch i % 3 {
            case 0:
                let outcome = try? executor.infer(Self.row(i))
                answers.withLock { $0[i] = outcome.map(Self.y) ?? [] }
            case 1:
                if let outcome = try? executor.inferAllIfIdle([Self.row(i)], arrivals: [0])?.first?.get() {
                    answers.withLock { $0[i] = Self.y(outcome) }
                    return
                }
                fallthrough
            default:
                group.enter()
                executor.submit(Self.row(i)) { result in
                    answers.withLock { $0[i] = (try? result.get()).map(Self.y) ?? [] }
                    group.leave()
                }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        let all = answers.withLock { $0 }
        XCTAssertEqual(all.count, count)
        for (i, y) in all { XCTAssertEqual(y, [Float(i) + 2, Float(2 * i)], "request \(i)") }
    }

    func testSubmitAfterShutdownAndOverQueueLimitFailsWithoutHanging() {
        let executor = BatchingExecutor(
            model: RowStatsModel(), maxBatch: 2, maxDelayMicros: 1_000_000, concurrency: 1, maxQueued: 1)
        // The first waits out its (long) delay in the queue; the second overflows it.
        let overloaded = DispatchSemaphore(value: 0)
        executor.submit(Self.row(1)) { _ in }
        executor.submit(Self.row(2)) { result in
            if case .failure(.overloaded) = result { overloaded.signal() }
        }
        XCTAssertEqual(overloaded.wait(timeout: .now() + 5), .success, "no overload answer")
        executor.shutdown()
        let refused = DispatchSemaphore(value: 0)
        executor.submit(Self.row(3)) { result in
            if case .failure(.unavailable) = result { refused.signal() }
        }
        XCTAssertEqual(refused.wait(timeout: .now() + 5), .success)
    }

    /// One event-loop round: requests run in order as merged batches of at most `maxBatch` rows,
    /// each outcome carrying its own rows, the batch it ran in and its queue time.
    func testRoundRunsMergedBatchesUpToMaxBatchInOrder() throws {
        let model = RowStatsModel()
        let executor = BatchingExecutor(model: model, maxBatch: 4, maxDelayMicros: 0, concurrency: 1)
        defer { executor.shutdown() }
        let two = [WireTensor(name: "x", datatype: .fp32, shape: [2, 3], data: .float32([1, 2, 3, 4, 5, 6]))]
        // Rows: 1, 1, 2 | 1, 1, 1, 1 | 1 (the two-row request fills the first batch to 4).
        let requests = [Self.row(0), Self.row(1), two, Self.row(3), Self.row(4), Self.row(5), Self.row(6), Self.row(7)]
        let now = BatchingExecutor.nowMicros()
        let outcomes = try XCTUnwrap(
            executor.inferAllIfIdle(requests, arrivals: Array(repeating: now - 50, count: requests.count)))
        XCTAssertEqual(outcomes.count, requests.count)
        XCTAssertEqual(model.runs.withLock { $0 }, 3)
        XCTAssertEqual(model.largestBatch.withLock { $0 }, 4)
        let all = try outcomes.map { try $0.get() }
        XCTAssertEqual(all.map(\.batchRows), [4, 4, 4, 4, 4, 4, 4, 1])
        XCTAssertEqual(all.map(\.requestRows), [1, 1, 2, 1, 1, 1, 1, 1])
        XCTAssertEqual(Self.y(all[2]), [6, 2, 15, 8])
        for i in [0, 1, 3, 4, 5, 6, 7] {
            XCTAssertEqual(Self.y(all[i]), [Float(i) + 2, Float(2 * i)], "request \(i) got another request's rows")
        }
        XCTAssertTrue(all.allSatisfy { $0.queueMicros >= 50 })
    }

    /// Without batching (`maxBatch` 1) a round still runs on the caller's thread, one request per
    /// model run; after shutdown every request is refused, none is run.
    func testRoundWithoutBatchingRunsEachAloneAndRefusesAfterShutdown() throws {
        let model = RowStatsModel()
        let executor = BatchingExecutor(model: model, maxBatch: 1, maxDelayMicros: 0, concurrency: 1)
        let requests = (0..<3).map(Self.row)
        let outcomes = try XCTUnwrap(executor.inferAllIfIdle(requests, arrivals: [0, 0, 0]))
        XCTAssertEqual(try outcomes.map { try $0.get().batchRows }, [1, 1, 1])
        XCTAssertEqual(model.runs.withLock { $0 }, 3)
        executor.shutdown()
        let refused = try XCTUnwrap(executor.inferAllIfIdle(requests, arrivals: [0, 0, 0]))
        XCTAssertEqual(refused.count, 3)
        for outcome in refused {
            guard case .failure(.unavailable) = outcome else { return XCTFail("\(outcome)") }
        }
        XCTAssertEqual(model.runs.withLock { $0 }, 3)
    }

    /// A round defers to the queue: with a delay configured (batches wait to fill) it declines,
    /// so the event loop submits instead.
    func testRoundDeclinesWhenBatchesWaitForADelay() {
        let executor = BatchingExecutor(model: RowStatsModel(), maxBatch: 8, maxDelayMicros: 1000, concurrency: 1)
        defer { executor.shutdown() }
        XCTAssertNil(executor.inferAllIfIdle([Self.row(1)], arrivals: [0]))
    }
}
