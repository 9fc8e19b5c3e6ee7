/// The admission state of one deployment as a plain value: at most `maxConcurrent` requests run,
/// at most `maxQueued` wait in FIFO order, the rest are rejected. Methods take an event and say
/// what to do; the caller does the I/O.
public struct AdmissionQueue<Waiter> {
    /// What to do with an arriving request.
    public enum Arrival {
        case run
        case queued(ticket: UInt64)
        case rejected
    }

    public private(set) var maxConcurrent: Int
    public private(set) var maxQueued: Int
    /// Requests holding a slot.
    public private(set) var running = 0
    private var waiting: [(ticket: UInt64, enqueuedAt: UInt64, waiter: Waiter)] = []
    private var head = 0
    private var nextTicket: UInt64 = 1

    public init(maxConcurrent: Int, maxQueued: Int) {
        self.maxConcurrent = max(1, maxConcurrent)
        self.maxQueued = max(0, maxQueued)
    }

    /// Requests waiting for a slot.
    public var queued: Int { waiting.count - head }

    /// A request arrives at `now`.
    public mutating func arrive(_ waiter: Waiter, now: UInt64) -> Arrival {
        if running < maxConcurrent && queued == 0 {
            running += 1
            return .run
        }
        guard queued < maxQueued else { return .rejected }
        let ticket = nextTicket
        nextTicket += 1
        waiting.append((ticket, now, waiter))
        return .queued(ticket: ticket)
    }

    /// A running request finished. Returns the waiter that now takes its slot (with the time it
    /// was queued), or nil when the slot is simply freed.
    public mutating func finish() -> (waiter: Waiter, enqueuedAt: UInt64)? {
        precondition(running > 0, "finish without a running request")
        if running <= maxConcurrent, let next = popFront() { return next }
        running -= 1
        return nil
    }

    /// Removes a waiter that gave up (client gone). Nil if it is no longer queued.
    public mutating func cancel(ticket: UInt64) -> Waiter? {
        guard let i = waiting[head...].firstIndex(where: { $0.ticket == ticket }) else { return nil }
        let entry = waiting.remove(at: i)
        return entry.waiter
    }

    /// Removes waiters queued at or before `deadline` (oldest first): they timed out.
    public mutating func expire(enqueuedBefore deadline: UInt64) -> [Waiter] {
        var out: [Waiter] = []
        while head < waiting.count, waiting[head].enqueuedAt <= deadline {
            if let entry = popFront() { out.append(entry.waiter) }
        }
        return out
    }

    /// Changes the caps; a lower concurrency takes effect as running requests finish.
    /// Returns waiters that may start now (a higher concurrency).
    public mutating func update(maxConcurrent: Int, maxQueued: Int) -> [(waiter: Waiter, enqueuedAt: UInt64)] {
        self.maxConcurrent = max(1, maxConcurrent)
        self.maxQueued = max(0, maxQueued)
        var started: [(waiter: Waiter, enqueuedAt: UInt64)] = []
        while running < self.maxConcurrent, let next = popFront() {
            running += 1
            started.append(next)
        }
        return started
    }

    private mutating func popFront() -> (waiter: Waiter, enqueuedAt: UInt64)? {
        guard head < waiting.count else { return nil }
        let entry = waiting[head]
        head += 1
        // Compact once the consumed prefix dominates, keeping pops O(1) amortised.
        if head > 32 && head * 2 > waiting.count {
            waiting.removeFirst(head)
            head = 0
        }
        return (entry.waiter, entry.enqueuedAt)
    }
}
