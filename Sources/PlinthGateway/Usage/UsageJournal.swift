import Foundation
import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

/// The gateway's append-only usage journal: two-phase records in mapped segments, group commit.
///
/// A metered request is appended **pending** before its response is handed to the socket
/// (`appendPending`); the returned `UsageTicket` then records what the HTTP server reports: the
/// response was fully handed to the kernel (**delivered**, billed) or never was (**abandoned**).
/// Segments are preallocated files mapped `MAP_SHARED`, so an append or a state change is a store
/// into the page cache: it survives `kill -9` of the process, and costs no system call.
///
/// A flusher thread finds how far records are final, then `msync`s, every `flushInterval` (10 ms)
/// or as soon as `flushEvery` events are waiting; `durablePosition` — the folding limit — only
/// moves past records that are final and on disk. On power loss what can be lost is the records
/// finalized after the start of the last completed sync: at most one flush interval plus one sync
/// of them (see docs/gateway.md).
///
/// On open the journal recovers the newest segment: pending records of the dead process become
/// abandoned, those caught mid-send delivered, a torn tail is cut. A segment is never appended
/// to again after its process ends.
///
/// `@unchecked Sendable` is safe: all mutable state is touched only with `condition` locked, except
/// the flusher's own `creationSynced`.
public final class UsageJournal: @unchecked Sendable {
    /// Tuning knobs.
    public struct Options: Sendable {
        /// Longest time a finalized event waits for its sync.
        public var flushInterval: Duration = .milliseconds(10)
        /// Waiting events that trigger a sync at once.
        public var flushEvery: Int = 512
        /// Bytes preallocated per segment; a new segment starts when a record no longer fits.
        public var maxSegmentBytes: Int64 = 16 << 20

        public init(
            flushInterval: Duration = .milliseconds(10), flushEvery: Int = 512, maxSegmentBytes: Int64 = 16 << 20
        ) {
            self.flushInterval = flushInterval
            self.flushEvery = max(1, flushEvery)
            self.maxSegmentBytes = max(JournalFormat.headerSize + 64, maxSegmentBytes)
        }
    }

    /// What recovery found when the journal was opened.
    public struct Recovery: Sendable, Equatable {
        /// Segments already present.
        public var existingSegments: Int
        /// Bytes cut from the end of the newest segment after its last valid record (a torn
        /// record, or preallocated space a crashed process never used).
        public var truncatedBytes: Int64
        /// Segment files with a torn header that were removed.
        public var removedSegments: Int
        /// Pending records of the dead process, now abandoned (their responses never went out).
        public var abandonedRecords: Int = 0
        /// Records caught mid-send, now delivered.
        public var deliveredRecords: Int = 0
    }

    public let directory: String
    public let options: Options
    public let recovery: Recovery
    let logger: Logger
    let condition = NSCondition()
    let flusherDone = DispatchSemaphore(value: 0)

    // State below: only with `condition` locked (internal for the +flusher extension only).
    var current: JournalSegment
    /// Where the current segment's records end.
    var written: Int
    /// Older segments the durable position has not passed yet, and where their records end.
    var retired: [(segment: JournalSegment, end: Int)] = []
    var appended: UInt64 = 0
    var durableCount: UInt64 = 0
    var durable: UsageCursor
    var flushRequested = false
    /// Sync cycles begun and completed (a `flush` waits for one begun after it).
    var cyclesStarted: UInt64 = 0
    var cyclesDone: UInt64 = 0
    var closed = false
    var failure: JournalError?
    /// Holds an exclusive `flock` on `<directory>/LOCK` while open: one writer per journal.
    let lockFD: Int32
    /// Newest segment whose creation (file, size, directory entry) is on disk: flusher only.
    var creationSynced: UInt64

    /// Opens (creating) the journal in `directory`, recovers it, and starts the flusher thread.
    public init(directory: String, options: Options = Options(), logger: Logger = Logger(component: "usage-journal"))
        throws
    {
        self.directory = directory
        self.options = options
        self.logger = logger
        // Usage names tenants and keys: the directory is private to the service user.
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        lockFD = try Self.lockDirectory(directory)
        let (recovery, last): (Recovery, UInt64?)
        do {
            (recovery, last) = try Self.recover(directory: directory, logger: logger)
            current = try JournalSegment.create(
                directory: directory, sequence: (last ?? 0) + 1, capacity: Int(options.maxSegmentBytes))
            try current.syncAll()
            try Syscall.syncDirectory(directory)
        } catch {
            Glibc.close(lockFD)
            throw error
        }
        self.recovery = recovery
        creationSynced = current.sequence
        written = Int(JournalFormat.headerSize)
        durable = UsageCursor(segment: current.sequence, offset: JournalFormat.headerSize)
        let thread = Thread { [self] in flushLoop() }
        thread.name = "usage-journal-flusher"
        thread.start()
    }

