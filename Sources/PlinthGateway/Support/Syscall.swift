#if canImport(Glibc)
    import Glibc
#endif

/// The one door to the file system calls the journal makes: retries EINTR, turns failures into
/// `JournalError.io` with the errno.
enum Syscall {
    static func check(_ op: String, _ path: String, _ body: () -> Int32) throws(JournalError) -> Int32 {
        while true {
            let rc = body()
            if rc >= 0 { return rc }
            if errno == EINTR { continue }
            throw .io(operation: op, path: path, errno: errno)
        }
    }

    /// Writes all of `bytes` at `offset`.
    static func pwriteAll(_ fd: Int32, _ bytes: [UInt8], offset: Int64, path: String) throws(JournalError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { buf in
                pwrite(fd, buf.baseAddress! + done, buf.count - done, off_t(offset) + off_t(done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "write", path: path, errno: errno)
            }
            done += n
        }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    static func pread(_ fd: Int32, count: Int, offset: Int64, path: String) throws(JournalError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { buf in
                Glibc.pread(fd, buf.baseAddress! + got, count - got, off_t(offset) + off_t(got))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", path: path, errno: errno)
            }
            if n == 0 { break }
            got += n
        }
        out.removeLast(count - got)
        return out
    }

    /// fsync of a directory, so a created or renamed entry survives power loss.
    static func syncDirectory(_ path: String) throws(JournalError) {
        let fd = try check("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        _ = try check("fsync", path) { fsync(fd) }
    }

    static func fileSize(_ fd: Int32, path: String) throws(JournalError) -> Int64 {
        var st = stat()
        _ = try check("fstat", path) { fstat(fd, &st) }
        return Int64(st.st_size)
    }
}
