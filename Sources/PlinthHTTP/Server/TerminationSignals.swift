import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// SIGTERM/SIGINT → callback once. Uses Dispatch signal sources (the signals' default action is
/// replaced by "ignore" so no thread is killed by them).
public enum TerminationSignals {
    private static let state = Mutex<
        (sources: [any DispatchSourceSignal], callbacks: [@Sendable () -> Void], fired: Bool)
    >(
        ([], [], false))
    private static let queue = DispatchQueue(label: "plinth.signals")

    /// Registers `body` to run once on the first SIGTERM or SIGINT. Several callbacks may be registered.
    public static func onTerminate(_ body: @escaping @Sendable () -> Void) {
        let install = state.withLock { s -> Bool in
            s.callbacks.append(body)
            return s.sources.isEmpty
        }
        guard install else { return }
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { fire() }
            source.resume()
            sources.append(source)
        }
        state.withLock { $0.sources = sources }
    }

    private static func fire() {
        let callbacks = state.withLock { s -> [@Sendable () -> Void] in
            if s.fired { return [] }
            s.fired = true
            return s.callbacks
        }
        for callback in callbacks { callback() }
    }
}
