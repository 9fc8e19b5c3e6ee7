import Foundation
import PlinthCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// Content-addressed model artifacts on the node: `<directory>/<sha256>`, read-only (0444),
/// written through a temporary file that is hashed as it streams in and renamed into place
/// only when its SHA-256 and size match. Replica folders hard-link these files.
public struct ArtifactCache: Sendable {
    public let directory: String

    /// Opens (and creates, 0700) the cache directory.
    public init(directory: String) throws(ArtifactError) {
        self.directory = directory
        if mkdir(directory, 0o700) != 0 && errno != EEXIST { throw .io("cannot create \(directory): errno \(errno)") }
    }

    /// Whether `digest` is 64 lower-case hex characters (it becomes a file name).
    public static func isValidDigest(_ digest: String) -> Bool {
        digest.utf8.count == 64 && digest.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// The cached file for `digest` (it may not exist).
    public func path(for digest: String) throws(ArtifactError) -> String {
        guard ArtifactCache.isValidDigest(digest) else { throw .invalidDigest(digest) }
        return directory + "/" + digest
    }

    /// Whether the artifact is cached (verified when it was stored).
    public func contains(_ digest: String) -> Bool {
        guard let path = try? path(for: digest) else { return false }
        return FileManager.default.fileExists(atPath: path)
    }

    /// Streams an artifact into the cache. `produce` calls its argument with each chunk;
    /// returns the cached path once the digest and size are verified. Nothing is left behind
    /// on failure.
    @discardableResult
    public func store(
        digest: String, sizeBytes: UInt64, _ produce: (_ write: ([UInt8]) throws -> Void) throws -> Void
    ) throws -> String {
        let target = try path(for: digest)
        if FileManager.default.fileExists(atPath: target) { return target }
        let temporary = directory + "/.partial-" + UUID().uuidString
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ArtifactError.io("cannot create \(temporary): errno \(errno)") }
        var closed = false
        defer {
            if !closed { close(fd) }
            unlink(temporary)
        }
        let hasher = SHA256Hasher()
        var written: UInt64 = 0
        try produce { chunk in
            written += UInt64(chunk.count)
            guard written <= sizeBytes else { throw ArtifactError.tooLarge(limit: sizeBytes) }
            hasher.update(chunk)
            try chunk.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw ArtifactError.io("write failed: errno \(errno)")
                    }
                    offset += n
                }
            }
        }
        guard written == sizeBytes else { throw ArtifactError.sizeMismatch(expected: sizeBytes, actual: written) }
        let actual = Hex.encode(hasher.finalize())
        guard actual == digest else { throw ArtifactError.digestMismatch(expected: digest, actual: actual) }
        guard fsync(fd) == 0, fchmod(fd, 0o444) == 0 else {
            throw ArtifactError.io("fsync/chmod failed: errno \(errno)")
        }
        close(fd)
        closed = true
        guard rename(temporary, target) == 0 else { throw ArtifactError.io("rename failed: errno \(errno)") }
        return target
    }

    /// Stores a local file (verifying it), e.g. for the embedded single-node mode.
    @discardableResult
    public func storeFile(at source: String, digest: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: source) else { throw ArtifactError.io("cannot open \(source)") }
        defer { try? handle.close() }
        let size = (try? FileManager.default.attributesOfItem(atPath: source)[.size] as? NSNumber)?.uint64Value ?? 0
        return try store(digest: digest, sizeBytes: size) { write in
            while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty { try write([UInt8](data)) }
        }
    }

    /// Removes cached artifacts not in `keep` (and stale partial downloads).
    public func prune(keeping keep: Set<String>) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where !keep.contains(name) {
            unlink(directory + "/" + name)
        }
    }
}
