import Foundation
import PlinthCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a usage journal directory and folds its events into per-minute aggregates.
///
/// Folding is idempotent: each `UsageSink.apply` stores deltas together with the cursor past the
/// events they cover, and folding resumes from the sink's stored cursor. Folds of the same
/// journal are serialised within the process (two concurrent folds would both start from the
/// same stored cursor and count its events twice); do not fold one journal from two processes.
public struct UsageJournalReader: Sendable {
    /// What one `fold` call did.
    public struct FoldReport: Sendable, Equatable {
        public var events = 0
        public var batches = 0
        /// Segments finished and passed.
        public var segmentsCompleted = 0
        /// Segments (other than the newest) that ended in an invalid record: corruption.
        public var corruptSegments: [UInt64] = []
        /// Where folding stands now.
        public var cursor: UsageCursor?
    }

    public let directory: String
    /// Key under which the sink stores this journal's cursor.
    public let journalName: String
    private let logger: Logger

    public init(directory: String, journalName: String = "gateway", logger: Logger = Logger(component: "usage-fold")) {
        self.directory = directory
        self.journalName = journalName
        self.logger = logger
    }

    /// Segment sequence numbers present, ascending.
    public func segments() throws -> [UInt64] { try JournalFormat.segments(in: directory) }

    /// Folds every event after the sink's cursor into it.
    /// - Parameters:
    ///   - limit: stop here; pass the live journal's `durablePosition` so only fsynced events are
    ///     counted (an event counted but then lost to power failure could not be re-read).
    ///   - maxEventsPerBatch: events per `apply` (one transaction each), bounding memory.
    @discardableResult
    public func fold(into sink: any UsageSink, upTo limit: UsageCursor? = nil, maxEventsPerBatch: Int = 10_000) throws
        -> FoldReport
    {
        let lock = Self.foldLock(directory: directory, journal: journalName)
        lock.lock()
        defer { lock.unlock() }
        return try foldLocked(into: sink, upTo: limit, maxEventsPerBatch: maxEventsPerBatch)
    }

    /// One lock per (directory, journal name) for the life of the process.
    private static let foldLocks = Mutex<[String: NSLock]>([:])

    private static func foldLock(directory: String, journal: String) -> NSLock {
        foldLocks.withLock { locks in
            let key = directory + "\u{0}" + journal
            if let lock = locks[key] { return lock }
            let lock = NSLock()
            locks[key] = lock
            return lock
        }
    }

    private func foldLocked(into sink: any UsageSink, upTo limit: UsageCursor?, maxEventsPerBatch: Int) throws
        -> FoldReport
    {
        var report = FoldReport()
        let all = try segments()
        var cursor = try sink.loadCursor(journal: journalName) ?? UsageCursor(segment: all.first ?? 0, offset: 0)
        let pendingSegments = all.filter { seg in seg >= cursor.segment && (limit.map { seg <= $0.segment } ?? true) }
        for segment in pendingSegments {
            let stopAt = limit?.segment == segment ? limit?.offset : nil
            let start = segment == cursor.segment ? cursor.offset : 0
            var deltas: [UsageMinuteKey: UsageTotals] = [:]
            var count = 0
            var seen = 0
            var batchEnd = start
            let scanner = JournalSegmentScanner(
                path: directory + "/" + JournalFormat.fileName(segment: segment), segment: segment)
            // Only delivered requests are billed; abandoned ones still move the cursor. A record
            // that is not final can only be a dead process's (the live limit stops before any).
            func take(_ record: JournalRecord) -> Bool {
                if record.state.afterCrash == .delivered {
                    deltas[UsageMinuteKey(record.event), default: UsageTotals()].add(record.event)
                    count += 1
                }
                seen += 1
                batchEnd = record.end
                return seen < max(1, maxEventsPerBatch)
            }
            var result = try scanner.scan(from: start, limit: stopAt, take)
            while true {
                if seen > 0 {
                    cursor = UsageCursor(segment: segment, offset: batchEnd)
                    try sink.apply(
                        UsageFoldBatch(deltas: deltas, cursor: cursor, eventCount: count), journal: journalName)
                    report.events += count
                    report.batches += 1
                }
                guard result.stop == .handlerStopped else { break }
                deltas = [:]
                count = 0
                seen = 0
                result = try scanner.scan(from: batchEnd, limit: stopAt, take)
            }
            // A segment is finished once a newer one exists (the writer never returns to it) and
            // the limit does not stop inside it.
            if stopAt == nil, let next = all.first(where: { $0 > segment }) {
                if result.stop != .end {
                    report.corruptSegments.append(segment)
                    logger.error(
                        "usage segment ends in an invalid record; rest of it skipped",
                        ["segment": .int(Int(segment)), "offset": .int(Int(result.validEnd))])
                }
                cursor = UsageCursor(segment: next, offset: 0)
                try sink.apply(UsageFoldBatch(deltas: [:], cursor: cursor, eventCount: 0), journal: journalName)
                report.segmentsCompleted += 1
            }
        }
        report.cursor = cursor
        return report
    }

