import Foundation
import PlinthStore
import XCTest

final class StoreConcurrencyTests: StoreTestCase {
    func testReadersSeeCommittedSnapshotWhileAWriteIsOpen() throws {
        let store = try openStore(readers: 3)
        try store.write { db in
            try db.execute("CREATE TABLE t (x INTEGER)")
            try db.execute("INSERT INTO t VALUES (1)")
        }
        let inWrite = DispatchSemaphore(value: 0)
        let readsDone = DispatchSemaphore(value: 0)
        let writerError = ManagedCounts()
        let writer = Thread {
            do {
                try store.write { db in
                    try db.execute("INSERT INTO t VALUES (2)")
                    inWrite.signal()
                    // Hold the write transaction open until the readers have looked.
                    _ = readsDone.wait(timeout: .now() + 30)
                }
            } catch {
                writerError.append(Int((error as? StoreError)?.extendedCode ?? -1))
                inWrite.signal()
            }
        }
        writer.start()
        XCTAssertEqual(inWrite.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(writerError.values, [], "writer failed with SQLite code")
        let counts = ManagedCounts()
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            do {
                counts.append(try store.read { try $0.queryOne("SELECT COUNT(*) AS n FROM t")?.int("n") } ?? -1)
            } catch {
                counts.append(-Int((error as? StoreError)?.extendedCode ?? 1))
            }
        }
        XCTAssertEqual(counts.values, [Int](repeating: 1, count: 6), "readers must not block nor see uncommitted rows")
        readsDone.signal()
        try waitUntil { (try? store.read { try $0.queryOne("SELECT COUNT(*) AS n FROM t")?.int("n") }) == 2 }
    }

    func testConcurrentWritesAreSerialisedAndAllLand() throws {
        let store = try openStore()
        try store.write { try $0.execute("CREATE TABLE t (x INTEGER)") }
        let errors = ManagedCounts()
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in 0..<50 {
                do {
                    try store.write { try $0.execute("INSERT INTO t VALUES (?)", worker * 1000 + i) }
                } catch {
                    errors.append(Int((error as? StoreError)?.extendedCode ?? -1))
                }
            }
        }
        XCTAssertEqual(errors.values, [])
        XCTAssertEqual(try store.read { try $0.queryOne("SELECT COUNT(*) AS n FROM t")?.int("n") }, 200)
    }

    func testBackupWhileWritingProducesAConsistentDatabase() throws {
        let store = try openStore()
        try store.write { db in
            // Two tables updated together: a torn copy would show different counts.
            try db.execute("CREATE TABLE a (x INTEGER)")
            try db.execute("CREATE TABLE b (x INTEGER)")
        }
        let stop = ManagedFlag()
        let writer = Thread {
            var i = 0
            while !stop.isSet {
                try? store.write { db in
                    for _ in 0..<20 {
                        try db.execute("INSERT INTO a VALUES (?)", i)
                        try db.execute("INSERT INTO b VALUES (?)", i)
                        i += 1
                    }
                }
            }
            stop.markDone()
        }
        writer.start()
        defer {
            stop.set()
            _ = stop.waitDone()
        }
        try waitUntil {
            ((try? store.read { try $0.queryOne("SELECT COUNT(*) AS n FROM a")?.int("n") }) ?? nil ?? 0) > 100
        }
        for round in 0..<3 {
            let copy = path("backup-\(round).db")
            try store.backup(to: copy)
            let restored = try Store(path: copy, readers: 1)
            let (a, b, check) = try restored.read { db in
                (
                    try db.queryOne("SELECT COUNT(*) AS n FROM a")?.int("n") ?? -1,
                    try db.queryOne("SELECT COUNT(*) AS n FROM b")?.int("n") ?? -2,
                    try db.queryOne("PRAGMA integrity_check")?.string("integrity_check")
                )
            }
            XCTAssertGreaterThan(a, 0)
            XCTAssertEqual(a, b, "backup must be one snapshot")
            XCTAssertEqual(check, "ok")
            restored.close()
        }
    }

    private func waitUntil(timeout: TimeInterval = 30, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { throw XCTSkip("condition not reached in \(timeout)s") }
            usleep(2000)
        }
    }
}

/// Thread-safe collectors for the tests above.
final class ManagedCounts: @unchecked Sendable {
    // Safe: `storage` is only touched with `lock` held.
    private let lock = NSLock()
    private var storage: [Int] = []
    func append(_ v: Int) { lock.withLock { storage.append(v) } }
    var values: [Int] { lock.withLock { storage } }
}

final class ManagedFlag: @unchecked Sendable {
    // Safe: `flag` is only touched with `lock` held; `done` is a semaphore.
    private let lock = NSLock()
    private var flag = false
    private let done = DispatchSemaphore(value: 0)
    func set() { lock.withLock { flag = true } }
    var isSet: Bool { lock.withLock { flag } }
    func markDone() { done.signal() }
    func waitDone() -> DispatchTimeoutResult { done.wait(timeout: .now() + 30) }
}
