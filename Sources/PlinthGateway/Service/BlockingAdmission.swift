import Dispatch
import Synchronization

/// Blocks a handler thread on a deployment's `AdmissionController` until it gets a slot, the
/// queue is full, or the deadline passes.
enum BlockingAdmission {
    enum Result: Sendable {
        case admitted(AdmissionPermit)
        /// Queue full, or waited past the deadline: 503 with this Retry-After.
        case overloaded(retryAfterSeconds: Int)
    }

    /// Where a queued request's outcome lands; the semaphore wakes the waiting thread.
    private final class Mailbox: Sendable {
        let semaphore = DispatchSemaphore(value: 0)
        let outcome = Mutex<AdmissionOutcome?>(nil)
    }

    /// `queueGauge` goes up while this request waits in the queue.
    static func admit(_ controller: AdmissionController, deadline: UInt64, queueGauge: Gauge? = nil) -> Result {
        let mailbox = Mailbox()
        let decision = controller.admit { outcome in
            mailbox.outcome.withLock { $0 = outcome }
            mailbox.semaphore.signal()
        }
        let ticket: UInt64
        switch decision {
        case .started(let permit): return .admitted(permit)
        case .rejected(let retry): return .overloaded(retryAfterSeconds: retry)
        case .queued(let t): ticket = t
        }
        queueGauge?.inc()
        defer { queueGauge?.dec() }
        let now = GatewayClock.now()
        let wait = deadline > now ? deadline - now : 0
        let timeout = DispatchTime.now() + .nanoseconds(Int(min(wait, UInt64(Int.max / 2))))
        if mailbox.semaphore.wait(timeout: timeout) == .timedOut {
            if controller.cancel(ticket: ticket) { return .overloaded(retryAfterSeconds: 1) }
            // The outcome is being delivered right now: take it.
            mailbox.semaphore.wait()
        }
        switch mailbox.outcome.withLock({ $0 }) {
        case .started(let permit): return .admitted(permit)
        case .timedOut(let retry): return .overloaded(retryAfterSeconds: retry)
        case nil: return .overloaded(retryAfterSeconds: 1)
        }
    }
}
