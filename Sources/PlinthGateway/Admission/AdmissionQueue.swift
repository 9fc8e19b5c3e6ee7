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
    private var waiting: [(ticket: UInt64, enqueuedAt: UInt64, waiter: Waiter, affinity: Int, bypassed: Int)] = []
    /// How far past the head `finish(preferring:)` looks, and how often the head may be passed.
    public static var affinityWindow: Int { 8 }
    public static var maxBypass: Int { 4 }
    private var head = 0
    private var nextTicket: UInt64 = 1

    public init(maxConcurrent: Int, maxQueued: Int) {
        self.maxConcurrent = max(1, maxConcurrent)
        self.maxQueued = max(0, maxQueued)
    }

    /// Requests waiting for a slot.
    public var queued: Int { waiting.count - head }

    /// A request arrives at `now`.
    /// `affinity` tags the waiter (an event loop's number, say) for `finish(preferring:)`.
    public mutating func arrive(_ waiter: Waiter, now: UInt64, affinity: Int = -1) -> Arrival {
        if running < maxConcurrent && queued == 0 {
            running += 1
            return .run
        }
        guard queued < maxQueued else { return .rejected }
        let ticket = nextTicket
        nextTicket += 1
        waiting.append((ticket, now, waiter, affinity, 0))
        return .queued(ticket: ticket)
    }

    /// A running request finished. Returns the waiter that now takes its slot (with the time it
    /// was queued), or nil when the slot is simply freed.
    /// With `preferring` ≥ 0, a waiter with that affinity among the first `affinityWindow` goes
    /// ahead of the head (the slot's thread continues it without a hand-off to another thread);
    /// the head is passed at most `maxBypass` times, so nobody waits long for it.
    public mutating func finish(preferring affinity: Int = -1) -> (waiter: Waiter, enqueuedAt: UInt64)? {
        precondition(running > 0, "finish without a running request")
        if running <= maxConcurrent {
            if affinity >= 0, let next = popPreferred(affinity) { return next }
            if let next = popFront() { return next }
        }
        running -= 1
        return nil
    }

    private mutating func popPreferred(_ affinity: Int) -> (waiter: Waiter, enqueuedAt: UInt64)? {
        guard head < waiting.count, waiting[head].affinity != affinity,
            waiting[head].bypassed < Self.maxBypass
        else { return nil }
        let end = min(waiting.count, head + Self.affinityWindow)
        var i = head + 1
        while i < end {
            if waiting[i].affinity == affinity {
                waiting[head].bypassed += 1
                let entry = waiting.remove(at: i)
                return (entry.waiter, entry.enqueuedAt)
            }
            i += 1
        }
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
