import Foundation

/// A fixed set of read-only connections; a caller borrows one, waiting while all are busy.
///
/// `@unchecked Sendable` is safe because `idle` and `closed` are only touched with `condition`
/// locked, and a borrowed connection belongs to exactly one caller until it is returned.
final class ReaderPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var idle: [Connection]
    private let all: [Connection]
    private var closed = false

    init(_ connections: [Connection]) {
        idle = connections
        all = connections
    }

    func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        condition.lock()
        while idle.isEmpty && !closed { condition.wait() }
        if closed {
            condition.unlock()
            throw StoreError.closed
        }
        let connection = idle.removeLast()
        condition.unlock()
        defer {
            condition.lock()
            idle.append(connection)
            condition.signal()
            condition.unlock()
        }
        return try body(connection)
    }

    /// Closes every connection once it is idle; waits for borrowed ones to come back.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        while idle.count < all.count { condition.wait() }
        for connection in all { connection.close() }
        condition.unlock()
    }
}
