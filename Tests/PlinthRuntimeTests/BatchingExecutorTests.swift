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
        let alone = try XCTUnwrap(try executor.infer(Self.row(5), onlyIfIdle: true))
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
                if let outcome = try? executor.infer(Self.row(i), onlyIfIdle: true) {
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
}
