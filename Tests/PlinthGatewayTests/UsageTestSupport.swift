import Foundation
import PlinthCore
import PlinthGateway
import XCTest

/// A `UsageSink` in memory, with the same atomicity as the SQLite one: deltas and cursor change
/// together or not at all. `failOnApply` simulates a crash before the commit of that apply.
final class MemoryUsageSink: UsageSink, @unchecked Sendable {
    // Safe: all state is touched only with `lock` held.
    private let lock = NSLock()
    private var totals: [UsageMinuteKey: UsageTotals] = [:]
    private var cursors: [String: UsageCursor] = [:]
    private var applies = 0
    private var failAt: Int?

    /// Makes the `n`-th `apply` from now throw (nil: never).
    var failOnApply: Int? {
        get { lock.withLock { failAt.map { $0 - applies } } }
        set { lock.withLock { failAt = newValue.map { applies + $0 } } }
    }

    struct SimulatedCrash: Error {}

    func loadCursor(journal: String) throws -> UsageCursor? { lock.withLock { cursors[journal] } }

    func apply(_ batch: UsageFoldBatch, journal: String) throws {
        try lock.withLock {
            applies += 1
            if applies == failAt { throw SimulatedCrash() }
            for (key, delta) in batch.deltas { totals[key, default: UsageTotals()].add(delta) }
            cursors[journal] = batch.cursor
        }
    }

    var snapshot: [UsageMinuteKey: UsageTotals] { lock.withLock { totals } }
    var requestCount: Int64 { snapshot.values.reduce(0) { $0 + $1.requests } }
}

func makeEvent(_ i: Int, tenant: String = "t1", minute: Int64 = 29_000_000) -> UsageEvent {
    UsageEvent(
        requestID: "req-\(i)", tenantID: tenant, apiKeyID: "key-\(i % 3)", deployment: "dep-a",
        version: i % 4 == 0 ? "v2" : "v1", status: [200, 200, 429, 500][i % 4], latencyMicros: Int64(1000 + i),
        queueMicros: Int64(i % 7), computeMicros: Int64(500 + i), bytesIn: 100, bytesOut: Int64(200 + i),
        batchSize: 1 + i % 5, shadow: i % 10 == 9, timestampMicros: minute * 60_000_000 + Int64(i % 120) * 1_000_000)
}

func expectedTotals(_ events: [UsageEvent]) -> [UsageMinuteKey: UsageTotals] {
    var out: [UsageMinuteKey: UsageTotals] = [:]
    for e in events { out[UsageMinuteKey(e), default: UsageTotals()].add(e) }
    return out
}

func temporaryDirectory(_ name: String) throws -> String {
    let path = NSTemporaryDirectory() + "plinth-\(name)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func segmentFiles(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        .filter { $0.hasSuffix(".journal") }.sorted().map { directory + "/" + $0 }
}
