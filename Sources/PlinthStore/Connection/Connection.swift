import CSQLite

/// One SQLite connection with its prepared-statement cache.
///
/// Not Sendable: the `Store` hands it to one closure at a time, under its lock. Keep no reference
/// to it beyond that closure.
public final class Connection {
    private var db: OpaquePointer?
    private var cache: [String: Statement] = [:]
    /// Statements kept prepared; past this the cache is emptied (protects against ad-hoc SQL).
    private let cacheLimit = 256

    /// Opens `path` read-write (creating it), applying the store's pragmas.
    init(path: String, busyTimeoutMs: Int32, synchronous: Store.Synchronous, readOnly: Bool) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open database"
            sqlite3_close_v2(handle)
            throw StoreError(code: rc, message: "\(message): \(path)")
        }
        db = handle
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, busyTimeoutMs)
        do {
            if !readOnly {
                // journal_mode answers with a row; WAL persists in the file once set.
                let mode = try queryOne("PRAGMA journal_mode=WAL")
                guard mode?.optionalString("journal_mode")?.lowercased() == "wal" else {
                    throw StoreError(code: SQLITE_ERROR, message: "could not switch \(path) to WAL mode")
                }
            }
            try execute("PRAGMA foreign_keys=ON")
            try execute("PRAGMA synchronous=\(synchronous.rawValue)")
            if readOnly { try execute("PRAGMA query_only=ON") }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Finalizes cached statements and closes the handle; later calls throw `StoreError.closed`.
    func close() {
        cache.removeAll()
        if let db { sqlite3_close_v2(db) }
        db = nil
    }

    var rawHandle: OpaquePointer? { db }

    private func handle() throws -> OpaquePointer {
        guard let db else { throw StoreError.closed }
        return db
    }

    static func error(db: OpaquePointer?, rc: Int32, sql: String?) -> StoreError {
        let extended = db.map { sqlite3_extended_errcode($0) } ?? rc
        let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
        return StoreError(code: rc & 0xff, extendedCode: extended, message: message, sql: sql)
    }

    /// The cached prepared statement for `sql`, preparing it on first use.
    private func statement(_ sql: String) throws -> Statement {
        if let cached = cache[sql] { return cached }
        let db = try handle()
        var stmt: OpaquePointer?
        var tailOffset = 0
        let rc = sql.withCString { cstr -> Int32 in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v3(db, cstr, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, &tail)
            if let tail { tailOffset = cstr.distance(to: tail) }
            return rc
        }
        guard rc == SQLITE_OK else { throw Connection.error(db: db, rc: rc, sql: sql) }
        guard let stmt else {
            throw StoreError(code: SQLITE_MISUSE, message: "empty statement", sql: sql)
        }
        let statement = Statement(handle: stmt, sql: sql)
        let rest = sql.utf8.dropFirst(tailOffset)
        guard rest.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 || $0 == 0x3B }) else {
            throw StoreError(
                code: SQLITE_MISUSE,
                message: "several statements in one call; use executeScript for scripts", sql: sql)
        }
        if cache.count >= cacheLimit { cache.removeAll() }
        cache[sql] = statement
        return statement
    }

    /// Runs one statement with positional arguments (`?`), discarding any rows.
    public func execute(_ sql: String, _ args: any SQLBindable...) throws {
        try execute(sql, args)
    }

    /// Runs one statement with positional arguments (`?`), discarding any rows.
    public func execute(_ sql: String, _ args: [any SQLBindable]) throws {
        let db = try handle()
        let stmt = try statement(sql)
        try stmt.bind(args, db: db)
        try stmt.run(db: db)
    }

    /// Runs a script of several statements without arguments (migrations, schema set-up).
    public func executeScript(_ sql: String) throws {
        let db = try handle()
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &errmsg)
        if rc != SQLITE_OK {
            let message = errmsg.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(errmsg)
            throw StoreError(code: rc & 0xff, extendedCode: sqlite3_extended_errcode(db), message: message, sql: sql)
        }
    }

    /// Runs one query and returns all its rows.
    public func query(_ sql: String, _ args: any SQLBindable...) throws -> [Row] {
        try query(sql, args)
    }

    /// Runs one query and returns all its rows.
    public func query(_ sql: String, _ args: [any SQLBindable]) throws -> [Row] {
        let db = try handle()
        let stmt = try statement(sql)
        try stmt.bind(args, db: db)
        return try stmt.rows(db: db)
    }

    /// Runs one query and returns its first row, or nil.
    public func queryOne(_ sql: String, _ args: any SQLBindable...) throws -> Row? {
        try queryOne(sql, args)
    }

    /// Runs one query and returns its first row, or nil.
    public func queryOne(_ sql: String, _ args: [any SQLBindable]) throws -> Row? {
        let db = try handle()
        let stmt = try statement(sql)
        try stmt.bind(args, db: db)
        return try stmt.rows(db: db, limit: 1).first
    }

    /// Row id of the last successful INSERT on this connection.
    public var lastInsertRowID: Int64 { db.map { sqlite3_last_insert_rowid($0) } ?? 0 }

    /// Rows changed by the last INSERT, UPDATE or DELETE on this connection.
    public var changes: Int { db.map { Int(sqlite3_changes($0)) } ?? 0 }

    /// Whether a transaction is open (false in autocommit mode).
    public var inTransaction: Bool { db.map { sqlite3_get_autocommit($0) == 0 } ?? false }

    /// Number of prepared statements in the cache (for tests and diagnostics).
    public var cachedStatementCount: Int { cache.count }
}