    /// Deletes segments wholly before `cursor` (already folded). Returns how many were removed.
    @discardableResult
    public func removeSegments(before cursor: UsageCursor) throws -> Int {
        var removed = 0
        for segment in try segments() where segment < cursor.segment {
            let path = directory + "/" + JournalFormat.fileName(segment: segment)
            if unlink(path) == 0 { removed += 1 }
        }
        return removed
    }

    /// How long folded segments are kept, and how many bytes of them at most.
    public struct Retention: Sendable, Equatable {
        public var maxAgeSeconds: Double
        public var maxBytes: Int64
        public init(maxAgeSeconds: Double = 24 * 3600, maxBytes: Int64 = 1 << 30) {
            self.maxAgeSeconds = maxAgeSeconds
            self.maxBytes = maxBytes
        }
    }

    /// Deletes folded segments (wholly before `cursor`) last written more than `maxAgeSeconds`
    /// ago, then the oldest folded ones while they hold more than `maxBytes`. Segments not yet
    /// folded are never touched: their events are not in the store. Returns how many went.
    @discardableResult
    public func prune(before cursor: UsageCursor, retention: Retention, now: Date = Date()) throws -> Int {
        var folded: [(path: String, bytes: Int64, modified: Double)] = []
        for segment in try segments() where segment < cursor.segment {
            let path = directory + "/" + JournalFormat.fileName(segment: segment)
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            folded.append((path, Int64(info.st_size), Double(info.st_mtim.tv_sec)))
        }
        var kept = folded.reduce(Int64(0)) { $0 + $1.bytes }
        var removed = 0
        for segment in folded {  // oldest first
            let expired = now.timeIntervalSince1970 - segment.modified > retention.maxAgeSeconds
            guard expired || kept > retention.maxBytes else { continue }
            if unlink(segment.path) == 0 {
                removed += 1
                kept -= segment.bytes
            }
        }
        return removed
    }

    /// Every delivered (billed) event from `cursor` on, in order (diagnostics, billing re-exports,
    /// tests). A record left mid-send by a dead process counts as delivered, a pending one not.
    public func events(from cursor: UsageCursor = UsageCursor(segment: 0, offset: 0)) throws -> [UsageEvent] {
        try records(from: cursor).filter { $0.state.afterCrash == .delivered }.map(\.event)
    }

    /// Every valid record from `cursor` on with the state stored for it, in order.
    public func records(from cursor: UsageCursor = UsageCursor(segment: 0, offset: 0)) throws -> [UsageRecord] {
        var out: [UsageRecord] = []
        for segment in try segments() where segment >= cursor.segment {
            let scanner = JournalSegmentScanner(
                path: directory + "/" + JournalFormat.fileName(segment: segment), segment: segment)
            _ = try scanner.scan(from: segment == cursor.segment ? cursor.offset : 0) { record in
                out.append(UsageRecord(event: record.event, state: record.state))
                return true
            }
        }
        return out
    }
}

/// A journaled event and where its request stood when read.
public struct UsageRecord: Sendable, Equatable {
    public var event: UsageEvent
    public var state: UsageRecordState
}
