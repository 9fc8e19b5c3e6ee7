import Synchronization

/// How a deployment's traffic is divided among its versions: weighted (canary, A/B/N), sticky
/// when the caller sends a routing key, plus an optional shadow copy to another version.
public struct TrafficSplit: Sendable, Equatable {
    /// One version and its share.
    public struct Target: Sendable, Equatable {
        public var version: String
        /// Relative weight (e.g. percent); 0 takes no traffic.
        public var weight: Int

        public init(version: String, weight: Int) {
            self.version = version
            self.weight = weight
        }
    }

    /// Mirror a fraction of requests to `version`; its answers are discarded (and metered with
    /// `shadow: true`).
    public struct Shadow: Sendable, Equatable {
        public var version: String
        /// 0…1.
        public var fraction: Double

        public init(version: String, fraction: Double) {
            self.version = version
            self.fraction = min(1, max(0, fraction))
        }
    }

    /// Why a split was refused.
    public enum SplitError: Error, Sendable, Equatable {
        case noTraffic
        case negativeWeight(String)
        case duplicateVersion(String)
    }

    public let targets: [Target]
    public let shadow: Shadow?
    private let total: UInt64
    /// The one version with weight, when only one has.
    private let sole: String?

    /// - Throws: `SplitError` when no version has weight, a weight is negative, or a version repeats.
    public init(_ targets: [Target], shadow: Shadow? = nil) throws(SplitError) {
        var seen = Set<String>()
        var total: UInt64 = 0
        for t in targets {
            guard t.weight >= 0 else { throw .negativeWeight(t.version) }
            guard seen.insert(t.version).inserted else { throw .duplicateVersion(t.version) }
            total += UInt64(t.weight)
        }
        guard total > 0 else { throw .noTraffic }
        self.targets = targets
        self.shadow = shadow
        self.total = total
        let receiving = targets.filter { $0.weight > 0 }
        sole = receiving.count == 1 ? receiving[0].version : nil
    }

    /// The version for a request. With a routing key the answer depends only on the key and the
    /// weights (same key, same version, across gateway restarts); without one it is random.
    public func pick(routingKey: String?) -> String {
        if let sole { return sole }  // one version takes all traffic: nothing to draw
        var rng = SplitRandom()
        return pick(routingKey: routingKey, using: &rng)
    }

    /// `pick(routingKey:)` with a chosen random source (tests).
    public func pick(routingKey: String?, using rng: inout some RandomNumberGenerator) -> String {
        let h = routingKey.map { Self.stableHash(Array($0.utf8)) } ?? rng.next()
        // Multiply-shift maps the 64-bit hash uniformly onto 0..<total.
        var point = h.multipliedFullWidth(by: total).high
        for t in targets where t.weight > 0 {
            if point < UInt64(t.weight) { return t.version }
            point -= UInt64(t.weight)
        }
        return targets.last(where: { $0.weight > 0 })?.version ?? targets[0].version
    }

    /// The shadow version when this request should also be mirrored. Independent of `pick`; keyed
    /// requests are mirrored consistently.
    public func shadowVersion(routingKey: String?, using rng: inout some RandomNumberGenerator) -> String? {
        guard let shadow, shadow.fraction > 0 else { return nil }
        let h = routingKey.map { Self.stableHash(Array("shadow:".utf8) + Array($0.utf8)) } ?? rng.next()
        let unit = Double(h >> 11) / Double(1 << 53)
        return unit < shadow.fraction ? shadow.version : nil
    }

    /// The shadow version with the system random source.
    public func shadowVersion(routingKey: String?) -> String? {
        var rng = SplitRandom()
        return shadowVersion(routingKey: routingKey, using: &rng)
    }

    /// FNV-1a 64 then the SplitMix64 finaliser: stable across processes (unlike `Hasher`, which
    /// is seeded per process) and well mixed in the high bits multiply-shift uses.
    static func stableHash(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        return h ^ (h >> 31)
    }
}

/// Random numbers for traffic splits: SplitMix64 over one shared atomic counter, seeded once from
/// the system. Not for secrets — a split only needs uniform draws, and the system generator cost
/// a `getrandom` syscall per request.
struct SplitRandom: RandomNumberGenerator {
    private static let state: Atomic<UInt64> = {
        var system = SystemRandomNumberGenerator()
        return Atomic(system.next())
    }()

    mutating func next() -> UInt64 {
        var z = Self.state.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
