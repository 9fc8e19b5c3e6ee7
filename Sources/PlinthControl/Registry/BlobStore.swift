import Foundation
import PlinthCrypto
import PlinthStore

#if canImport(Glibc)
    import Glibc
#endif

/// Content-addressed artifact files: `<root>/sha256/ab/abcd…`. Uploads land in `<root>/tmp` first
/// and are renamed into place after fsync, so a blob path never holds a partial file. Adding and
/// removing blobs happens inside the store's write transaction, which serializes it against the
/// references in model_versions.
final class BlobStore: Sendable {
    let root: String

    init(root: String) throws {
        self.root = root
        for dir in [root, root + "/tmp", root + "/sha256"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        // Leftovers of uploads cut off by a crash.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root + "/tmp")) ?? [] {
            unlink(root + "/tmp/" + name)
        }
    }

    func path(for digest: String) -> String {
        "\(root)/sha256/\(digest.prefix(2))/\(digest)"
    }

    /// Starts a new temporary file for an upload.
    func beginUpload() throws -> BlobWriter {
        try BlobWriter(path: "\(root)/tmp/upload-\(Hex.encode(SecureRandom.bytes(12)))")
    }

    /// Moves a finished upload into place (or drops it when the same bytes are already stored).
    /// Call inside `store.write`.
    func commit(_ writer: BlobWriter, digest: String) throws {
        let final = path(for: digest)
        let dir = "\(root)/sha256/\(digest.prefix(2))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if access(final, F_OK) == 0 {
            writer.discard()
            return
        }
        guard rename(writer.path, final) == 0 else {
            writer.discard()
            throw BlobError.io("rename failed: errno \(errno)")
        }
        writer.markCommitted()
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    /// Deletes the blobs among `digests` that no model version refers to any more.
    /// Call inside `store.write` after deleting the references.
    func removeUnreferenced(_ digests: [String], db: Connection) throws {
        for digest in Set(digests) {
            let referenced =
                try db.queryOne("SELECT 1 AS one FROM model_versions WHERE sha256 = ? LIMIT 1", digest) != nil
            if !referenced { unlink(path(for: digest)) }
        }
    }

    /// Deletes every blob file without a reference (after a crash between rename and commit).
    func collectGarbage(store: Store) throws {
        let fm = FileManager.default
        let base = root + "/sha256"
        try store.write { db in
            for prefix in (try? fm.contentsOfDirectory(atPath: base)) ?? [] {
                for digest in (try? fm.contentsOfDirectory(atPath: base + "/" + prefix)) ?? [] {
                    try removeUnreferenced([digest], db: db)
                }
            }
        }
    }
}

enum BlobError: Error, Sendable {
    case io(String)
}

/// One upload in progress: a temp file plus a running SHA-256 and byte count.
/// Owned by a single handler thread; removes its file unless committed.
final class BlobWriter {
    let path: String
    private var fd: Int32
    private var hasher = SHA256Hasher()
    private(set) var byteCount: Int64 = 0
    private var committed = false

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BlobError.io("cannot create upload file: errno \(errno)") }
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !committed { unlink(path) }
    }

    func write(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        try bytes.withUnsafeBytes { buffer in
            hasher.update(buffer)
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw BlobError.io("write failed: errno \(errno)")
                }
                offset += n
            }
        }
        byteCount += Int64(bytes.count)
    }

    /// Flushes to disk and returns the SHA-256 of everything written.
    func finish() throws -> [UInt8] {
        guard fsync(fd) == 0 else { throw BlobError.io("fsync failed: errno \(errno)") }
        close(fd)
        fd = -1
        return hasher.finalize()
    }

    func discard() {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        unlink(path)
        committed = true
    }

    func markCommitted() { committed = true }
}
