import Dispatch
import Foundation
import PlinthCore
import Synchronization

/// HTTP/1.1 server: `eventLoopCount` epoll loops (each with its own SO_REUSEPORT listener),
/// handlers on a fixed thread pool unless a route `runsOnEventLoop`. Keep-alive, pipelining
/// (answered in order), chunked bodies, 100-continue, IPv4/IPv6 and Unix-domain sockets.
public final class HTTPServer: Sendable {
    private struct State: Sendable {
        var started = false
        var stopped = false
        var loops: [EventLoop] = []
        var sharedListeners: [Int32] = []
        var unixPaths: [String] = []
    }

    private let ctx: ServerContext
    private let state = Mutex(State())
    private let running = DispatchGroup()

    public var configuration: HTTPServerConfiguration { ctx.config }
    public var router: Router { ctx.router }

    public init(configuration: HTTPServerConfiguration, router: Router) {
        ctx = ServerContext(config: configuration, router: router)
    }

    /// Binds and starts the loops; returns the bound addresses (real port when 0 was asked).
    public func start() throws -> [ListenAddress] {
        let alreadyStarted = state.withLock { s -> Bool in
            defer { s.started = true }
            return s.started
        }
        if alreadyStarted { throw HTTPServerError.alreadyStarted }
        HTTPServer.raiseDescriptorLimit()
        let loopCount = max(1, ctx.config.eventLoopCount)
        var perLoop = [[(fd: Int32, owned: Bool, shared: Bool)]](repeating: [], count: loopCount)
        var bound: [ListenAddress] = []
        var shared: [Int32] = []
        var unixPaths: [String] = []
        var opened: [Int32] = []
        do {
            for address in ctx.config.listen {
                switch address {
                case .tcp(let host, _):
                    let first = try SocketAddress.listen(address, reusePort: true)
                    opened.append(first.fd)
                    bound.append(first.bound)
                    perLoop[0].append((first.fd, true, false))
                    guard case .tcp(_, let port) = first.bound else { continue }
                    for i in 1..<loopCount {
                        let next = try SocketAddress.listen(.tcp(host: host, port: port), reusePort: true)
                        opened.append(next.fd)
                        perLoop[i].append((next.fd, true, false))
                    }
                case .unix(let path):
                    let l = try SocketAddress.listen(address, reusePort: false)
                    opened.append(l.fd)
                    shared.append(l.fd)
                    unixPaths.append(path)
                    bound.append(l.bound)
                    for i in 0..<loopCount { perLoop[i].append((l.fd, false, true)) }
                }
            }
            var loops: [EventLoop] = []
            for i in 0..<loopCount { loops.append(try EventLoop(ctx: ctx, index: i, listeners: perLoop[i])) }
            ctx.pool.start()
            running.enter()
            for loop in loops {
                let thread = Thread { loop.run() }
                thread.name = "http-loop-\(loop.index)"
                thread.start()
            }
            state.withLock {
                $0.loops = loops
                $0.sharedListeners = shared
                $0.unixPaths = unixPaths
            }
            ctx.logger.info("listening", ["addresses": .string(bound.map(\.description).joined(separator: " "))])
            return bound
        } catch {
            for fd in opened { close(fd) }
            state.withLock { $0.started = false }
            throw error
        }
    }

    /// Stop accepting, finish in-flight requests within the deadline, close everything. Idempotent;
    /// returns once the loops have exited.
    public func shutdown() {
        let (loops, shared, paths, first) = state.withLock { s -> ([EventLoop], [Int32], [String], Bool) in
            let first = s.started && !s.stopped
            s.stopped = true
            return (s.loops, s.sharedListeners, s.unixPaths, first)
        }
        guard first else {
            running.wait()
            return
        }
        ctx.shuttingDown.store(true, ordering: .relaxed)
        for loop in loops { loop.post(.shutdown) }
        for loop in loops { loop.join() }
        ctx.pool.stop()
        for fd in shared { close(fd) }
        for path in paths { unlink(path) }
        state.withLock { $0.loops = [] }
        running.leave()
    }

    /// Blocks until shut down (returns at once if never started).
    public func wait() {
        running.wait()
    }

    /// Lifts the soft open-files limit to the hard one so `maxConnections` is reachable.
    private static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// Connections currently open across all loops.
    public var openConnectionCount: Int { ctx.openConnections.load(ordering: .relaxed) }
}
