import Synchronization

/// A Double held in an atomic bit pattern, updated by compare-and-swap.
final class AtomicDouble: Sendable {
    private let bits = Atomic<UInt64>(0)

    init(_ value: Double = 0) { bits.store(value.bitPattern, ordering: .relaxed) }

    var value: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }

    func store(_ v: Double) { bits.store(v.bitPattern, ordering: .relaxed) }

    func add(_ delta: Double) {
        var old = bits.load(ordering: .relaxed)
        while true {
            let new = (Double(bitPattern: old) + delta).bitPattern
            let (exchanged, current) = bits.compareExchange(expected: old, desired: new, ordering: .relaxed)
            if exchanged { return }
            old = current
        }
    }
}

/// A monotonically increasing count.
public final class Counter: Sendable {
    private let storage = AtomicDouble()

    /// Adds 1.
    public func inc() { storage.add(1) }

    /// Adds `amount`; negative amounts are ignored (counters never go down).
    public func inc(by amount: Double) {
        guard amount > 0 else { return }
        storage.add(amount)
    }

    public var value: Double { storage.value }
}

/// A value that goes up and down.
public final class Gauge: Sendable {
    private let storage = AtomicDouble()

    public func set(_ v: Double) { storage.store(v) }
    public func inc(by amount: Double = 1) { storage.add(amount) }
    public func dec(by amount: Double = 1) { storage.add(-amount) }
    public var value: Double { storage.value }
}

/// Observations counted into cumulative buckets (`le`), with their sum and count.
public final class Histogram: Sendable {
    /// Upper bounds, ascending, without +Inf.
    public let bounds: [Double]
    private struct Counts {
        var buckets: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0
    }
    private let counts: Mutex<Counts>

    init(bounds: [Double]) {
        self.bounds = bounds
        counts = Mutex(Counts(buckets: [UInt64](repeating: 0, count: bounds.count)))
    }

    /// Records one observation (NaN is ignored).
    public func observe(_ v: Double) {
        guard !v.isNaN else { return }
        // First bucket whose bound holds v; the rest are derived cumulatively at render time.
        var lo = 0
        var hi = bounds.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if v <= bounds[mid] { hi = mid } else { lo = mid + 1 }
        }
        counts.withLock { c in
            if lo < c.buckets.count { c.buckets[lo] += 1 }
            c.sum += v
            c.count += 1
        }
    }

    /// Cumulative bucket counts (one per bound), sum and count.
    public var snapshot: (cumulative: [UInt64], sum: Double, count: UInt64) {
        counts.withLock { c in
            var running: UInt64 = 0
            return (
                c.buckets.map {
                    running += $0
                    return running
                }, c.sum, c.count
            )
        }
    }
}
