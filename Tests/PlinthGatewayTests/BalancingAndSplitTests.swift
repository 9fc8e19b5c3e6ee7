import PlinthGateway
import XCTest

final class BalancingAndSplitTests: XCTestCase {
    func testBalancerPicksLeastOutstanding() {
        let b = ReplicaBalancer(replicas: ["r1", "r2", "r3"])
        let first = (0..<3).compactMap { _ in b.pick() }
        XCTAssertEqual(Set(first), ["r1", "r2", "r3"], "equal load spreads over all replicas")
        // r2 finishes: it is now the least loaded.
        b.finish("r2")
        XCTAssertEqual(b.pick(), "r2")
        b.finish("r1")
        b.finish("r1")
        XCTAssertEqual(b.replicas.first { $0.id == "r1" }?.outstanding, 0)
        XCTAssertEqual(b.pick(), "r1")
    }

    func testFailedReplicaIsSkippedAtOnceUntilHealthy() {
        let b = ReplicaBalancer(replicas: ["r1", "r2"])
        let picked = b.pick()!
        b.finish(picked, failed: true)
        for _ in 0..<10 {
            let r = b.pick()
            XCTAssertNotEqual(r, picked)
            b.finish(r!)
        }
        b.markFailed("r1")
        b.markFailed("r2")
        XCTAssertNil(b.pick())
        b.markHealthy(picked)
        XCTAssertEqual(b.pick(), picked)
    }

    func testBalancerExcludesAndKeepsCountsAcrossUpdates() {
        let b = ReplicaBalancer(replicas: ["r1", "r2"])
        XCTAssertEqual(b.pick(excluding: ["r1"]), "r2")
        b.update(replicas: ["r2", "r3"])
        XCTAssertEqual(b.replicas.map(\.id), ["r2", "r3"])
        XCTAssertEqual(b.replicas[0].outstanding, 1)
        XCTAssertEqual(b.pick(), "r3")
        XCTAssertNil(ReplicaBalancer().pick())
    }

    func testWeightedSplitDistributionIsWithinTolerance() throws {
        let split = try TrafficSplit([.init(version: "v1", weight: 90), .init(version: "v2", weight: 10)])
        var rng = SplitMix(seed: 42)
        var counts: [String: Int] = [:]
        let n = 100_000
        for _ in 0..<n { counts[split.pick(routingKey: nil, using: &rng), default: 0] += 1 }
        XCTAssertEqual(Double(counts["v2"] ?? 0) / Double(n), 0.10, accuracy: 0.01)
        // Keyed picks also follow the weights across many keys.
        var keyed: [String: Int] = [:]
        for i in 0..<n { keyed[split.pick(routingKey: "user-\(i)"), default: 0] += 1 }
        XCTAssertEqual(Double(keyed["v2"] ?? 0) / Double(n), 0.10, accuracy: 0.01)
    }

    /// The default source (`pick(routingKey:)` without a generator): weights still hold, and a
    /// split where one version has all the weight always answers it, keyed or not.
    func testDefaultRandomSourceFollowsWeightsAndSoleVersionTakesAll() throws {
        let split = try TrafficSplit([.init(version: "v1", weight: 3), .init(version: "v2", weight: 1)])
        var counts: [String: Int] = [:]
        let n = 40_000
        for _ in 0..<n { counts[split.pick(routingKey: nil), default: 0] += 1 }
        XCTAssertEqual(Double(counts["v2"] ?? 0) / Double(n), 0.25, accuracy: 0.015)
        let sole = try TrafficSplit([.init(version: "old", weight: 0), .init(version: "new", weight: 5)])
        for i in 0..<100 {
            XCTAssertEqual(sole.pick(routingKey: nil), "new")
            XCTAssertEqual(sole.pick(routingKey: "k\(i)"), "new")
        }
        var rng = SplitMix(seed: 9)
        XCTAssertEqual(sole.pick(routingKey: nil, using: &rng), "new")
    }

    func testABNSplitAndZeroWeights() throws {
        let split = try TrafficSplit([
            .init(version: "a", weight: 1), .init(version: "b", weight: 0), .init(version: "c", weight: 1),
            .init(version: "d", weight: 2),
        ])
        var rng = SplitMix(seed: 7)
        var counts: [String: Int] = [:]
        for _ in 0..<40_000 { counts[split.pick(routingKey: nil, using: &rng), default: 0] += 1 }
        XCTAssertNil(counts["b"])
        XCTAssertEqual(Double(counts["a"] ?? 0) / 40_000, 0.25, accuracy: 0.015)
        XCTAssertEqual(Double(counts["d"] ?? 0) / 40_000, 0.50, accuracy: 0.015)
    }

    func testRoutingKeyIsSticky() throws {
        let split = try TrafficSplit([.init(version: "v1", weight: 50), .init(version: "v2", weight: 50)])
        var rng = SplitMix(seed: 1)
        for i in 0..<1000 {
            let key = "session-\(i)"
            let first = split.pick(routingKey: key, using: &rng)
            for _ in 0..<5 { XCTAssertEqual(split.pick(routingKey: key, using: &rng), first) }
        }
        // Stable across processes: a fixed key maps to a fixed version (FNV-1a + SplitMix64).
        XCTAssertEqual(split.pick(routingKey: "alice"), split.pick(routingKey: "alice"))
    }

    func testShadowFractionAndInvalidSplits() throws {
        let split = try TrafficSplit([.init(version: "v1", weight: 1)], shadow: .init(version: "v2", fraction: 0.25))
        var rng = SplitMix(seed: 3)
        var mirrored = 0
        for _ in 0..<20_000 where split.shadowVersion(routingKey: nil, using: &rng) != nil { mirrored += 1 }
        XCTAssertEqual(Double(mirrored) / 20_000, 0.25, accuracy: 0.015)
        XCTAssertThrowsError(try TrafficSplit([])) { XCTAssertEqual($0 as? TrafficSplit.SplitError, .noTraffic) }
        XCTAssertThrowsError(try TrafficSplit([.init(version: "a", weight: 0)]))
        XCTAssertThrowsError(try TrafficSplit([.init(version: "a", weight: -1), .init(version: "b", weight: 5)]))
        XCTAssertThrowsError(try TrafficSplit([.init(version: "a", weight: 1), .init(version: "a", weight: 1)]))
    }
}

/// Deterministic random source for distribution tests.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
