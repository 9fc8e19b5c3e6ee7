import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// One door to the OS for the HTTP layer: EINTR retried, failures returned as typed errors.
enum Sys {
    static func check(_ name: String, _ body: () -> Int32) throws(HTTPServerError) -> Int32 {
        while true {
            let r = body()
            if r >= 0 { return r }
            if errno == EINTR { continue }
            throw HTTPServerError.systemCall(name: name, errno: errno)
        }
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        _ = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Edge-triggered interest in a socket: always input and hangups, output only while there is
    /// output waiting for room. A permanently watched EPOLLOUT fires on every read the peer makes
    /// of a Unix socket (the kernel's write-space wakeup), waking this loop for nothing; the
    /// peer's reads of our requests and our reads of its answers then cost both sides an epoll
    /// round and a context switch per request.
    static func watch(epfd: Int32, _ op: Int32, fd: Int32, tag: UInt64, writable: Bool) -> Bool {
        var ev = epoll_event()
        ev.events = plinth_epollin | plinth_epollrdhup | plinth_epollet | (writable ? plinth_epollout : 0)
        ev.data.u64 = tag
        return epoll_ctl(epfd, op, fd, &ev) == 0
    }

    /// Writes as much as the socket takes now. Returns bytes written, or -1 on a fatal error; 0 with
    /// `wouldBlock` set when the kernel buffer is full.
    static func send(_ t: any ConnectionTransport, _ p: UnsafeRawPointer, _ n: Int) -> (written: Int, wouldBlock: Bool)
    {
        var done = 0
        while done < n {
            let r = t.send(p + done, n - done)
            if r > 0 {
                done += r
                continue
            }
            if r < 0 && errno == EINTR { continue }
            if r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return (done, true) }
            return (-1, false)
        }
        return (done, false)
    }

    /// Waits until `fd` is readable/writable or `timeoutMs` passes (-1: forever). False on timeout.
    static func poll(_ fd: Int32, events: Int16, timeoutMs: Int32) -> Bool {
        var pfd = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let r = Glibc.poll(&pfd, 1, timeoutMs)
            if r < 0 && errno == EINTR { continue }
            return r > 0
        }
    }

    /// Blocking write of everything on a non-blocking socket (handler threads and the client), waiting
    /// for writability up to `timeoutMs` per stall.
    static func writeAll(_ t: any ConnectionTransport, _ p: UnsafeRawPointer, _ n: Int, timeoutMs: Int32)
        throws(HTTPBodyError)
    {
        var done = 0
        while done < n {
            let (w, blocked) = send(t, p + done, n - done)
            if w < 0 { throw .disconnected }
            done += w
            if blocked, !poll(t.fd, events: Int16(POLLOUT), timeoutMs: timeoutMs) { throw .timedOut }
        }
    }

    static func writeAll(_ t: any ConnectionTransport, _ bytes: [UInt8], timeoutMs: Int32) throws(HTTPBodyError) {
        let r: HTTPBodyError? = bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return nil }
            do throws(HTTPBodyError) {
                try writeAll(t, base, raw.count, timeoutMs: timeoutMs)
                return nil
            } catch { return error }
        }
        if let r { throw r }
    }

    static func milliseconds(_ d: Duration) -> Int32 {
        let (s, atto) = d.components
        let seconds = min(max(0, s), 1_000_000_000)  // clamp: no overflow on absurd settings
        return Int32(clamping: seconds * 1000 + max(0, atto) / 1_000_000_000_000_000)
    }

    static func nanoseconds(_ d: Duration) -> UInt64 {
        let (s, atto) = d.components
        let seconds = UInt64(min(max(0, s), 1_000_000_000))
        return seconds * 1_000_000_000 + UInt64(max(0, atto) / 1_000_000_000)
    }
}
