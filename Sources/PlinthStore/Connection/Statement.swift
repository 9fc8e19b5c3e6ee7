import CSQLite

/// A prepared statement owned by one connection; reset and re-bound on every use.
final class Statement {
    let handle: OpaquePointer
    let sql: String
    private var columns: ColumnIndex?

    init(handle: OpaquePointer, sql: String) {
        self.handle = handle
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// Resets the statement and binds `args` to parameters 1…n.
    func bind(_ args: [any SQLBindable], db: OpaquePointer) throws {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard expected == args.count else {
            throw StoreError(
                code: SQLITE_RANGE,
                message: "statement has \(expected) parameters, \(args.count) arguments given",
                sql: sql)
        }
        for (i, arg) in args.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch arg.sqlValue {
            case .null:
                rc = sqlite3_bind_null(handle, index)
            case .integer(let v):
                rc = sqlite3_bind_int64(handle, index, v)
            case .real(let v):
                rc = sqlite3_bind_double(handle, index, v)
            case .text(let s):
                rc = s.utf8CString.withUnsafeBufferPointer { buf in
                    // SQLITE_TRANSIENT: SQLite copies, so the Swift buffer may go away.
                    sqlite3_bind_text(handle, index, buf.baseAddress, Int32(buf.count - 1), plinth_sqlite_transient())
                }
            case .blob(let bytes):
                rc = bytes.withUnsafeBytes { buf in
                    // A zero-length blob still needs a non-NULL pointer, or SQLite binds NULL.
                    if buf.count == 0 { return sqlite3_bind_zeroblob(handle, index, 0) }
                    return sqlite3_bind_blob(
                        handle, index, buf.baseAddress, Int32(buf.count), plinth_sqlite_transient())
                }
            }
            guard rc == SQLITE_OK else { throw Connection.error(db: db, rc: rc, sql: sql) }
        }
    }

    /// Steps to completion, collecting rows.
    func rows(db: OpaquePointer, limit: Int = .max) throws -> [Row] {
        var out: [Row] = []
        defer { sqlite3_reset(handle) }
        while out.count < limit {
            let rc = sqlite3_step(handle)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw Connection.error(db: db, rc: rc, sql: sql) }
            out.append(currentRow())
        }
        return out
    }

    /// Steps to completion, discarding rows.
    func run(db: OpaquePointer) throws {
        defer { sqlite3_reset(handle) }
        while true {
            let rc = sqlite3_step(handle)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw Connection.error(db: db, rc: rc, sql: sql) }
        }
    }

    private func columnIndex() -> ColumnIndex {
        if let columns { return columns }
        let n = sqlite3_column_count(handle)
        var names: [String] = []
        names.reserveCapacity(Int(n))
        for i in 0..<n {
            names.append(sqlite3_column_name(handle, i).map { String(cString: $0) } ?? "")
        }
        let index = ColumnIndex(names: names)
        columns = index
        return index
    }

    private func currentRow() -> Row {
        let index = columnIndex()
        var values: [SQLValue] = []
        values.reserveCapacity(index.names.count)
        for i in 0..<Int32(index.names.count) {
            switch sqlite3_column_type(handle, i) {
            case SQLITE_INTEGER:
                values.append(.integer(sqlite3_column_int64(handle, i)))
            case SQLITE_FLOAT:
                values.append(.real(sqlite3_column_double(handle, i)))
            case SQLITE_TEXT:
                let n = Int(sqlite3_column_bytes(handle, i))
                if let p = sqlite3_column_text(handle, i) {
                    values.append(.text(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)))
                } else {
                    values.append(.text(""))
                }
            case SQLITE_BLOB:
                let n = Int(sqlite3_column_bytes(handle, i))
                if n > 0, let p = sqlite3_column_blob(handle, i) {
                    values.append(.blob(Array(UnsafeRawBufferPointer(start: p, count: n))))
                } else {
                    values.append(.blob([]))
                }
            default:
                values.append(.null)
            }
        }
        return Row(columns: index, values: values)
    }
}
