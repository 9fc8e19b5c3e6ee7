import Foundation

/// The writer connection behind a lock.
///
/// `@unchecked Sendable` is safe because `connection` is only touched inside `withLock`, which
/// serialises all access through `lock`.
final class LockedConnection: @unchecked Sendable {
    private let lock = NSLock()
    private let connection: Connection
    private var closed = false

    init(_ connection: Connection) { self.connection = connection }

    func withLock<T>(_ body: (Connection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw StoreError.closed }
        return try body(connection)
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        closed = true
        connection.close()
    }
}
