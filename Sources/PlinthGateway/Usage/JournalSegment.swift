import CLinux
import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

/// One segment file, preallocated and mapped `MAP_SHARED`. Appending is a copy into the page
/// cache — no system call — and the page cache outlives the process, so a `kill -9` loses nothing
/// appended; `msync` (the flusher's group commit) makes it survive power loss too.
///
/// `@unchecked Sendable`: the mapping is only written at disjoint places — a record's bytes once,
/// by `append` under the journal's lock, before its length word is published with a release
/// store; its state word by the one ticket that owns it, with atomic stores — and the flusher
/// reads both words with acquire loads. The mapping lives until the last ticket is gone.
final class JournalSegment: @unchecked Sendable {
    let sequence: UInt64
    let path: String
    let fd: Int32
    let base: UnsafeMutableRawPointer
    /// Bytes mapped (and allocated on disk).
    let capacity: Int

    private init(sequence: UInt64, path: String, fd: Int32, base: UnsafeMutableRawPointer, capacity: Int) {
        self.sequence = sequence
        self.path = path
        self.fd = fd
        self.base = base
        self.capacity = capacity
    }

    deinit {
        munmap(base, capacity)
        close(fd)
    }

    /// Creates `usage-<sequence>.journal` with `capacity` bytes allocated on disk (so a store into
    /// the mapping can never fault for want of space) and its header written.
    static func create(directory: String, sequence: UInt64, capacity: Int) throws(JournalError) -> JournalSegment {
        let path = directory + "/" + JournalFormat.fileName(segment: sequence)
        let fd = try Syscall.check("create", path) { open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        do throws(JournalError) {
            var rc = posix_fallocate(fd, 0, off_t(capacity))
            if rc == EOPNOTSUPP || rc == EINVAL {
                // A file system without fallocate: a sparse file works, but running out of disk would
                // then fault the process on a store instead of failing the append.
                rc = ftruncate(fd, off_t(capacity)) == 0 ? 0 : errno
            }
            if rc != 0 { throw JournalError.io(operation: "fallocate", path: path, errno: rc) }
            guard let base = mmap(nil, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
                base != UnsafeMutableRawPointer(bitPattern: -1)
            else { throw JournalError.io(operation: "mmap", path: path, errno: errno) }
            let header = JournalFormat.header(segment: sequence)
            header.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            return JournalSegment(sequence: sequence, path: path, fd: fd, base: base, capacity: capacity)
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
    }

    /// Copies a framed record to `offset` with `state`, publishing its length word last: a reader
    /// (or a crash) sees either no record there or all of it.
    func write(_ record: (length: UInt32, bytes: [UInt8]), at offset: Int, state: UsageRecordState) {
        record.bytes.withUnsafeBytes { raw in
            (base + offset + 4).copyMemory(from: raw.baseAddress! + 4, byteCount: raw.count - 4)
        }
        plinth_store_release_u32(base + offset + JournalFormat.stateOffset, state.rawValue.littleEndian)
        plinth_store_release_u32(base + offset, record.length.littleEndian)
    }

    func length(at offset: Int) -> UInt32 { UInt32(littleEndian: plinth_load_acquire_u32(base + offset)) }

    func state(at offset: Int) -> UsageRecordState? {
        UsageRecordState(
            rawValue: UInt32(littleEndian: plinth_load_acquire_u32(base + offset + JournalFormat.stateOffset)))
    }

    func setState(_ state: UsageRecordState, at offset: Int) {
        plinth_store_release_u32(base + offset + JournalFormat.stateOffset, state.rawValue.littleEndian)
    }

    /// Writes `from..<to` back to disk and waits (the group commit).
    func sync(from: Int, to: Int) throws(JournalError) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = from / page * page
        guard to > start else { return }
        _ = try Syscall.check("msync", path) { msync(base + start, to - start, MS_SYNC) }
    }

    /// Everything, file size and allocation included, to disk (a new segment's first sync).
    func syncAll() throws(JournalError) {
        _ = try Syscall.check("fdatasync", path) { fdatasync(fd) }
    }

    /// Cuts the unused preallocated tail (no record is ever added again) and syncs the rest.
    func seal(end: Int) throws(JournalError) {
        _ = try Syscall.check("ftruncate", path) { ftruncate(fd, off_t(end)) }
        _ = try Syscall.check("fdatasync", path) { fdatasync(fd) }
    }
}
