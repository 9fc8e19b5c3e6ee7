import Dispatch
import Foundation
import Synchronization

/// Runs a `ServedModel` behind the `BatchScheduler`: callers block in `infer` while worker
/// threads run merged batches (a caller whose batch can start at once runs it itself). The
/// scheduler decides; this class only does the I/O around it.
// @unchecked Sendable: every mutable field is read and written only with `condition` locked.
final class BatchingExecutor: @unchecked Sendable {
    /// What one request got back.
    struct Outcome: Sendable {
        /// The model's outputs, in its `outputs` order.
        var outputs: [WireTensor]
        var queueMicros: UInt64
        var computeMicros: UInt64
        /// Rows in the batch the model ran (1 when not batched with others for a 1-row request).
        var batchRows: Int
        /// Rows of this request alone (its examples; what usage counts).
        var requestRows: Int
    }

    /// A waiting request: its inputs, and where the worker leaves the outcome — a semaphore the
    /// caller blocks on, or a completion called by whichever thread ran the batch.
    // @unchecked Sendable: `outcome` is written by one worker before `done.signal()` and read
    // by the caller only after `done.wait()`, which orders the two.
    private final class Ticket: @unchecked Sendable {
        let inputs: [WireTensor]
        let rows: Int
        let arrivalMicros: UInt64
        let done: DispatchSemaphore?
        let completion: (@Sendable (Result<Outcome, InferenceError>) -> Void)?
        var outcome: Result<Outcome, InferenceError> = .failure(.unavailable)

        init(
            inputs: [WireTensor], rows: Int, arrivalMicros: UInt64,
            completion: (@Sendable (Result<Outcome, InferenceError>) -> Void)? = nil
        ) {
            self.inputs = inputs
            self.rows = rows
            self.arrivalMicros = arrivalMicros
            self.completion = completion
            done = completion == nil ? DispatchSemaphore(value: 0) : nil
        }

        /// Hands the outcome over; called once, outside the executor's lock.
        func deliver() {
            if let completion { completion(outcome) } else { done?.signal() }
        }
    }

    private let model: any ServedModel
    private let condition = NSCondition()
    private var scheduler: BatchScheduler<String>
    private var pending: [UInt64: Ticket] = [:]
    private var ready: [[Ticket]] = []
    private var wakeAtMicros: UInt64?
    private var nextID: UInt64 = 0
    private var stopping = false
    private var workersRunning = 0
    private let batching: Bool
    /// Compute time of the latest batch in µs, so callers can keep slow models off an event loop.
    private let latestCompute = Atomic<UInt64>(0)

    /// Compute time of the latest batch, µs (0 before the first).
    var latestComputeMicros: UInt64 { latestCompute.load(ordering: .relaxed) }

    init(model: any ServedModel, maxBatch: Int, maxDelayMicros: Int, concurrency: Int, maxQueued: Int = 4096) {
        self.model = model
        batching = model.acceptsBatches && maxBatch > 1
        scheduler = BatchScheduler(
            .init(
                maxBatch: batching ? maxBatch : 1, maxDelayMicros: UInt64(max(0, maxDelayMicros)),
                maxConcurrentBatches: concurrency, maxQueued: maxQueued))
        workersRunning = max(1, concurrency)
        for index in 0..<max(1, concurrency) {
            let thread = Thread { [self] in workerLoop() }
            thread.name = "plinth-batch-\(index)"
            thread.start()
        }
    }

    static func nowMicros() -> UInt64 { DispatchTime.now().uptimeNanoseconds / 1000 }

    /// Runs `inputs` (checked against the model's signature), batched with concurrent requests.
    /// Blocks until done.
    func infer(_ inputs: [WireTensor]) throws(InferenceError) -> Outcome {
        let (key, rows) = batchKey(inputs)
        let ticket = Ticket(inputs: inputs, rows: rows, arrivalMicros: Self.nowMicros())
        condition.lock()
        guard !stopping else {
            condition.unlock()
            throw .unavailable
        }
        nextID += 1
        let id = nextID
        pending[id] = ticket
        let actions = scheduler.submit(
            .init(id: id, key: key, rows: rows, arrivalMicros: ticket.arrivalMicros),
            nowMicros: ticket.arrivalMicros)
        apply(actions, signal: false)
        // When this request's batch can start now, run it on this thread: a hand-off to a worker
        // and back costs two thread wake-ups (~10 µs each) on an idle model.
        if let index = ready.firstIndex(where: { batch in batch.contains { $0 === ticket } }) {
            let batch = ready.remove(at: index)
            if !ready.isEmpty || actions.contains(where: { if case .wake = $0 { true } else { false } }) {
                condition.broadcast()
            }
            condition.unlock()
            run(batch)
            finishBatch()
            return try ticket.outcome.get()  // set by `run` on this thread
        }
        // Wake the workers only when there is something for them: a batch to run or a timer. A
        // request queued behind a running batch is started by that batch's end (`finishBatch`);
        // waking an idle worker for nothing costs a futex wake and two context switches.
        if !ready.isEmpty || actions.contains(where: { if case .wake = $0 { true } else { false } }) {
            condition.broadcast()
        }
        condition.unlock()
        ticket.done?.wait()
        return try ticket.outcome.get()
    }

