import Foundation
import PlinthGateway
import XCTest

final class AdmissionTests: XCTestCase {
    func testQueueRunsUpToCapThenQueuesThenRejects() {
        var q = AdmissionQueue<String>(maxConcurrent: 2, maxQueued: 2)
        guard case .run = q.arrive("a", now: 0), case .run = q.arrive("b", now: 0) else { return XCTFail() }
        guard case .queued = q.arrive("c", now: 1), case .queued = q.arrive("d", now: 2) else { return XCTFail() }
        guard case .rejected = q.arrive("e", now: 3) else { return XCTFail("queue is full") }
        XCTAssertEqual(q.running, 2)
        XCTAssertEqual(q.queued, 2)
        // Finishing hands the slot to the oldest waiter.
        XCTAssertEqual(q.finish()?.waiter, "c")
        XCTAssertEqual(q.finish()?.waiter, "d")
        XCTAssertNil(q.finish())
        XCTAssertEqual(q.running, 1)
        XCTAssertNil(q.finish())
        XCTAssertEqual(q.running, 0)
    }

    func testCancelAndExpireRemoveWaiters() {
        var q = AdmissionQueue<String>(maxConcurrent: 1, maxQueued: 10)
        _ = q.arrive("run", now: 0)
        var tickets: [UInt64] = []
        for i in 0..<4 {
            if case .queued(let t) = q.arrive("w\(i)", now: UInt64(i * 10)) { tickets.append(t) }
        }
        XCTAssertEqual(q.cancel(ticket: tickets[1]), "w1")
        XCTAssertNil(q.cancel(ticket: tickets[1]))
        XCTAssertEqual(q.expire(enqueuedBefore: 20), ["w0", "w2"])
        XCTAssertEqual(q.queued, 1)
        XCTAssertEqual(q.finish()?.waiter, "w3")
    }

    func testAReleasePrefersAWaiterOfItsOwnAffinityButNeverStarvesTheHead() {
        var q = AdmissionQueue<String>(maxConcurrent: 1, maxQueued: 100)
        guard case .run = q.arrive("running", now: 0, affinity: 0) else { return XCTFail() }
        // Head on loop 1, then loop-0 waiters behind it.
        _ = q.arrive("head@1", now: 1, affinity: 1)
        for i in 0..<10 { _ = q.arrive("w\(i)@0", now: 2 + UInt64(i), affinity: 0) }
        // Loop 0 releases: its own waiters go first, but the head is passed at most maxBypass times.
        var order: [String] = []
        for _ in 0..<(AdmissionQueue<String>.maxBypass + 1) { order.append(q.finish(preferring: 0)!.waiter) }
        XCTAssertEqual(order, ["w0@0", "w1@0", "w2@0", "w3@0", "head@1"])
        // No preference, or none of that affinity within the window: plain FIFO.
        XCTAssertEqual(q.finish()?.waiter, "w4@0")
        XCTAssertEqual(q.finish(preferring: 7)?.waiter, "w5@0")
        XCTAssertEqual(q.queued, 4)

        // Only the first affinityWindow waiters are looked at.
        var far = AdmissionQueue<String>(maxConcurrent: 1, maxQueued: 100)
        _ = far.arrive("running", now: 0)
        for i in 0..<AdmissionQueue<String>.affinityWindow { _ = far.arrive("a\(i)", now: 1, affinity: 1) }
        _ = far.arrive("beyond", now: 2, affinity: 0)
        XCTAssertEqual(far.finish(preferring: 0)?.waiter, "a0")
    }

    func testRaisingConcurrencyStartsWaiters() {
        var q = AdmissionQueue<Int>(maxConcurrent: 1, maxQueued: 5)
        _ = q.arrive(0, now: 0)
        for i in 1...3 { _ = q.arrive(i, now: 0) }
        XCTAssertEqual(q.update(maxConcurrent: 3, maxQueued: 5).map(\.waiter), [1, 2])
        XCTAssertEqual(q.running, 3)
        XCTAssertEqual(q.queued, 1)
    }

