import CSQLite

/// An error from the store: an SQLite result code with its message and the SQL that failed,
/// or a store-level failure (type mismatch, unknown column, schema too new, closed store).
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for callers that branch on it.
    public enum Kind: Sendable, Equatable {
        /// SQLite returned an error; see `code` and `extendedCode`.
        case sqlite
        /// A column held a value of another storage class than the one asked for.
        case typeMismatch(column: String, expected: String, actual: String)
        /// The row has no column of that name.
        case noSuchColumn(String)
        /// The database records a schema version newer than this program knows.
        case schemaTooNew(recorded: Int, known: Int)
        /// Migrations passed to `migrate` are not usable (duplicate versions, bad numbers).
        case invalidMigrations(String)
        /// The store was closed.
        case closed
    }

    /// The kind of failure.
    public let kind: Kind
    /// Primary SQLite result code (`SQLITE_CONSTRAINT` …); `SQLITE_MISUSE`/`SQLITE_ERROR` for store-level kinds.
    public let code: Int32
    /// Extended SQLite result code (`plinth_sqlite_constraint_unique` …); equals `code` when unknown.
    public let extendedCode: Int32
    /// SQLite's message (`sqlite3_errmsg`) or a description of the store-level failure.
    public let message: String
    /// The statement that failed, when there was one.
    public let sql: String?

    public init(kind: Kind = .sqlite, code: Int32, extendedCode: Int32? = nil, message: String, sql: String? = nil) {
        self.kind = kind
        self.code = code
        self.extendedCode = extendedCode ?? code
        self.message = message
        self.sql = sql
    }

    /// Any constraint failure: UNIQUE, PRIMARY KEY, FOREIGN KEY, CHECK, NOT NULL.
    public var isConstraintViolation: Bool { code == SQLITE_CONSTRAINT }
    /// A UNIQUE or PRIMARY KEY constraint failed (a duplicate).
    public var isUniqueViolation: Bool {
        extendedCode == plinth_sqlite_constraint_unique || extendedCode == plinth_sqlite_constraint_primarykey
    }
    /// A FOREIGN KEY constraint failed.
    public var isForeignKeyViolation: Bool { extendedCode == plinth_sqlite_constraint_foreignkey }
    /// A NOT NULL constraint failed.
    public var isNotNullViolation: Bool { extendedCode == plinth_sqlite_constraint_notnull }
    /// A CHECK constraint failed.
    public var isCheckViolation: Bool { extendedCode == plinth_sqlite_constraint_check }
    /// The database stayed locked past the busy timeout.
    public var isBusy: Bool { code == SQLITE_BUSY || code == SQLITE_LOCKED }

    public var description: String {
        var s = "StoreError(\(code)/\(extendedCode)): \(message)"
        if let sql { s += " [sql: \(sql)]" }
        return s
    }

    static func typeMismatch(column: String, expected: String, actual: SQLValue) -> StoreError {
        StoreError(
            kind: .typeMismatch(column: column, expected: expected, actual: actual.typeName),
            code: SQLITE_MISMATCH,
            message: "column \(column) holds \(actual.typeName), expected \(expected)")
    }

    static func noSuchColumn(_ name: String) -> StoreError {
        StoreError(kind: .noSuchColumn(name), code: SQLITE_RANGE, message: "no such column in row: \(name)")
    }

    static let closed = StoreError(kind: .closed, code: SQLITE_MISUSE, message: "store is closed")
}