    /// Queues `inputs` and returns at once: `completion` gets the outcome on the thread that ran
    /// its batch (a worker, or a blocked caller whose batch it joined). For an event loop whose
    /// request could not run inline: no thread blocks waiting, so the answer costs one worker
    /// wake-up and one post back to the loop.
    func submit(
        _ inputs: [WireTensor], completion: @escaping @Sendable (Result<Outcome, InferenceError>) -> Void
    ) {
        let (key, rows) = batchKey(inputs)
        let ticket = Ticket(inputs: inputs, rows: rows, arrivalMicros: Self.nowMicros(), completion: completion)
        condition.lock()
        guard !stopping else {
            condition.unlock()
            completion(.failure(.unavailable))
            return
        }
        nextID += 1
        let id = nextID
        pending[id] = ticket
        apply(  // wakes a worker when this starts a batch or a timer
            scheduler.submit(
                .init(id: id, key: key, rows: rows, arrivalMicros: ticket.arrivalMicros),
                nowMicros: ticket.arrivalMicros))
        condition.unlock()
    }

    /// A batch run outside a worker ended: start what waited for its slot.
    private func finishBatch() {
        condition.lock()
        apply(scheduler.batchFinished(nowMicros: Self.nowMicros()))  // wakes workers for new batches
        if stopping { condition.broadcast() }  // a stopping worker may be waiting for the last batch
        condition.unlock()
    }