    func testControllerRejectsWithRetryAfterWhenFullAndStartsQueuedOnRelease() {
        let clock = ManualClock()
        let controller = AdmissionController(maxConcurrent: 1, maxQueued: 1, clock: clock.now)
        guard case .started(let first) = controller.admit(onOutcome: { _ in }) else { return XCTFail() }
        let started = Box()
        guard
            case .queued = controller.admit(onOutcome: { outcome in
                if case .started(let permit) = outcome { started.set(permit.queuedNanos) }
            })
        else { return XCTFail() }
        guard case .rejected(let retry) = controller.admit(onOutcome: { _ in XCTFail("rejected must not call back") })
        else {
            return XCTFail()
        }
        XCTAssertGreaterThanOrEqual(retry, 1)
        clock.advance(seconds: 4)
        controller.release(first)
        XCTAssertEqual(started.value, 4_000_000_000, "queued time is reported for metering")
        XCTAssertEqual(controller.load.running, 1)
        XCTAssertEqual(controller.load.queued, 0)
    }

    func testRetryAfterReflectsServiceTimeAndQueueDepth() {
        let clock = ManualClock()
        let controller = AdmissionController(maxConcurrent: 1, maxQueued: 2, clock: clock.now)
        // One request taking 3 s sets the mean service time.
        guard case .started(let p) = controller.admit(onOutcome: { _ in }) else { return XCTFail() }
        clock.advance(seconds: 3)
        controller.release(p)
        guard case .started = controller.admit(onOutcome: { _ in }) else { return XCTFail() }
        _ = controller.admit(onOutcome: { _ in })
        _ = controller.admit(onOutcome: { _ in })
        guard case .rejected(let retry) = controller.admit(onOutcome: { _ in }) else { return XCTFail() }
        XCTAssertEqual(retry, 9, "three requests ahead × 3 s on one slot")
    }

    func testQueuedRequestTimesOut() {
        let clock = ManualClock()
        let controller = AdmissionController(
            maxConcurrent: 1, maxQueued: 5, maxQueueWait: .seconds(2), clock: clock.now)
        _ = controller.admit(onOutcome: { _ in })
        let timedOut = Box()
        _ = controller.admit(onOutcome: { if case .timedOut = $0 { timedOut.set(1) } })
        clock.advance(seconds: 1)
        controller.expireWaiters()
        XCTAssertNil(timedOut.value)
        clock.advance(seconds: 1.5)
        controller.expireWaiters()
        XCTAssertEqual(timedOut.value, 1)
        XCTAssertEqual(controller.load.queued, 0)
    }

    func testConcurrentAdmitReleaseNeverExceedsCap() {
        let controller = AdmissionController(maxConcurrent: 3, maxQueued: 1000)
        let inFlight = Box()
        let maxSeen = Box()
        let group = DispatchGroup()
        @Sendable func work(_ permit: AdmissionPermit) {
            let n = inFlight.add(1)
            maxSeen.max(n)
            usleep(100)
            _ = inFlight.add(-1)
            controller.release(permit)
            group.leave()
        }
        DispatchQueue.concurrentPerform(iterations: 200) { _ in
            group.enter()
            switch controller.admit(onOutcome: { outcome in
                if case .started(let p) = outcome { work(p) } else { group.leave() }
            }) {
            case .started(let p): work(p)
            case .queued: break
            case .rejected: group.leave()
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        XCTAssertLessThanOrEqual(maxSeen.value ?? 0, 3)
        XCTAssertEqual(controller.load.running, 0)
    }
}

/// A thread-safe integer cell for callbacks.
final class Box: @unchecked Sendable {
    // Safe: `v` is only touched with `lock` held.
    private let lock = NSLock()
    private var v: UInt64?
    func set(_ x: UInt64) { lock.withLock { v = x } }
    var value: UInt64? { lock.withLock { v } }
    @discardableResult func add(_ d: Int) -> UInt64 {
        lock.withLock {
            v = UInt64(Int(v ?? 0) + d)
            return v!
        }
    }
    func max(_ x: UInt64) { lock.withLock { v = Swift.max(v ?? 0, x) } }
}
