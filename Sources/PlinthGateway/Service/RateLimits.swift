import Synchronization

/// Token buckets per scope ("key:<id>", "tenant:<id>"): `rate` tokens per second, a burst of one
/// second's worth (at least 1). The rate comes with each call, so a changed limit applies at once.
final class RateLimits: Sendable {
    private struct Bucket: Sendable {
        var tokens: Double
        var last: UInt64
    }

    private let buckets = Mutex([String: Bucket]())
    private let capacity: Int

    init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    /// Takes one token; nil when allowed, else the whole seconds to wait (≥ 1) for `Retry-After`.
    func take(scope: String, rate: Double, now: UInt64 = GatewayClock.now()) -> Int? {
        guard rate.isFinite, rate > 0 else { return rate <= 0 ? 1 : nil }
        let burst = max(1, rate)
        return buckets.withLock { buckets -> Int? in
            if buckets.count >= capacity, buckets[scope] == nil { buckets.removeAll(keepingCapacity: true) }
            var bucket = buckets[scope] ?? Bucket(tokens: burst, last: now)
            let elapsed = Double(now &- bucket.last) / 1e9
            bucket.tokens = min(burst, bucket.tokens + max(0, elapsed) * rate)
            bucket.last = now
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                buckets[scope] = bucket
                return nil
            }
            buckets[scope] = bucket
            let wait = (1 - bucket.tokens) / rate
            return max(1, Int(wait.rounded(.up)))
        }
    }
}