    /// Stops taking requests; queued ones still run. Returns once the workers have exited.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while workersRunning > 0 { condition.wait() }
        condition.unlock()
    }

    /// Requests with equal keys can share a batch: same datatypes and non-batch dimensions
    /// (inputs are positional, so names match already), and one common first dimension across
    /// their inputs.
    private func batchKey(_ inputs: [WireTensor]) -> (String, Int) {
        let rows = inputs.first?.shape.first ?? 1
        guard batching, inputs.allSatisfy({ $0.shape.first == rows }) else {
            return ("unbatched-\(UInt64.random(in: 0...UInt64.max))", max(rows, 1))
        }
        var key = ""
        for tensor in inputs {
            key += tensor.datatype.rawValue
            for dim in tensor.shape.dropFirst() {
                key += ","
                key += String(dim)
            }
            key += "|"
        }
        return (key, rows)
    }

    /// Rows of a request as `batchKey` counts them.
    private func rowCount(_ inputs: [WireTensor]) -> Int {
        let rows = inputs.first?.shape.first ?? 1
        return batching && inputs.allSatisfy({ $0.shape.first == rows }) ? rows : max(rows, 1)
    }

    /// Applies scheduler actions; `condition` is held.
    private func apply(_ actions: [BatchScheduler<String>.Action], signal: Bool = true) {
        for action in actions {
            switch action {
            case .execute(let ids, _):
                ready.append(ids.compactMap { pending.removeValue(forKey: $0) })
                if signal { condition.broadcast() }
            case .wake(let at):
                wakeAtMicros = at
                if signal { condition.broadcast() }
            case .reject(let id):
                if let ticket = pending.removeValue(forKey: id) {
                    ticket.outcome = .failure(.overloaded)
                    if ticket.completion != nil {
                        // Not under this lock: a completion encodes and posts an answer.
                        DispatchQueue.global().async { ticket.deliver() }
                    } else {
                        ticket.deliver()
                    }
                }
            }
        }
    }

    private func workerLoop() {
        condition.lock()
        while true {
            if !ready.isEmpty {
                let batch = ready.removeFirst()
                condition.unlock()
                run(batch)
                condition.lock()
                apply(scheduler.batchFinished(nowMicros: Self.nowMicros()))
                condition.broadcast()  // a stopping worker may be waiting for the last batch
                continue
            }
            if stopping {
                if scheduler.queue.isEmpty {
                    if scheduler.running == 0 { break }
                } else {
                    // Queued requests run now rather than waiting out their delay.
                    apply(scheduler.timerFired(nowMicros: UInt64.max / 2))
                    if !ready.isEmpty { continue }
                }
                condition.wait()
                continue
            }
            if let wake = wakeAtMicros {
                let now = Self.nowMicros()
                if now >= wake {
                    wakeAtMicros = nil
                    apply(scheduler.timerFired(nowMicros: now))
                    continue
                }
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(wake - now) / 1_000_000))
                continue
            }
            condition.wait()
        }
        workersRunning -= 1
        condition.broadcast()
        condition.unlock()
    }

    private func runOne(_ inputs: [WireTensor]) -> Result<[WireTensor], InferenceError> {
        do {
            return .success(try model.run(inputs))
        } catch let error as InferenceError {
            return .failure(error)
        } catch {
            return .failure(.executionFailed("\(error)"))
        }
    }

    /// Runs one batch outside the lock and hands each ticket its outcome.
    private func run(_ tickets: [Ticket]) {
        let outcomes = compute(tickets.map(\.inputs), rows: tickets.map(\.rows), arrivals: tickets.map(\.arrivalMicros))
        for (ticket, outcome) in zip(tickets, outcomes) {
            ticket.outcome = outcome
            ticket.deliver()
        }
    }

    /// Runs requests that share a batch key as one merged model run (each alone when there is one,
    /// or when the merged run fails or cannot be split: one bad request cannot fail the others).
    private func compute(_ inputs: [[WireTensor]], rows: [Int], arrivals: [UInt64]) -> [Result<Outcome, InferenceError>] {
        let start = Self.nowMicros()
        let total = rows.reduce(0, +)
        var results: [Result<[WireTensor], InferenceError>]
        var batched = false
        if inputs.count > 1, let merged = BatchAssembler.merge(inputs), let outputs = try? model.run(merged),
            let pieces = BatchAssembler.split(outputs, rows: rows)
        {
            results = pieces.map { .success($0) }
            batched = true
        } else {
            results = inputs.map { runOne($0) }
        }
        let compute = Self.nowMicros() - start
        latestCompute.store(compute, ordering: .relaxed)
        return results.indices.map { i in
            results[i].map {
                Outcome(
                    outputs: $0, queueMicros: start - min(start, arrivals[i]), computeMicros: compute,
                    batchRows: batched ? total : rows[i], requestRows: rows[i])
            }
        }
    }

    /// The event loop's path for the requests it decoded in one round of its events (`arrivals`:
    /// when each was decoded): when nothing is queued and a slot is free (and batches start
    /// without delay), claims the slot and runs them all on this thread, consecutive requests
    /// that can share a batch merged up to `maxBatch` rows; the outcomes come back in order.
    /// Otherwise nil, with nothing submitted. A busy replica's loop sees many requests per round,
    /// so a model that reads its weights once per run (an MLP) reads them once per round.
    func inferAllIfIdle(_ requests: [[WireTensor]], arrivals: [UInt64]) -> [Result<Outcome, InferenceError>]? {
        condition.lock()
        guard !stopping else {
            condition.unlock()
            return requests.map { _ in .failure(.unavailable) }
        }
        guard ready.isEmpty, scheduler.configuration.maxDelayMicros == 0, scheduler.startAlone() else {
            condition.unlock()
            return nil
        }
        condition.unlock()
        defer { finishBatch() }
        let rows = requests.map(rowCount)
        var outcomes: [Result<Outcome, InferenceError>] = []
        outcomes.reserveCapacity(requests.count)
        var first = 0
        while first < requests.count {
            var end = first + 1
            var total = rows[first]
            if batching {
                while end < requests.count, total + rows[end] <= scheduler.configuration.maxBatch,
                    Self.mergeable(requests[first], requests[end])
                {
                    total += rows[end]
                    end += 1
                }
            }
            outcomes += compute(Array(requests[first..<end]), rows: Array(rows[first..<end]), arrivals: Array(arrivals[first..<end]))
            first = end
        }
        return outcomes
    }

    /// Whether two requests have equal batch keys (`batchKey`), without building the keys.
    private static func mergeable(_ a: [WireTensor], _ b: [WireTensor]) -> Bool {
        guard a.count == b.count, let rowsA = a.first?.shape.first, let rowsB = b.first?.shape.first else { return false }
        for (x, y) in zip(a, b) {
            guard x.datatype == y.datatype, x.shape.count == y.shape.count, x.shape.first == rowsA,
                y.shape.first == rowsB, x.shape.dropFirst() == y.shape.dropFirst()
            else { return false }
        }
        return true
    }
}
