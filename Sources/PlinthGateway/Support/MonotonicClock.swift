#if canImport(Glibc)
    import Glibc
#endif

/// A source of monotonic nanoseconds; injected so tests can drive time by hand.
public typealias NanosecondClock = @Sendable () -> UInt64

/// `CLOCK_MONOTONIC` in nanoseconds: never jumps with wall-clock changes.
public enum MonotonicClock {
    public static let now: NanosecondClock = {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
