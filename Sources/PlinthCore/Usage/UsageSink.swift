/// A position in a usage journal: everything before it has been folded.
public struct UsageCursor: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Segment sequence number.
    public var segment: UInt64
    /// Byte offset inside that segment.
    public var offset: Int64

    public init(segment: UInt64, offset: Int64) {
        self.segment = segment
        self.offset = offset
    }

    public static func < (a: UsageCursor, b: UsageCursor) -> Bool {
        (a.segment, a.offset) < (b.segment, b.offset)
    }

    public var description: String { "\(segment):\(offset)" }
}

/// One step of folding: per-minute deltas plus the cursor just past the events they cover.
public struct UsageFoldBatch: Sendable {
    /// Totals to add to the stored per-minute rows.
    public var deltas: [UsageMinuteKey: UsageTotals]
    /// Where folding stands once these deltas are stored.
    public var cursor: UsageCursor
    /// Number of events the deltas cover.
    public var eventCount: Int

    public init(deltas: [UsageMinuteKey: UsageTotals], cursor: UsageCursor, eventCount: Int) {
        self.deltas = deltas
        self.cursor = cursor
        self.eventCount = eventCount
    }
}

/// Where usage aggregates live (the control plane implements it over SQLite).
///
/// Exactly-once folding rests on one rule: `apply` stores the deltas **and** the cursor in one
/// atomic transaction. Then a crash before the commit re-folds the same events from the old
/// cursor, and a crash after it starts past them; nothing is counted twice or lost.
public protocol UsageSink {
    /// The cursor stored by the last successful `apply` for `journal`, nil if none.
    func loadCursor(journal: String) throws -> UsageCursor?
    /// Adds `batch.deltas` to the per-minute totals and stores `batch.cursor` for `journal`,
    /// atomically.
    func apply(_ batch: UsageFoldBatch, journal: String) throws
}
