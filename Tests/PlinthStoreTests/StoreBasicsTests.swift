import Foundation
import PlinthStore
import XCTest

final class StoreBasicsTests: StoreTestCase {
    func testValuesRoundTripWithTheirTypes() throws {
        let store = try openStore()
        try store.write { db in
            try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, f INTEGER, n TEXT)")
            try db.execute(
                "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                Int64.max, 2.5, "héllo\u{0}x", [UInt8]([0, 1, 255]), true, String?.none)
            try db.execute(
                "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", [1, 0.0, "", [UInt8](), false, "x"] as [any SQLBindable])
        }
        let rows = try store.read { try $0.query("SELECT * FROM t ORDER BY rowid") }
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(try rows[0].int64("i"), Int64.max)
        XCTAssertEqual(try rows[0].double("r"), 2.5)
        XCTAssertEqual(try rows[0].string("s"), "héllo\u{0}x")
        XCTAssertEqual(try rows[0].blob("b"), [0, 1, 255])
        XCTAssertEqual(try rows[0].bool("f"), true)
        XCTAssertEqual(rows[0]["n"], .null)
        XCTAssertNil(rows[0].optionalString("n"))
        XCTAssertEqual(try rows[1].blob("b"), [])
        XCTAssertEqual(try rows[1].bool("f"), false)
        XCTAssertEqual(rows[1].optionalString("n"), "x")
        XCTAssertEqual(rows[0]["missing"], .null)
    }

    func testASingleByteArrayArgumentBindsAsOneBlob() throws {
        let store = try openStore()
        let bytes: [UInt8] = [1, 2, 3]
        try store.write { db in
            try db.execute("CREATE TABLE t (b BLOB)")
            try db.execute("INSERT INTO t VALUES (?)", bytes)
        }
        XCTAssertEqual(try store.read { try $0.queryOne("SELECT b FROM t", [])?.blob("b") }, bytes)
    }

