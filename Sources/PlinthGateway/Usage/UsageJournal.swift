import Foundation
import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

/// The gateway's append-only usage journal with group commit.
///
/// `append` `write()`s the record to the current segment before returning, so a process crash
/// (even `kill -9`) loses nothing appended: the bytes are in the kernel's page cache. A dedicated
/// flusher thread `fdatasync`s every `flushInterval` (2 ms) or as soon as `flushEvery` events are
/// pending. On power loss, what can be lost is exactly the events appended after the start of the
/// last completed `fdatasync` — at most one flush interval plus one fsync of events.
///
/// On open the journal recovers: it truncates a torn tail of the newest segment and starts a new
/// segment; existing segments are never appended to again.
///
/// `@unchecked Sendable` is safe: all mutable state is touched only with `condition` locked. Only
/// the flusher thread closes file descriptors, and never one that `append` may still write to.
public final class UsageJournal: @unchecked Sendable {
    /// Tuning knobs.
    public struct Options: Sendable {
        /// Longest time an appended event waits for its fsync.
        public var flushInterval: Duration = .milliseconds(2)
        /// Pending events that trigger a flush at once.
        public var flushEvery: Int = 512
        /// A segment is rotated once it grows past this many bytes.
        public var maxSegmentBytes: Int64 = 64 << 20

        public init(
            flushInterval: Duration = .milliseconds(2), flushEvery: Int = 512, maxSegmentBytes: Int64 = 64 << 20
        ) {
            self.flushInterval = flushInterval
            self.flushEvery = max(1, flushEvery)
            self.maxSegmentBytes = max(JournalFormat.headerSize + 1, maxSegmentBytes)
        }
    }

    /// What recovery found when the journal was opened.
    public struct Recovery: Sendable, Equatable {
        /// Segments already present.
        public var existingSegments: Int
        /// Bytes cut from the end of the newest segment (a torn last record).
        public var truncatedBytes: Int64
        /// Segment files with a torn header that were removed.
        public var removedSegments: Int
    }

    public let directory: String
    public let options: Options
    public let recovery: Recovery
    let logger: Logger
    let condition = NSCondition()
    let flusherDone = DispatchSemaphore(value: 0)

    // State below: only with `condition` locked (internal for the +flusher extension only).
    var fd: Int32
    var segment: UInt64
    var written: Int64
    var appended: UInt64 = 0
    var durableCount: UInt64 = 0
    var durable: UsageCursor
    var pending = 0
    var flushRequested = false
    var closed = false
    var failure: JournalError?
    /// Holds an exclusive `flock` on `<directory>/LOCK` while open: one writer per journal.
    let lockFD: Int32

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
            fd = try Self.createSegment(directory: directory, segment: (last ?? 0) + 1)
        } catch {
            Glibc.close(lockFD)
            throw error
        }
        self.recovery = recovery
        segment = (last ?? 0) + 1
        written = JournalFormat.headerSize
        durable = UsageCursor(segment: segment, offset: written)
        let thread = Thread { [self] in flushLoop() }
        thread.name = "usage-journal-flusher"
        thread.start()
    }

    deinit {
        if !closed { close() }
    }

    /// Appends one event and returns once it is `write()`n (not yet fsynced): the position just
    /// past it. Throws `JournalError` when the journal is closed or has failed.
    @discardableResult
    public func append(_ event: UsageEvent) throws -> UsageCursor {
        let record = try JournalFormat.record(event)
        condition.lock()
        defer { condition.unlock() }
        if closed { throw JournalError.closed }
        if let failure { throw failure }
        do {
            try Syscall.writeAll(fd, record, path: segmentPath(segment))
        } catch {
            // Cut a partial record so the segment stays readable; if that fails the journal is unusable.
            if ftruncate(fd, off_t(written)) != 0 {
                failure = error
                condition.broadcast()
            }
            throw error
        }
        written += Int64(record.count)
        appended += 1
        pending += 1
        // Wake the flusher for the first pending event (it starts the flush interval), and
        // again when a group is full or the segment must rotate.
        if pending == 1 || pending >= options.flushEvery || written >= options.maxSegmentBytes { condition.broadcast() }
        return UsageCursor(segment: segment, offset: written)
    }

    /// Everything before this position is fsynced; folding live stops here.
    public var durablePosition: UsageCursor {
        condition.lock()
        defer { condition.unlock() }
        return durable
    }

    /// Blocks until every event appended before the call is fsynced.
    public func flush() throws {
        condition.lock()
        defer { condition.unlock() }
        let target = appended
        flushRequested = true
        condition.broadcast()
        while durableCount < target {
            if let failure { throw failure }
            if closed && durableCount < target { throw JournalError.closed }
            condition.wait()
        }
    }

    /// Flushes, stops the flusher and closes the segment. Later appends throw `.closed`.
    /// Always call it: the flusher thread keeps the journal alive until then.
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

    static func createSegment(directory: String, segment: UInt64) throws -> Int32 {
        let path = directory + "/" + JournalFormat.fileName(segment: segment)
        let fd = try Syscall.check("create", path) {
            open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o600)
        }
        do {
            try Syscall.writeAll(fd, JournalFormat.header(segment: segment), path: path)
            _ = try Syscall.check("fdatasync", path) { fdatasync(fd) }
            try Syscall.syncDirectory(directory)
        } catch {
            Glibc.close(fd)
            throw error
        }
        return fd
    }
}
