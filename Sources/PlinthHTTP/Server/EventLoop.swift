import CLinux
import Dispatch
import PlinthCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One event-loop thread: its own epoll, its own SO_REUSEPORT listeners, edge-triggered sockets.
/// Safe to share as `@unchecked Sendable` because every stored `var` is touched only by the loop's own
/// thread inside `run()`; other threads reach it only through `post(_:)` (a Mutex-guarded mailbox
/// plus an eventfd write) and `join()` (a semaphore).
final class EventLoop: @unchecked Sendable {
    static let listenerTag: UInt64 = 1 << 32
    static let wakeTag: UInt64 = 2 << 32
    static let upstreamTag: UInt64 = 4 << 32
    static let readBufferSize = 64 * 1024
    static let maxPendingOutput = 256 * 1024

    let ctx: ServerContext
    let index: Int
    let epfd: Int32
    let wakeFd: Int32
    private(set) var listeners: [(fd: Int32, owned: Bool, shared: Bool)]
    private var acceptPaused = false
    var connections: [Int32: Connection] = [:]
    private let mailbox = Mutex<[LoopMessage]>([])
    /// Jobs the loop posted to itself, run after the current round of events.
    private var localJobs: [@Sendable () -> Void] = []
    private var runningJobs: [@Sendable () -> Void] = []
    /// Connections whose async answers completed this round (sent by `sendAnswered`), and the
    /// list being sent.
    var answered: [Connection] = []
    var sending: [Connection] = []
    let readBuffer: UnsafeMutableRawPointer
    var now: UInt64 = Sys.monotonicNanos()
    private var nextID: UInt64 = 1
    private var stopping = false
    private var stopDeadline: UInt64 = 0
    private let exited = DispatchSemaphore(value: 0)
    private let tickMs: Int32
    /// This loop's copy of the route table, refreshed when the router's generation moves.
    private var routes: (trie: RouteTrie, generation: Int) = (RouteTrie(), -1)
    /// Latest found routes by method and path (a few, replaced in turn): a client repeating one
    /// path, as prediction callers do, skips the trie walk. Cleared with the route snapshot.
    private var recentMatches: [(method: HTTPMethod, path: Substring, match: RouteTrie.Match)] = []
    private var nextRecentSlot = 0
    private static let recentMatchSlots = 8
    /// The loop thread's pthread id (0 before `run`), for `isCurrentThread`.
    private let threadID = Atomic<UInt>(0)
    /// Non-blocking client whose sockets live on this loop's epoll.
    let upstream: UpstreamClient

    init(ctx: ServerContext, index: Int, listeners: [(fd: Int32, owned: Bool, shared: Bool)]) throws(HTTPServerError) {
        self.ctx = ctx
        self.index = index
        epfd = try Sys.check("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        wakeFd = try Sys.check("eventfd") { eventfd(0, plinth_efd_nonblock | plinth_efd_cloexec) }
        readBuffer = UnsafeMutableRawPointer.allocate(byteCount: EventLoop.readBufferSize, alignment: 16)
        self.listeners = listeners
        upstream = UpstreamClient(epfd: epfd, tag: EventLoop.upstreamTag)
        let shortest = min(ctx.config.headerTimeout, ctx.config.bodyTimeout, ctx.config.idleTimeout)
        tickMs = Int32(clamping: max(10, min(500, Int(Sys.milliseconds(shortest)) / 4)))
        try add(wakeFd, tag: EventLoop.wakeTag, events: plinth_epollin)
        for (i, l) in listeners.enumerated() {
            try add(
                l.fd, tag: EventLoop.listenerTag | UInt64(i),
                events: plinth_epollin | (l.shared ? plinth_epollexclusive : 0))
        }
    }

    deinit {
        readBuffer.deallocate()
        close(epfd)
        close(wakeFd)
    }

    private func add(_ fd: Int32, tag: UInt64, events: UInt32) throws(HTTPServerError) {
        var ev = epoll_event()
        ev.events = events
        ev.data.u64 = tag
        _ = try Sys.check("epoll_ctl") { epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) }
    }

    /// Hands a message to the loop from any thread.
    func post(_ message: LoopMessage) {
        // From the loop itself (a request released by one finishing on this loop): run it after
        // this round of events, without the mailbox's lock, an eventfd write and an epoll wake-up.
        if case .run(let job) = message, isCurrentThread {
            localJobs.append(job)
            return
        }
        // Only the first message into an empty mailbox needs to wake the loop: it drains everything
        // queued after it reads the eventfd.
        let wasEmpty = mailbox.withLock { box -> Bool in
            box.append(message)
            return box.count == 1
        }
        if wasEmpty {
            var one: UInt64 = 1
            _ = write(wakeFd, &one, 8)
        }
    }

