import CSQLite
import Foundation

/// The database of one data directory: one writer connection behind a lock and a few WAL readers.
///
/// Every connection runs with WAL, `foreign_keys=ON`, a busy timeout and its own prepared-statement
/// cache. Writes are serialised in this process; readers see the last committed snapshot and
/// never block the writer.
public final class Store: Sendable {
    /// `PRAGMA synchronous` level. `full` survives power loss; `normal` in WAL mode survives a
    /// process crash but may lose the last commits on power loss.
    public enum Synchronous: String, Sendable {
        case normal = "NORMAL"
        case full = "FULL"
    }

    /// The database file.
    public let path: String
    private let writer: LockedConnection
    private let readers: ReaderPool

    /// Opens (creating) the database at `path` with `readers` reader connections.
    /// - Parameters:
    ///   - synchronous: durability level, `.full` by default.
    ///   - busyTimeoutMs: how long a connection waits for a lock held by another process.
    public init(path: String, readers: Int = 4, synchronous: Synchronous = .full, busyTimeoutMs: Int32 = 5000) throws {
        self.path = path
        // The writer goes first: it switches the file to WAL before any reader opens it.
        let writerConnection = try Connection(
            path: path, busyTimeoutMs: busyTimeoutMs, synchronous: synchronous, readOnly: false)
        var readerConnections: [Connection] = []
        for _ in 0..<max(1, readers) {
            readerConnections.append(
                try Connection(path: path, busyTimeoutMs: busyTimeoutMs, synchronous: synchronous, readOnly: true))
        }
        writer = LockedConnection(writerConnection)
        self.readers = ReaderPool(readerConnections)
    }

    deinit {
        writer.close()
        readers.close()
    }

    /// Runs `body` in one write transaction (`BEGIN IMMEDIATE … COMMIT`).
    ///
    /// If `body` throws, the transaction is rolled back and the error rethrown. Do not call
    /// `write` again from inside `body`: the writer is not re-entrant.
    public func write<T>(_ body: (Connection) throws -> T) throws -> T {
        try writer.withLock { connection in
            try connection.execute("BEGIN IMMEDIATE")
            let result: T
            do {
                result = try body(connection)
            } catch {
                if connection.inTransaction { try? connection.execute("ROLLBACK") }
                throw error
            }
            do {
                try connection.execute("COMMIT")
            } catch {
                if connection.inTransaction { try? connection.execute("ROLLBACK") }
                throw error
            }
            return result
        }
    }

    /// Runs `body` on a reader connection inside one read transaction, so every query in it
    /// sees the same committed snapshot. Writes are refused (`query_only`).
    public func read<T>(_ body: (Connection) throws -> T) throws -> T {
        try readers.withConnection { connection in
            try connection.execute("BEGIN")
            defer { if connection.inTransaction { try? connection.execute("COMMIT") } }
            return try body(connection)
        }
    }

    /// Closes every connection. Later calls throw `StoreError` with kind `.closed`.
    public func close() {
        writer.close()
        readers.close()
    }

    // Used by Store+migrate and Store+backup.
    func withWriter<T>(_ body: (Connection) throws -> T) throws -> T { try writer.withLock(body) }
    func withReader<T>(_ body: (Connection) throws -> T) throws -> T { try readers.withConnection(body) }
}
