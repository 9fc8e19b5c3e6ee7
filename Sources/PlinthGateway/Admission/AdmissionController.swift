import Synchronization

/// A slot held by a running request; give it back with `AdmissionController.release`.
public struct AdmissionPermit: Sendable {
    /// When the request got its slot (monotonic ns).
    public let startedAt: UInt64
    /// Time it waited in the queue, for the usage event's queue µs.
    public let queuedNanos: UInt64
}

/// What happened to a request asking for a slot.
public enum AdmissionDecision: Sendable {
    /// Run now.
    case started(AdmissionPermit)
    /// Waiting; the callback given to `admit` will be called once with the outcome.
    case queued(ticket: UInt64)
    /// Queue full: answer 503 with this `Retry-After`.
    case rejected(retryAfterSeconds: Int)
}

/// The outcome delivered to a queued request's callback.
public enum AdmissionOutcome: Sendable {
    case started(AdmissionPermit)
    /// Waited longer than `maxQueueWait`: answer 503 with this `Retry-After`.
    case timedOut(retryAfterSeconds: Int)
}

/// Concurrency cap and bounded FIFO queue for one deployment, thread-safe.
///
/// Callbacks run on the thread that frees the slot (or calls `admit`/`release` when a timeout
/// is found), after the lock is released; hand work to your own loop if that matters.
public final class AdmissionController: Sendable {
    public typealias Callback = @Sendable (AdmissionOutcome) -> Void

    private struct State: ~Copyable {
        var queue: AdmissionQueue<Callback>
        /// Exponentially weighted mean service time in ns, for Retry-After estimates.
        var meanServiceNanos: Double = 0
    }

    private let state: Mutex<State>
    private let clock: NanosecondClock
    private let maxQueueWait: UInt64

    /// - Parameters:
    ///   - maxQueueWait: a queued request waiting longer is timed out (checked on every admit
    ///     and release, and by `expireWaiters()`).
    public init(
        maxConcurrent: Int, maxQueued: Int, maxQueueWait: Duration = .seconds(30),
        clock: @escaping NanosecondClock = MonotonicClock.now
    ) {
        state = Mutex(State(queue: AdmissionQueue(maxConcurrent: maxConcurrent, maxQueued: maxQueued)))
        self.clock = clock
        let c = maxQueueWait.components
        self.maxQueueWait = UInt64(max(0, c.seconds)) * 1_000_000_000 + UInt64(max(0, c.attoseconds) / 1_000_000_000)
    }

    /// Asks for a slot. For `.queued`, `onOutcome` is called exactly once later.
    /// `affinity` (an event loop's number, or -1) lets a `release` with the same affinity start
    /// this request ahead of a few others, so it continues on the releasing thread.
    public func admit(affinity: Int = -1, onOutcome: @escaping Callback) -> AdmissionDecision {
        let now = clock()
        let (decision, expired, retry) = state.withLock { state -> (AdmissionDecision, [Callback], Int) in
            let expired = expireLocked(&state, now: now)
            let retry = Self.retryAfter(state)
            switch state.queue.arrive(onOutcome, now: now, affinity: affinity) {
            case .run: return (.started(AdmissionPermit(startedAt: now, queuedNanos: 0)), expired, retry)
            case .queued(let ticket): return (.queued(ticket: ticket), expired, retry)
            case .rejected: return (.rejected(retryAfterSeconds: retry), expired, retry)
            }
        }
        for callback in expired { callback(.timedOut(retryAfterSeconds: retry)) }
        return decision
    }

    /// Gives a slot back; starts the next queued request, if any.
    public func release(_ permit: AdmissionPermit, affinity: Int = -1) {
        let now = clock()
        let (next, expired, retry) = state.withLock { state -> ((Callback, UInt64)?, [Callback], Int) in
            let service = Double(now &- permit.startedAt)
            state.meanServiceNanos =
                state.meanServiceNanos == 0 ? service : state.meanServiceNanos * 0.9 + service * 0.1
            let expired = expireLocked(&state, now: now)
            return (state.queue.finish(preferring: affinity), expired, Self.retryAfter(state))
        }
        for callback in expired { callback(.timedOut(retryAfterSeconds: retry)) }
        if let (callback, enqueuedAt) = next {
            callback(.started(AdmissionPermit(startedAt: now, queuedNanos: now &- enqueuedAt)))
        }
    }

    /// Withdraws a queued request (client disconnected). True if it was still queued; its
    /// callback is then never called.
    public func cancel(ticket: UInt64) -> Bool {
        state.withLock { $0.queue.cancel(ticket: ticket) != nil }
    }

    /// Times out requests queued longer than `maxQueueWait`; call periodically when idle.
    public func expireWaiters() {
        let now = clock()
        let (expired, retry) = state.withLock { state in (expireLocked(&state, now: now), Self.retryAfter(state)) }
        for callback in expired { callback(.timedOut(retryAfterSeconds: retry)) }
    }

    /// Changes the caps (deployment scaled); may start queued requests.
    public func update(maxConcurrent: Int, maxQueued: Int) {
        let now = clock()
        let started = state.withLock { $0.queue.update(maxConcurrent: maxConcurrent, maxQueued: maxQueued) }
        for (callback, enqueuedAt) in started {
            callback(.started(AdmissionPermit(startedAt: now, queuedNanos: now &- enqueuedAt)))
        }
    }

    /// Running and queued counts, for metrics.
    public var load: (running: Int, queued: Int) { state.withLock { ($0.queue.running, $0.queue.queued) } }

    private func expireLocked(_ state: inout State, now: UInt64) -> [Callback] {
        guard now > maxQueueWait else { return [] }
        return state.queue.expire(enqueuedBefore: now - maxQueueWait)
    }

    /// Time for the queue ahead to drain through the slots, in whole seconds (≥ 1).
    private static func retryAfter(_ state: borrowing State) -> Int {
        let ahead = Double(state.queue.queued + state.queue.running)
        let seconds = ahead / Double(state.queue.maxConcurrent) * state.meanServiceNanos / 1e9
        return max(1, Int(seconds.rounded(.up)))
    }
}