    func join() { exited.wait() }

    /// True on the loop's own thread.
    var isCurrentThread: Bool {
        threadID.load(ordering: .relaxed) == UInt(bitPattern: Int(bitPattern: UInt(pthread_self())))
    }

    /// Route lookup without taking the router's lock on the hot path.
    func matchRoute(_ method: HTTPMethod, _ path: Substring) -> RouteTrie.Match {
        if ctx.router.generation.load(ordering: .acquiring) != routes.generation {
            routes = ctx.router.snapshot()
            recentMatches.removeAll(keepingCapacity: true)
        }
        for recent in recentMatches where recent.method == method && recent.path == path {
            return recent.match
        }
        let match = routes.trie.match(method: method, path: path)
        if case .found = match {
            let entry = (method: method, path: path, match: match)
            if recentMatches.count < Self.recentMatchSlots {
                recentMatches.append(entry)
            } else {
                recentMatches[nextRecentSlot] = entry
                nextRecentSlot = (nextRecentSlot + 1) % Self.recentMatchSlots
            }
        }
        return match
    }

    func run() {
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        threadID.store(UInt(bitPattern: Int(bitPattern: UInt(pthread_self()))), ordering: .relaxed)
        defer {
            upstream.closeAll()
            events.deallocate()
            exited.signal()
        }
        var nextSweep = now + UInt64(tickMs) * 1_000_000
        while true {
            let n = epoll_wait(epfd, events, Int32(capacity), tickMs)
            now = Sys.monotonicNanos()
            if n > 0 {
                for i in 0..<Int(n) {
                    let ev = events[i]
                    let tag = ev.data.u64
                    if tag >= EventLoop.upstreamTag {
                        upstream.onEvent(Int32(truncatingIfNeeded: tag & 0xFFFF_FFFF), ev.events, now: now)
                    } else if tag >= EventLoop.wakeTag {
                        drainMailbox()
                    } else if tag >= EventLoop.listenerTag {
                        acceptAll(listeners[Int(tag & 0xFFFF_FFFF)].fd)
                    } else if let conn = connections[Int32(truncatingIfNeeded: tag)] {
                        onEvent(conn, ev.events)
                    }
                }
            }
            runLocalJobs()
            // Pipelined upstream requests of the round go out first, in one send per socket, so
            // the replicas work while this loop answers its clients.
            if upstream.hasUnflushed { upstream.flush() }
            // Async answers completed this round go out together at its end: each send wakes the
            // client's reader, and a wake-up in mid-round can preempt the rest of the round on
            // this core. (One-at-a-time upstream requests are sent at once: held to the round's
            // end they left the replicas idle meanwhile.) Answering resumes input, so until none
            // is left.
            while !answered.isEmpty {
                sendAnswered()
                runLocalJobs()
                if upstream.hasUnflushed { upstream.flush() }
            }
            if now >= nextSweep {
                if acceptPaused && !stopping { resumeAccepting() }
                sweepTimeouts()
                upstream.sweep(now: now)
                if upstream.hasUnflushed { upstream.flush() }
                nextSweep = now + UInt64(tickMs) * 1_000_000
            }
            if stopping {
                if connections.isEmpty { return }
                if now >= stopDeadline {
                    forceClose()
                    return
                }
            }
        }
    }

    // MARK: events

    private func onEvent(_ conn: Connection, _ events: UInt32) {
        if events & (plinth_epollrdhup | plinth_epollhup | plinth_epollerr) != 0 { conn.hangupSeen = true }
        if events & plinth_epollout != 0, conn.pendingOutput > 0 {
            flush(conn)
            if conn.closed { return }
            // Output had backed up: requests already buffered were left unprocessed.
            if conn.pendingOutput == 0 {
                processBuffered(conn)
                if !conn.closed { readAndProcess(conn) }  // reading may have stopped on backed-up output
            }
            return
        }
        if events & (plinth_epollin | plinth_epollrdhup | plinth_epollhup | plinth_epollerr) != 0 {
            conn.mayHaveInput = true
            readAndProcess(conn)
        }
    }

