/// Dynamic batching as a state machine: events in, actions out, no threads or clocks inside
/// (time is passed in, in microseconds from any monotonic origin).
///
/// Queued requests with the same `key` (same input names, datatypes and non-batch dimensions)
/// are merged along dimension 0, oldest first, up to `maxBatch` rows. A batch starts when it is
/// full or when its oldest request has waited `maxDelayMicros`; at most `maxConcurrentBatches`
/// run at once. Requests with other keys wait their turn and run as their own batches.
struct BatchScheduler<Key: Hashable & Sendable>: Sendable {
    struct Configuration: Sendable, Equatable {
        var maxBatch: Int
        var maxDelayMicros: UInt64
        var maxConcurrentBatches: Int
        /// Requests waiting beyond this are refused (backpressure).
        var maxQueued: Int

        init(maxBatch: Int, maxDelayMicros: UInt64, maxConcurrentBatches: Int = 1, maxQueued: Int = 4096) {
            self.maxBatch = max(1, maxBatch)
            self.maxDelayMicros = maxDelayMicros
            self.maxConcurrentBatches = max(1, maxConcurrentBatches)
            self.maxQueued = max(1, maxQueued)
        }
    }

    /// A request as the scheduler sees it.
    struct Request: Sendable, Equatable {
        var id: UInt64
        var key: Key
        /// Size of dimension 0 of its inputs.
        var rows: Int
        var arrivalMicros: UInt64
    }

    enum Action: Sendable, Equatable {
        /// Run these requests as one batch of `rows` rows, in this order.
        case execute(ids: [UInt64], rows: Int)
        /// Deliver `timerFired` at this time (replaces any earlier wake-up).
        case wake(atMicros: UInt64)
        /// The queue is full: answer this request with an overload error.
        case reject(id: UInt64)
    }

    let configuration: Configuration
    private(set) var queue: [Request] = []
    private(set) var running = 0

    init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    mutating func submit(_ request: Request, nowMicros: UInt64) -> [Action] {
        if queue.count >= configuration.maxQueued { return [.reject(id: request.id)] }
        queue.append(request)
        return schedule(nowMicros: nowMicros)
    }

    /// Claims a slot for a request run at once outside the queue (end it with `batchFinished`):
    /// only when nothing is queued, so it never overtakes a waiting request.
    mutating func startAlone() -> Bool {
        guard queue.isEmpty, running < configuration.maxConcurrentBatches else { return false }
        running += 1
        return true
    }

    mutating func timerFired(nowMicros: UInt64) -> [Action] {
        schedule(nowMicros: nowMicros)
    }

    mutating func batchFinished(nowMicros: UInt64) -> [Action] {
        precondition(running > 0, "batchFinished without a running batch")
        running -= 1
        return schedule(nowMicros: nowMicros)
    }

    private mutating func schedule(nowMicros: UInt64) -> [Action] {
        var actions: [Action] = []
        while running < configuration.maxConcurrentBatches, let head = queue.first {
            var chosen = [0]
            var rows = head.rows
            if rows < configuration.maxBatch {
                for index in queue.indices.dropFirst() where queue[index].key == head.key {
                    guard rows + queue[index].rows <= configuration.maxBatch else { continue }
                    chosen.append(index)
                    rows += queue[index].rows
                    if rows == configuration.maxBatch { break }
                }
            }
            let deadline = head.arrivalMicros &+ configuration.maxDelayMicros
            guard rows >= configuration.maxBatch || nowMicros >= deadline else {
                actions.append(.wake(atMicros: deadline))
                break
            }
            let ids = chosen.map { queue[$0].id }
            for index in chosen.reversed() { queue.remove(at: index) }
            running += 1
            actions.append(.execute(ids: ids, rows: rows))
        }
        return actions
    }
}
