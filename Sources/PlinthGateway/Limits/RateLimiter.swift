import Synchronization

/// Token buckets per API key and per tenant, checked together: a request passes only if every
/// bucket it is subject to has a token, and then takes one from each.
public final class RateLimiter: Sendable {
    /// Which bucket a limit applies to.
    public enum Scope: Hashable, Sendable {
        case apiKey(String)
        case tenant(String)
    }

    private struct State: ~Copyable {
        var buckets: [Scope: TokenBucket] = [:]
    }

    private let state = Mutex(State())
    private let clock: NanosecondClock
    private let maxBuckets: Int

    /// - Parameter maxBuckets: past this many buckets, full (idle) ones are dropped; they would
    ///   be recreated full anyway, so dropping them changes no decision.
    public init(clock: @escaping NanosecondClock = MonotonicClock.now, maxBuckets: Int = 100_000) {
        self.clock = clock
        self.maxBuckets = max(16, maxBuckets)
    }

    /// Checks and, if allowed, charges `cost` to every `(scope, limit)` given.
    /// `.limited` carries the longest wait among the buckets that are short.
    public func check(_ limits: [(Scope, RateLimit)], cost: Double = 1) -> RateDecision {
        let now = clock()
        return state.withLock { state in
            var wait: UInt64 = 0
            for (scope, limit) in limits {
                var bucket = state.buckets[scope] ?? TokenBucket(limit: limit, now: now)
                if bucket.limit != limit { bucket.update(limit: limit, now: now) }
                bucket.refill(now: now)
                wait = max(wait, bucket.wait(for: cost))
                state.buckets[scope] = bucket
            }
            guard wait == 0 else { return .limited(retryAfterNanos: wait) }
            for (scope, _) in limits { state.buckets[scope]?.consume(cost) }
            if state.buckets.count > maxBuckets {
                state.buckets = state.buckets.filter { !$0.value.isFull(now: now) }
            }
            return .allowed
        }
    }

    /// Convenience for the gateway: the key's and the tenant's limits (nil = unlimited).
    public func check(apiKey: String, keyLimit: RateLimit?, tenant: String, tenantLimit: RateLimit?) -> RateDecision {
        var limits: [(Scope, RateLimit)] = []
        if let keyLimit { limits.append((.apiKey(apiKey), keyLimit)) }
        if let tenantLimit { limits.append((.tenant(tenant), tenantLimit)) }
        guard !limits.isEmpty else { return .allowed }
        return check(limits)
    }

    /// Number of buckets held (for metrics and tests).
    public var bucketCount: Int { state.withLock { $0.buckets.count } }
}
