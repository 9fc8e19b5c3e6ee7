import Synchronization

/// Weighted choice among versions. Without a routing key requests are spread by a counter
/// (deterministic, even at small counts); with one, the key's hash picks the version, so one
/// caller's requests stay on one version while the weights stand.
final class VersionSplit: Sendable {
    private let cumulative: [Int]
    private let total: Int
    private let counter = Atomic<UInt64>(0)

    init(weights: [Int]) {
        var running = 0
        var cumulative: [Int] = []
        for weight in weights {
            running += max(0, weight)
            cumulative.append(running)
        }
        self.cumulative = cumulative
        self.total = running
    }

    func choose(routingKey: String?) -> Int? {
        guard total > 0 else { return nil }
        let point: UInt64
        if let routingKey, !routingKey.isEmpty {
            point = VersionSplit.fnv1a(routingKey)
        } else {
            let n = counter.wrappingAdd(1, ordering: .relaxed).oldValue
            // Golden-ratio stride: consecutive requests land far apart on the weight line.
            point = n &* 0x9E37_79B9_7F4A_7C15
        }
        let slot = Int((point >> 11) % UInt64(total))
        for (index, bound) in cumulative.enumerated() where slot < bound { return index }
        return cumulative.count - 1
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in s.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        // Final avalanche so keys differing in the last byte spread over the whole range.
        hash ^= hash >> 33
        hash = hash &* 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        return hash
    }
}