    func testReadingWrongTypeOrMissingColumnThrowsTypedErrors() throws {
        let store = try openStore()
        try store.write { db in
            try db.execute("CREATE TABLE t (s TEXT)")
            try db.execute("INSERT INTO t VALUES ('x')")
        }
        let row = try XCTUnwrap(try store.read { try $0.queryOne("SELECT s FROM t") })
        XCTAssertThrowsError(try row.int("s")) { error in
            XCTAssertEqual(
                (error as? StoreError)?.kind, .typeMismatch(column: "s", expected: "integer", actual: "text"))
        }
        XCTAssertThrowsError(try row.string("nope")) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .noSuchColumn("nope"))
        }
    }

    func testConstraintErrorsAreTypedAndCarryTheSQL() throws {
        let store = try openStore()
        try store.write { db in
            try db.executeScript(
                """
                CREATE TABLE tenant (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                CREATE TABLE model (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenant(id),
                                    size INTEGER CHECK (size >= 0));
                INSERT INTO tenant (id, name) VALUES (1, 'acme');
                """)
        }
        let insertTenant = "INSERT INTO tenant (name) VALUES (?)"
        XCTAssertThrowsError(try store.write { try $0.execute(insertTenant, "acme") }) { error in
            let e = error as? StoreError
            XCTAssertEqual(e?.isConstraintViolation, true)
            XCTAssertEqual(e?.isUniqueViolation, true)
            XCTAssertEqual(e?.sql, insertTenant)
            XCTAssertTrue(e?.message.contains("UNIQUE") ?? false)
        }
        XCTAssertThrowsError(try store.write { try $0.execute("INSERT INTO model (tenant_id) VALUES (99)") }) { error in
            XCTAssertEqual((error as? StoreError)?.isForeignKeyViolation, true, "foreign_keys must be ON")
            XCTAssertEqual((error as? StoreError)?.isUniqueViolation, false)
        }
        XCTAssertThrowsError(try store.write { try $0.execute("INSERT INTO tenant (name) VALUES (NULL)") }) { error in
            XCTAssertEqual((error as? StoreError)?.isNotNullViolation, true)
        }
        XCTAssertThrowsError(try store.write { try $0.execute("INSERT INTO model (tenant_id, size) VALUES (1, -1)") }) {
            error in
            XCTAssertEqual((error as? StoreError)?.isCheckViolation, true)
        }
        XCTAssertThrowsError(try store.write { try $0.execute("SELEC 1") }) { error in
            XCTAssertEqual((error as? StoreError)?.isConstraintViolation, false)
            XCTAssertEqual((error as? StoreError)?.sql, "SELEC 1")
        }
    }

    func testTransactionRollsBackWhenBodyThrows() throws {
        struct Boom: Error {}
        let store = try openStore()
        try store.write { try $0.execute("CREATE TABLE t (x INTEGER)") }
        XCTAssertThrowsError(
            try store.write { db in
                try db.execute("INSERT INTO t VALUES (1)")
                try db.execute("INSERT INTO t VALUES (2)")
                throw Boom()
            }
        ) { XCTAssertTrue($0 is Boom) }
        XCTAssertEqual(try store.read { try $0.queryOne("SELECT COUNT(*) AS n FROM t")?.int("n") }, 0)
        // The writer is usable again afterwards.
        try store.write { try $0.execute("INSERT INTO t VALUES (3)") }
        XCTAssertEqual(try store.read { try $0.queryOne("SELECT COUNT(*) AS n FROM t")?.int("n") }, 1)
    }

    func testLastInsertRowIDAndChanges() throws {
        let store = try openStore()
        let (id, changed) = try store.write { db -> (Int64, Int) in
            try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)")
            try db.execute("INSERT INTO t (x) VALUES (1), (1), (2)")
            let id = db.lastInsertRowID
            try db.execute("UPDATE t SET x = 5 WHERE x = ?", 1)
            return (id, db.changes)
        }
        XCTAssertEqual(id, 3)
        XCTAssertEqual(changed, 2)
    }

    func testPreparedStatementsAreCachedPerConnection() throws {
        let store = try openStore(readers: 1)
        try store.write { try $0.execute("CREATE TABLE t (x INTEGER)") }
        let (before, after) = try store.read { db -> (Int, Int) in
            _ = try db.query("SELECT x FROM t WHERE x = ?", -1)
            let before = db.cachedStatementCount
            for i in 0..<50 { _ = try db.query("SELECT x FROM t WHERE x = ?", i) }
            return (before, db.cachedStatementCount)
        }
        XCTAssertEqual(before, after, "one prepared statement reused, not fifty")
    }

    func testReaderConnectionsRefuseWrites() throws {
        let store = try openStore()
        try store.write { try $0.execute("CREATE TABLE t (x INTEGER)") }
        XCTAssertThrowsError(try store.read { try $0.execute("INSERT INTO t VALUES (1)") })
    }

    func testArgumentCountMismatchAndMultipleStatementsAreRefused() throws {
        let store = try openStore()
        try store.write { try $0.execute("CREATE TABLE t (x INTEGER)") }
        XCTAssertThrowsError(try store.write { try $0.execute("INSERT INTO t VALUES (?)") })
        XCTAssertThrowsError(try store.write { try $0.execute("INSERT INTO t VALUES (?)", 1, 2) })
        XCTAssertThrowsError(try store.write { try $0.execute("INSERT INTO t VALUES (1); DROP TABLE t") })
        XCTAssertEqual(try store.read { try $0.queryOne("SELECT COUNT(*) AS n FROM t")?.int("n") }, 0)
    }

    func testClosedStoreThrows() throws {
        let store = try openStore()
        store.close()
        XCTAssertThrowsError(try store.read { _ in 1 }) { XCTAssertEqual(($0 as? StoreError)?.kind, .closed) }
        XCTAssertThrowsError(try store.write { _ in 1 }) { XCTAssertEqual(($0 as? StoreError)?.kind, .closed) }
    }

    func testDatabaseIsInWALModeWithForeignKeys() throws {
        let store = try openStore()
        let (mode, fk) = try store.read { db in
            (
                try db.queryOne("PRAGMA journal_mode")?.string("journal_mode"),
                try db.queryOne("PRAGMA foreign_keys")?.int("foreign_keys")
            )
        }
        XCTAssertEqual(mode, "wal")
        XCTAssertEqual(fk, 1)
    }
}
