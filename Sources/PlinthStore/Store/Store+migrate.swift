import CSQLite
import Foundation

extension Store {
    /// Applies the migrations not yet recorded, in version order, each in its own transaction.
    ///
    /// A migration that fails is rolled back (SQLite DDL is transactional) and its error thrown;
    /// the ones before it stay applied. Throws `StoreError` kind `.schemaTooNew` when the database
    /// records a version newer than the newest one given: an older binary must not touch it.
    public func migrate(_ migrations: [Migration]) throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.version == b.version {
            throw StoreError(
                kind: .invalidMigrations("duplicate version \(a.version)"), code: SQLITE_MISUSE,
                message: "duplicate migration version \(a.version)")
        }
        if let bad = sorted.first(where: { $0.version <= 0 }) {
            throw StoreError(
                kind: .invalidMigrations("version \(bad.version) must be positive"), code: SQLITE_MISUSE,
                message: "migration version \(bad.version) must be positive")
        }
        let known = sorted.last?.version ?? 0

        try write { db in
            try db.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at INTEGER NOT NULL
                )
                """)
        }
        let recorded = try read { db in
            try db.query("SELECT version FROM schema_migrations").map { try $0.int("version") }
        }
        let newest = recorded.max() ?? 0
        if newest > known {
            throw StoreError(
                kind: .schemaTooNew(recorded: newest, known: known), code: SQLITE_ERROR,
                message: "database schema version \(newest) is newer than this program knows (\(known)); upgrade plinth"
            )
        }
        let applied = Set(recorded)
        for migration in sorted where !applied.contains(migration.version) {
            try write { db in
                // Re-check inside the transaction: another process may have applied it meanwhile.
                if try db.queryOne("SELECT 1 AS x FROM schema_migrations WHERE version = ?", migration.version) != nil {
                    return
                }
                try db.executeScript(migration.sql)
                try db.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    migration.version, migration.name, Int64(Date().timeIntervalSince1970))
            }
        }
    }

    /// The highest applied migration version, 0 for a fresh database.
    public func schemaVersion() throws -> Int {
        try read { db in
            let exists = try db.queryOne(
                "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
            guard exists != nil else { return 0 }
            return try db.queryOne("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")?.int("v") ?? 0
        }
    }
}