    private func acceptAll(_ listenFd: Int32) {
        if stopping { return }
        while true {
            var storage = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept4(listenFd, $0, &len, plinth_sock_nonblock | plinth_sock_cloexec)
                }
            }
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM {
                    // Out of descriptors: the level-triggered listener would spin; stop watching it
                    // until the next timer sweep.
                    pauseAccepting()
                }
                return
            }
            let open = ctx.openConnections.add(1, ordering: .relaxed).newValue
            if open > ctx.config.maxConnections {
                ctx.openConnections.subtract(1, ordering: .relaxed)
                let busy = Array(
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
                _ = busy.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, plinth_msg_nosignal) }
                close(fd)
                continue
            }
            let family = Int32(storage.ss_family)
            if family == AF_INET || family == AF_INET6 {
                Sys.setOption(fd, Int32(IPPROTO_TCP), plinth_tcp_nodelay, 1)
            }
            let conn = Connection(fd: fd, id: nextID, remote: SocketAddress.describe(storage), now: now)
            nextID += 1
            if !Sys.watch(epfd: epfd, EPOLL_CTL_ADD, fd: fd, tag: UInt64(UInt32(bitPattern: fd)), writable: false) {
                close(fd)
                ctx.openConnections.subtract(1, ordering: .relaxed)
                continue
            }
            connections[fd] = conn
        }
    }

    /// Reads until the socket is drained, the connection is handed to a handler, or output backs up.
    func readAndProcess(_ conn: Connection) {
        while !conn.closed, conn.phase != .handler, conn.deferredJob == nil, !conn.closeAfterFlush,
            conn.pendingOutput < EventLoop.maxPendingOutput, !conn.waitsForAnswers,
            conn.asyncOpen < ctx.config.maxPipelinedRequests
        {
            let r = conn.transport.receive(readBuffer, EventLoop.readBufferSize)
            conn.mayHaveInput = r == EventLoop.readBufferSize
            if r > 0 {
                let fresh = UnsafeRawBufferPointer(start: readBuffer, count: r)
                if conn.input.isEmpty {
                    let used = process(conn, fresh)
                    if !conn.closed, used < r { conn.input.append(UnsafeRawBufferPointer(rebasing: fresh[used...])) }
                } else {
                    conn.input.append(fresh)
                    let used = process(conn, conn.input.readable)
                    if !conn.closed { conn.input.consume(used) }
                }
                if conn.closed { return }
                flush(conn)
                // A short read drained the socket; edge-triggered epoll reports new data as a new edge.
                if r < EventLoop.readBufferSize && !conn.hangupSeen { return }
            } else if r == 0 {
                peerClosed(conn)
                return
            } else {
                if errno == EINTR {
                    conn.mayHaveInput = true
                    continue
                }
                if errno != EAGAIN && errno != EWOULDBLOCK { closeConnection(conn) }
                return
            }
        }
    }

    private func peerClosed(_ conn: Connection) {
        if conn.pendingOutput == 0 && conn.quiet {
            closeConnection(conn)
        } else {
            conn.closeAfterFlush = true
        }
    }

    /// Writes pending output; closes when asked to after the last byte, or submits a deferred job.
    func flush(_ conn: Connection) {
        if conn.pendingOutput > 0 {
            let watched = !conn.deliveries.isEmpty
            // Right before the send that may complete them (see `HTTPDelivery.sending`).
            if watched { for d in conn.deliveries { d.observer(.sending) } }
            let (written, _) = conn.output.withUnsafeBytes { raw in
                Sys.send(conn.transport, raw.baseAddress! + conn.outputSent, raw.count - conn.outputSent)
            }
            if written < 0 {
                closeConnection(conn)
                return
            }
            if written > 0 { conn.since = now }
            conn.outputSent += written
            if watched { conn.settleDeliveries() }
            if conn.pendingOutput > 0 {
                watchWritable(conn, true)
                return
            }
            conn.output.removeAll(keepingCapacity: conn.output.capacity <= 64 * 1024)
            conn.outputSent = 0
            watchWritable(conn, false)
        }
        if conn.closeAfterFlush && conn.quiet {
            closeConnection(conn)
            return
        }
        if let job = conn.deferredJob {
            conn.deferredJob = nil
            ctx.pool.submit(job)
        }
    }

    /// Adds or drops EPOLLOUT for a connection whose output backed up or drained.
    private func watchWritable(_ conn: Connection, _ on: Bool) {
        guard conn.watchingWritable != on else { return }
        conn.watchingWritable = on
        _ = Sys.watch(epfd: epfd, EPOLL_CTL_MOD, fd: conn.fd, tag: UInt64(UInt32(bitPattern: conn.fd)), writable: on)
    }

    func closeConnection(_ conn: Connection) {
        guard !conn.closed else { return }
        conn.closed = true
        if !conn.deliveries.isEmpty || !conn.parked.isEmpty { conn.failDeliveries() }
        connections[conn.fd] = nil
        conn.input.release()
        conn.transport.close()
        ctx.openConnections.subtract(1, ordering: .relaxed)
    }

    // MARK: mailbox, timers, shutdown

    private func runLocalJobs() {
        // Two buffers swapped: jobs posted while these run land in the other one, and neither
        // is shared when emptied, so neither reallocates.
        while !localJobs.isEmpty {
            swap(&localJobs, &runningJobs)
            for job in runningJobs { job() }
            runningJobs.removeAll(keepingCapacity: true)
        }
    }

    private func drainMailbox() {
        var value: UInt64 = 0
        _ = read(wakeFd, &value, 8)
        let messages = mailbox.withLock { box -> [LoopMessage] in
            let m = box
            box.removeAll(keepingCapacity: true)
            return m
        }
        for message in messages {
            switch message {
            case .handlerDone(let fd, let id, let output, let leftover, let close):
                guard let conn = connections[fd], conn.id == id else { continue }
                handlerDone(conn, output: output, leftover: leftover, close: close)
            case .asyncDone(let fd, let id, let seq, let response, let head, let info):
                finishAsync(fd: fd, id: id, seq: seq, response: response, head: head, info: info)
            case .run(let job):
                job()
            case .shutdown:
                beginShutdown()
            }
        }
    }

    private func handlerDone(_ conn: Connection, output: [UInt8], leftover: [UInt8]?, close: Bool) {
        conn.phase = conn.resumePhase
        conn.resumePhase = .idle
        if conn.phase == .idle { conn.since = now }
        if close || stopping { conn.closeAfterFlush = true }
        if let leftover, !leftover.isEmpty {
            leftover.withUnsafeBytes { conn.input.append($0) }
        }
        if !output.isEmpty {
            if conn.pendingOutput == 0 {
                conn.output = output
                conn.outputSent = 0
            } else {
                conn.output += output
            }
        }
        if !conn.parked.isEmpty { deliverParked(conn) }
        refuseBrokenBodyIfAnswered(conn)
        if conn.closed { return }
        flush(conn)
        if conn.closed || conn.closeAfterFlush { return }
        processBuffered(conn)
        if !conn.closed && (conn.mayHaveInput || conn.hangupSeen) { readAndProcess(conn) }
    }

    /// Processes requests already sitting in `conn.input` (pipelined behind a handler or backed-up output).
    func processBuffered(_ conn: Connection) {
        guard !conn.input.isEmpty, conn.phase != .handler, conn.deferredJob == nil else { return }
        let used = process(conn, conn.input.readable)
        if conn.closed { return }
        conn.input.consume(used)
        flush(conn)
    }

    private func sweepTimeouts() {
        let cfg = ctx.config
        for conn in Array(connections.values) {
            let waited = now &- conn.since
            if conn.pendingOutput > 0 {
                if waited > Sys.nanoseconds(cfg.bodyTimeout) { closeConnection(conn) }
                continue
            }
            // Pipelined requests still in their handlers: the timeouts wait for their answers.
            if conn.asyncOpen > 0 { continue }
            switch conn.phase {
            case .idle:
                if stopping || waited > Sys.nanoseconds(cfg.idleTimeout) { closeConnection(conn) }
            case .head:
                if waited > Sys.nanoseconds(cfg.headerTimeout) { respondError(conn, 408, "request head timed out") }
            case .body:
                if waited > Sys.nanoseconds(cfg.bodyTimeout) { respondError(conn, 408, "request body timed out") }
            case .handler:
                break
            }
        }
    }

    private func pauseAccepting() {
        guard !acceptPaused else { return }
        acceptPaused = true
        for l in listeners { epoll_ctl(epfd, EPOLL_CTL_DEL, l.fd, nil) }
        ctx.logger.warning("out of file descriptors; pausing accept", ["loop": .int(index)])
    }

    private func resumeAccepting() {
        acceptPaused = false
        for (i, l) in listeners.enumerated() {
            try? add(
                l.fd, tag: EventLoop.listenerTag | UInt64(i),
                events: plinth_epollin | (l.shared ? plinth_epollexclusive : 0))
        }
    }

    private func beginShutdown() {
        guard !stopping else { return }
        stopping = true
        stopDeadline = now + Sys.nanoseconds(ctx.config.shutdownDeadline)
        for l in listeners {
            if !acceptPaused { epoll_ctl(epfd, EPOLL_CTL_DEL, l.fd, nil) }
            if l.owned { close(l.fd) }
        }
        listeners = []
        for conn in Array(connections.values)
        where conn.phase == .idle && conn.pendingOutput == 0 && conn.quiet {
            closeConnection(conn)
        }
    }

    /// Past the deadline: wake handler threads blocked on their sockets, give them a moment to post
    /// back, then close whatever is left.
    private func forceClose() {
        for conn in connections.values where conn.phase == .handler { conn.transport.shutdown() }
        let grace = Sys.monotonicNanos() + 1_000_000_000
        while !connections.values.allSatisfy({ $0.phase != .handler }) && Sys.monotonicNanos() < grace {
            usleep(10_000)
            drainMailbox()
            runLocalJobs()
        }
        for conn in Array(connections.values) where conn.phase != .handler { closeConnection(conn) }
    }
}