    deinit {
        if !closed { close() }
    }

    /// Appends one event that is final already (delivered: nothing is waiting on a response,
    /// e.g. a shadow request) and returns the position just past it.
    @discardableResult
    public func append(_ event: UsageEvent) throws -> UsageCursor {
        let (segment, offset, size) = try appendRecord(event, state: .delivered)
        return UsageCursor(segment: segment.sequence, offset: Int64(offset + size))
    }

    /// Appends one event as pending, before its response goes out; the ticket records its fate.
    /// Until then the record holds back `durablePosition` (and so folding) behind it.
    public func appendPending(_ event: UsageEvent) throws -> UsageTicket {
        let (segment, offset, size) = try appendRecord(event, state: .pending)
        return UsageTicket(segment: segment, offset: offset, size: size)
    }

    private func appendRecord(_ event: UsageEvent, state: UsageRecordState) throws -> (JournalSegment, Int, Int) {
        let record = try JournalFormat.record(event)
        let size = record.bytes.count
        condition.lock()
        defer { condition.unlock() }
        if closed { throw JournalError.closed }
        if let failure { throw failure }
        if written + size > current.capacity { try rotateLocked(fitting: size) }
        let segment = current
        let offset = written
        segment.write(record, at: offset, state: state)
        written += size
        appended += 1
        // Wake the flusher for the first waiting event (it starts the interval) and a full group.
        let waiting = appended &- durableCount
        if waiting == 1 || waiting >= UInt64(options.flushEvery) { condition.broadcast() }
        return (segment, offset, size)
    }

    /// Starts the next segment, inline: a record no longer fits the current one.
    private func rotateLocked(fitting size: Int) throws(JournalError) {
        let capacity = max(Int(options.maxSegmentBytes), Int(JournalFormat.headerSize) + size)
        do {
            let next = try JournalSegment.create(
                directory: directory, sequence: current.sequence + 1, capacity: capacity)
            retired.append((current, written))
            current = next
            written = Int(JournalFormat.headerSize)
        } catch {
            failure = error
            logger.error("usage journal rotation failed; metering stopped", ["error": .string("\(error)")])
            condition.broadcast()
            throw error
        }
    }

    /// Everything before this position is final and synced; folding live stops here.
    public var durablePosition: UsageCursor {
        condition.lock()
        defer { condition.unlock() }
        return durable
    }

    /// Blocks until every event appended, and every state recorded, before the call is synced.
    public func flush() throws {
        condition.lock()
        defer { condition.unlock() }
        let cycle = cyclesStarted + 1
        flushRequested = true
        condition.broadcast()
        while cyclesDone < cycle {
            if let failure { throw failure }
            if closed { throw JournalError.closed }
            condition.wait()
        }
    }

    /// Syncs, seals the segments (cutting their unused preallocated space), stops the flusher.
    /// Later appends throw `.closed`. Always call it: the flusher thread keeps the journal alive
    /// until then. Records still pending stay so; the next open abandons them.
    public func close() {
        condition.lock()
        if closed {
            condition.unlock()
            return
        }
        closed = true
        condition.broadcast()
        condition.unlock()
        flusherDone.wait()
    }

    func segmentPath(_ segment: UInt64) -> String { directory + "/" + JournalFormat.fileName(segment: segment) }

    /// Takes the journal's writer lock; a second writer (another process, or another
    /// `UsageJournal` on the same directory) fails with `EWOULDBLOCK`.
    static func lockDirectory(_ directory: String) throws -> Int32 {
        let path = directory + "/LOCK"
        let fd = try Syscall.check("open", path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        do {
            _ = try Syscall.check("flock", path) { flock(fd, LOCK_EX | LOCK_NB) }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return fd
    }
}

/// One pending journal record, owned by the request it meters. Mark it `sending` right before
/// the send that may complete the response, back to `pending` if that send fell short, and
/// finally `delivered` or `abandoned` — once; a final state is never changed again.
public struct UsageTicket: Sendable {
    let segment: JournalSegment
    let offset: Int
    let size: Int

    /// Where the record ends in the journal.
    public var position: UsageCursor { UsageCursor(segment: segment.sequence, offset: Int64(offset + size)) }

    /// Records the request's state: a single store into the mapped segment.
    public func mark(_ state: UsageRecordState) { segment.setState(state, at: offset) }

    /// The state last recorded.
    public var state: UsageRecordState? { segment.state(at: offset) }
}
