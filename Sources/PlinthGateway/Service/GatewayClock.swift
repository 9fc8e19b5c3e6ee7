#if canImport(Glibc)
    import Glibc
#endif

/// Time helpers for the request path: no Foundation, no allocation.
enum GatewayClock {
    /// Monotonic nanoseconds (the building blocks' clock).
    static func now() -> UInt64 { MonotonicClock.now() }

    /// Wall-clock microseconds since the Unix epoch (usage timestamps).
    static func wallMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
    }

    /// A non-negative duration as nanoseconds (saturating).
    static func nanoseconds(_ d: Duration) -> UInt64 {
        let (seconds, attoseconds) = d.components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return UInt64.max / 2 }
        return whole + UInt64(attoseconds / 1_000_000_000)
    }
}
