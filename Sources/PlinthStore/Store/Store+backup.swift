import CSQLite
import Foundation

extension Store {
    /// Copies the database to `path` with SQLite's online backup API while the store keeps serving.
    ///
    /// The copy is taken from a reader connection in a single backup step, i.e. inside one read
    /// transaction: it is the snapshot of the last commit before it started, and writers are not
    /// blocked (WAL). The file is written next to `path` and renamed into place, so `path` is
    /// either the old file or a complete new copy.
    public func backup(to path: String) throws {
        let temporary = path + ".partial"
        unlink(temporary)
        try withReader { source in
            guard let sourceHandle = source.rawHandle else { throw StoreError.closed }
            var dest: OpaquePointer?
            let rc = sqlite3_open_v2(temporary, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil)
            guard rc == SQLITE_OK, let dest else {
                let error = Connection.error(db: dest, rc: rc, sql: nil)
                sqlite3_close_v2(dest)
                throw error
            }
            defer { sqlite3_close_v2(dest) }
            guard let backup = sqlite3_backup_init(dest, "main", sourceHandle, "main") else {
                throw Connection.error(db: dest, rc: sqlite3_errcode(dest), sql: nil)
            }
            var step: Int32
            repeat {
                // -1 copies every page in one step: one read transaction, one consistent snapshot.
                step = sqlite3_backup_step(backup, -1)
                if step == SQLITE_BUSY || step == SQLITE_LOCKED { usleep(1000) }
            } while step == SQLITE_OK || step == SQLITE_BUSY || step == SQLITE_LOCKED
            let finish = sqlite3_backup_finish(backup)
            guard step == SQLITE_DONE, finish == SQLITE_OK else {
                throw Connection.error(db: dest, rc: step == SQLITE_DONE ? finish : step, sql: nil)
            }
            // Make the copy durable before it replaces anything.
            try? Connection.checkpointAndSync(dest)
        }
        guard rename(temporary, path) == 0 else {
            let err = errno
            unlink(temporary)
            throw StoreError(code: SQLITE_IOERR, message: "rename backup into place failed: errno \(err)", sql: nil)
        }
    }
}

extension Connection {
    /// Switches a freshly written backup to rollback-journal mode so it is one self-contained file.
    static func checkpointAndSync(_ db: OpaquePointer) throws {
        var errmsg: UnsafeMutablePointer<CChar>?
        sqlite3_exec(db, "PRAGMA journal_mode=DELETE", nil, nil, &errmsg)
        sqlite3_free(errmsg)
    }
}
