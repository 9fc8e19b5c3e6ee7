import Dispatch
import Synchronization

/// A deployment's concurrency cap with a bounded FIFO queue behind it.
///
/// `admit` returns at once when a slot is free, queues (blocking the handler thread) while the
/// queue has room, and answers `.full` when it has none. A released slot is handed straight to the
/// oldest waiter, so a burst cannot overtake the queue.
final class ConcurrencyGate: Sendable {
    enum Admission: Sendable, Equatable { case admitted, full, timedOut }

    private final class Waiter: Sendable {
        let semaphore = DispatchSemaphore(value: 0)
    }

    private struct State: Sendable {
        var active = 0
        var waiters: [Waiter] = []
        var head = 0
        var queued: Int { waiters.count - head }
    }

    let capacity: Int
    let queueCapacity: Int
    private let state = Mutex(State())

    init(capacity: Int, queueCapacity: Int) {
        self.capacity = max(1, capacity)
        self.queueCapacity = max(0, queueCapacity)
    }

    /// Waits for a slot until `deadline` (monotonic nanoseconds). Pair `.admitted` with `release()`.
    func admit(deadline: UInt64) -> Admission {
        enum Entry { case admitted, full, queued(Waiter) }
        let entry: Entry = state.withLock { s in
            if s.active < capacity, s.queued == 0 {
                s.active += 1
                return .admitted
            }
            guard s.queued < queueCapacity else { return .full }
            let w = Waiter()
            s.waiters.append(w)
            return .queued(w)
        }
        let waiter: Waiter
        switch entry {
        case .admitted: return .admitted
        case .full: return .full
        case .queued(let w): waiter = w
        }
        let now = GatewayClock.now()
        let wait = deadline > now ? deadline - now : 0
        if waiter.semaphore.wait(timeout: .now() + .nanoseconds(Int(min(wait, UInt64(Int.max))))) == .success {
            return .admitted
        }
        // Timed out: leave the queue, unless a slot was handed over meanwhile.
        let removed = state.withLock { s -> Bool in
            guard let index = s.waiters[s.head...].firstIndex(where: { $0 === waiter }) else { return false }
            s.waiters.remove(at: index)
            return true
        }
        if removed { return .timedOut }
        // A slot was handed over just as the wait ended: take it.
        waiter.semaphore.wait()
        return .admitted
    }

    /// Frees a slot: hands it to the oldest waiter, if any.
    func release() {
        let next: Waiter? = state.withLock { s in
            if s.queued > 0 {
                let w = s.waiters[s.head]
                s.head += 1
                if s.head > 64, s.head * 2 > s.waiters.count {
                    s.waiters.removeFirst(s.head)
                    s.head = 0
                }
                return w
            }
            s.active = max(0, s.active - 1)
            return nil
        }
        next?.semaphore.signal()
    }

    /// Requests admitted and waiting (metrics, tests).
    var load: (active: Int, queued: Int) {
        state.withLock { ($0.active, $0.queued) }
    }
}
