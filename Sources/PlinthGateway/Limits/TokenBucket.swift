/// A rate and a burst: `ratePerSecond` tokens are added per second, up to `burst`.
public struct RateLimit: Sendable, Equatable {
    public var ratePerSecond: Double
    public var burst: Double

    /// - Precondition: rate > 0 and burst ≥ 1 (configuration, validated where it is accepted).
    public init(ratePerSecond: Double, burst: Double) {
        precondition(ratePerSecond > 0 && ratePerSecond.isFinite, "rate must be positive")
        precondition(burst >= 1 && burst.isFinite, "burst must be at least 1")
        self.ratePerSecond = ratePerSecond
        self.burst = burst
    }
}

/// The answer of a rate check.
public enum RateDecision: Sendable, Equatable {
    case allowed
    /// Over the limit; enough tokens will be there after `retryAfterNanos`.
    case limited(retryAfterNanos: UInt64)

    /// Whole seconds for an HTTP `Retry-After` header: rounded up, at least 1.
    public var retryAfterSeconds: Int? {
        guard case .limited(let nanos) = self else { return nil }
        return max(1, Int((nanos + 999_999_999) / 1_000_000_000))
    }
}

/// A token bucket on a monotonic nanosecond clock. Starts full.
public struct TokenBucket: Sendable, Equatable {
    public private(set) var limit: RateLimit
    public private(set) var tokens: Double
    private var lastRefill: UInt64

    public init(limit: RateLimit, now: UInt64) {
        self.limit = limit
        tokens = limit.burst
        lastRefill = now
    }

    /// Adds the tokens earned since the last refill (time never runs backwards here).
    public mutating func refill(now: UInt64) {
        guard now > lastRefill else { return }
        let elapsed = Double(now - lastRefill) / 1e9
        tokens = min(limit.burst, tokens + elapsed * limit.ratePerSecond)
        lastRefill = now
    }

    /// Nanoseconds until `cost` tokens are available (0 if they are now). Call after `refill`.
    public func wait(for cost: Double) -> UInt64 {
        let missing = min(cost, limit.burst) - tokens
        guard missing > 0 else { return 0 }
        return UInt64((missing / limit.ratePerSecond * 1e9).rounded(.up))
    }

    /// Takes `cost` tokens if available. A cost above the burst is capped at the burst.
    public mutating func take(_ cost: Double = 1, now: UInt64) -> RateDecision {
        refill(now: now)
        let needed = min(cost, limit.burst)
        let wait = wait(for: needed)
        guard wait == 0 else { return .limited(retryAfterNanos: wait) }
        tokens -= needed
        return .allowed
    }

    /// Removes tokens already checked with `wait(for:)` (used when several buckets must agree).
    mutating func consume(_ cost: Double) { tokens -= min(cost, limit.burst) }

    /// Changes the limit, keeping the tokens (capped at the new burst).
    public mutating func update(limit: RateLimit, now: UInt64) {
        refill(now: now)
        self.limit = limit
        tokens = min(tokens, limit.burst)
    }

    /// True when the bucket has refilled completely: it can be dropped and recreated full.
    func isFull(now: UInt64) -> Bool {
        var copy = self
        copy.refill(now: now)
        return copy.tokens >= limit.burst
    }
}
