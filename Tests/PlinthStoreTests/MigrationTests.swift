import Foundation
import PlinthStore
import XCTest

final class MigrationTests: StoreTestCase {
    static let migrations = [
        Migration(version: 2, name: "add email", sql: "ALTER TABLE users ADD COLUMN email TEXT"),
        Migration(
            version: 1, name: "users",
            sql: """
                CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
                CREATE INDEX users_name ON users(name);
                """),
    ]

    func testMigrationsApplyInOrderAndAreRecorded() throws {
        let store = try openStore()
        try store.migrate(Self.migrations)
        XCTAssertEqual(try store.schemaVersion(), 2)
        let recorded = try store.read { db in
            try db.query("SELECT version, name FROM schema_migrations ORDER BY version").map {
                "\(try $0.int("version")):\(try $0.string("name"))"
            }
        }
        XCTAssertEqual(recorded, ["1:users", "2:add email"])
        try store.write { try $0.execute("INSERT INTO users (name, email) VALUES ('a', 'a@x')") }
    }

    func testRerunningMigrationsIsANoOp() throws {
        do {
            let store = try openStore()
            try store.migrate(Self.migrations)
            try store.write { try $0.execute("INSERT INTO users (name) VALUES ('kept')") }
            store.close()
        }
        let store = try openStore()
        try store.migrate(Self.migrations)
        try store.migrate(Self.migrations)
        XCTAssertEqual(try store.read { try $0.queryOne("SELECT COUNT(*) AS n FROM schema_migrations")?.int("n") }, 2)
        XCTAssertEqual(try store.read { try $0.queryOne("SELECT name FROM users")?.string("name") }, "kept")
    }

    func testFailingMigrationRollsBackAndKeepsEarlierOnes() throws {
        let store = try openStore()
        let broken =
            Self.migrations + [
                Migration(
                    version: 3, name: "half broken",
                    sql: """
                        CREATE TABLE audit (id INTEGER PRIMARY KEY);
                        INSERT INTO no_such_table VALUES (1);
                        """)
            ]
        XCTAssertThrowsError(try store.migrate(broken)) { error in
            XCTAssertTrue((error as? StoreError)?.message.contains("no_such_table") ?? false, "\(error)")
        }
        XCTAssertEqual(try store.schemaVersion(), 2)
        let auditExists = try store.read { try $0.queryOne("SELECT 1 AS x FROM sqlite_master WHERE name = 'audit'") }
        XCTAssertNil(auditExists, "the failed migration's first statement must be rolled back")
    }

    func testDatabaseWithNewerSchemaIsRefused() throws {
        let store = try openStore()
        try store.migrate(Self.migrations)
        XCTAssertThrowsError(try store.migrate(Array(Self.migrations.dropFirst()))) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .schemaTooNew(recorded: 2, known: 1))
        }
    }

    func testDuplicateMigrationVersionsAreRefused() throws {
        let store = try openStore()
        let dup = [
            Migration(version: 1, name: "a", sql: "SELECT 1"), Migration(version: 1, name: "b", sql: "SELECT 2"),
        ]
        XCTAssertThrowsError(try store.migrate(dup)) { error in
            guard case .invalidMigrations? = (error as? StoreError)?.kind else { return XCTFail("\(error)") }
        }
    }
}
