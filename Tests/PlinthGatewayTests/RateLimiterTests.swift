import PlinthGateway
import XCTest

final class RateLimiterTests: XCTestCase {
    func testBucketAllowsBurstThenLimitsWithExactRetryAfter() {
        var bucket = TokenBucket(limit: RateLimit(ratePerSecond: 2, burst: 5), now: 0)
        for i in 0..<5 { XCTAssertEqual(bucket.take(now: 0), .allowed, "burst token \(i)") }
        // Empty: the next token comes after 1/rate = 0.5 s.
        XCTAssertEqual(bucket.take(now: 0), .limited(retryAfterNanos: 500_000_000))
        XCTAssertEqual(bucket.take(now: 0).retryAfterSeconds, 1)
        // 0.2 s later 0.4 tokens are there: 0.3 s to go.
        XCTAssertEqual(bucket.take(now: 200_000_000), .limited(retryAfterNanos: 300_000_000))
        XCTAssertEqual(bucket.take(now: 500_000_000), .allowed)
    }

    func testBucketRefillIsCappedAtBurst() {
        var bucket = TokenBucket(limit: RateLimit(ratePerSecond: 10, burst: 3), now: 0)
        for _ in 0..<3 { _ = bucket.take(now: 0) }
        bucket.refill(now: 3600 * 1_000_000_000)
        XCTAssertEqual(bucket.tokens, 3)
        for _ in 0..<3 { XCTAssertEqual(bucket.take(now: 3600 * 1_000_000_000), .allowed) }
        XCTAssertNotEqual(bucket.take(now: 3600 * 1_000_000_000), .allowed)
    }

    func testRetryAfterSecondsRoundsUpAndIsAtLeastOne() {
        XCTAssertEqual(RateDecision.limited(retryAfterNanos: 1).retryAfterSeconds, 1)
        XCTAssertEqual(RateDecision.limited(retryAfterNanos: 1_000_000_000).retryAfterSeconds, 1)
        XCTAssertEqual(RateDecision.limited(retryAfterNanos: 1_000_000_001).retryAfterSeconds, 2)
        XCTAssertEqual(RateDecision.limited(retryAfterNanos: 59_500_000_000).retryAfterSeconds, 60)
        XCTAssertNil(RateDecision.allowed.retryAfterSeconds)
    }

    func testSlowRateGivesLongRetryAfter() {
        // 6 requests per minute, burst 1.
        var bucket = TokenBucket(limit: RateLimit(ratePerSecond: 0.1, burst: 1), now: 0)
        XCTAssertEqual(bucket.take(now: 0), .allowed)
        XCTAssertEqual(bucket.take(now: 0).retryAfterSeconds, 10)
        XCTAssertEqual(bucket.take(now: 4_000_000_000).retryAfterSeconds, 6)
    }

    func testKeyAndTenantLimitsAreBothEnforcedAndOnlyChargedTogether() {
        let clock = ManualClock()
        let limiter = RateLimiter(clock: clock.now)
        let keyLimit = RateLimit(ratePerSecond: 1, burst: 3)
        let tenantLimit = RateLimit(ratePerSecond: 1, burst: 4)
        // Key a: 3 allowed, then the key is limited (tenant still has 1).
        for _ in 0..<3 {
            XCTAssertEqual(
                limiter.check(apiKey: "a", keyLimit: keyLimit, tenant: "t", tenantLimit: tenantLimit), .allowed)
        }
        XCTAssertEqual(
            limiter.check(apiKey: "a", keyLimit: keyLimit, tenant: "t", tenantLimit: tenantLimit).retryAfterSeconds, 1)
        // Key b of the same tenant: the tenant's last token, then the tenant is limited.
        XCTAssertEqual(limiter.check(apiKey: "b", keyLimit: keyLimit, tenant: "t", tenantLimit: tenantLimit), .allowed)
        XCTAssertNotEqual(
            limiter.check(apiKey: "b", keyLimit: keyLimit, tenant: "t", tenantLimit: tenantLimit), .allowed)
        // A rejected request charged nothing: key b still has 2 tokens once the tenant refills.
        clock.advance(seconds: 2)
        XCTAssertEqual(limiter.check(apiKey: "b", keyLimit: keyLimit, tenant: "t", tenantLimit: tenantLimit), .allowed)
        XCTAssertEqual(limiter.check(apiKey: "b", keyLimit: keyLimit, tenant: "t", tenantLimit: tenantLimit), .allowed)
        // Another tenant is unaffected.
        XCTAssertEqual(limiter.check(apiKey: "c", keyLimit: keyLimit, tenant: "u", tenantLimit: tenantLimit), .allowed)
    }

    func testNoLimitsMeansAllowed() {
        let limiter = RateLimiter(clock: ManualClock().now)
        for _ in 0..<100 {
            XCTAssertEqual(limiter.check(apiKey: "a", keyLimit: nil, tenant: "t", tenantLimit: nil), .allowed)
        }
        XCTAssertEqual(limiter.bucketCount, 0)
    }

    func testIdleBucketsAreDroppedPastTheCap() {
        let clock = ManualClock()
        let limiter = RateLimiter(clock: clock.now, maxBuckets: 16)
        let limit = RateLimit(ratePerSecond: 100, burst: 10)
        for i in 0..<100 {
            _ = limiter.check([(.apiKey("k\(i)"), limit)])
            clock.advance(seconds: 1)
        }
        XCTAssertLessThanOrEqual(limiter.bucketCount, 17)
    }

    func testLoweringALimitCapsTheTokens() {
        let clock = ManualClock()
        let limiter = RateLimiter(clock: clock.now)
        XCTAssertEqual(limiter.check([(.tenant("t"), RateLimit(ratePerSecond: 1, burst: 100))]), .allowed)
        let lowered = RateLimit(ratePerSecond: 1, burst: 2)
        XCTAssertEqual(limiter.check([(.tenant("t"), lowered)]), .allowed)
        XCTAssertEqual(limiter.check([(.tenant("t"), lowered)]), .allowed)
        XCTAssertNotEqual(limiter.check([(.tenant("t"), lowered)]), .allowed)
    }
}
