import PlinthGateway
import Synchronization

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let nanos = Atomic<UInt64>(1_000_000_000)

    var now: NanosecondClock { { [self] in nanos.load(ordering: .relaxed) } }
    func advance(seconds: Double) { nanos.add(UInt64(seconds * 1e9), ordering: .relaxed) }
    func advance(nanoseconds: UInt64) { nanos.add(nanoseconds, ordering: .relaxed) }
}
