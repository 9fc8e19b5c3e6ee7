import Foundation
import PlinthCore
import Synchronization

/// Writes sampled request/response pairs off the request path: `offer` only appends to a bounded
/// queue (full → the record is dropped and counted, the caller never waits); one thread encodes
/// and appends records to the deployment's JSONL files and enforces retention (see
/// `PayloadStore`).
final class PayloadRecorder: Sendable {
    private struct State: Sendable {
        var records: [PayloadRecord] = []
        var head = 0
        var bytes = 0
        var stopped = false
        var started = false
        var queued: Int { records.count - head }
    }

    let root: String
    private let capacity: Int
    private let maxQueuedBytes: Int
    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)
    private let store: PayloadStore
    private let written: Counter
    private let dropped: Counter
    private let failed: Counter
    /// Records taken off the queue (written or failed), for tests that wait on the recorder.
    private let finished = Atomic<Int>(0)

    /// - Parameters:
    ///   - root: `<data>/payloads`; created (0700) on the first record.
    ///   - capacity, maxQueuedBytes: bounds of the queue (records, and their body bytes).
    init(root: String, capacity: Int, maxQueuedBytes: Int, metrics: MetricsRegistry) {
        self.root = root
        self.capacity = max(1, capacity)
        self.maxQueuedBytes = max(1 << 16, maxQueuedBytes)
        self.store = PayloadStore(root: root)
        let outcomes = metrics.counter(
            "plinth_gateway_payload_records_total",
            help: "Sampled request/response pairs by outcome (written, dropped when the queue was full, failed).",
            labels: ["outcome"])
        written = outcomes.labels("written")
        dropped = outcomes.labels("dropped")
        failed = outcomes.labels("failed")
    }

    /// Starts the writer thread once; it also sweeps retention every minute, also while idle.
    func start() {
        let first = state.withLock { s -> Bool in
            defer { s.started = true }
            return !s.started
        }
        guard first else { return }
        let thread = Thread { [self] in run() }
        thread.name = "plinth-payloads"
        thread.start()
    }

    /// Queues a record; never blocks. Returns false (and counts a drop) when the queue is full.
    @discardableResult
    func offer(_ record: PayloadRecord) -> Bool {
        let size = record.queuedBytes
        let accepted = state.withLock { s -> Bool in
            guard !s.stopped, s.queued < capacity, s.bytes + size <= maxQueuedBytes else { return false }
            s.records.append(record)
            s.bytes += size
            return true
        }
        if accepted {
            available.signal()
        } else {
            dropped.inc()
        }
        return accepted
    }

    /// Writes what is queued, then stops the thread. Idempotent.
    func stop() {
        let wake = state.withLock { s -> Bool in
            defer { s.stopped = true }
            return !s.stopped
        }
        if wake { available.signal() }
    }

    var completedCount: Int { finished.load(ordering: .relaxed) }

    private func run() {
        var lastSweep = Date.distantPast
        while true {
            _ = available.wait(timeout: .now() + .seconds(30))
            let (batch, stopped) = state.withLock { s -> ([PayloadRecord], Bool) in
                let batch = Array(s.records[s.head...])
                s.records.removeAll(keepingCapacity: s.records.capacity <= 1024)
                s.head = 0
                s.bytes = 0
                return (batch, s.stopped)
            }
            for record in batch {
                if store.append(record) { written.inc() } else { failed.inc() }
                finished.wrappingAdd(1, ordering: .relaxed)
            }
            let now = Date()
            if now.timeIntervalSince(lastSweep) >= 60 {
                lastSweep = now
                store.sweep(now: now)
            }
            if stopped {
                store.closeAll()
                return
            }
        }
    }
}
