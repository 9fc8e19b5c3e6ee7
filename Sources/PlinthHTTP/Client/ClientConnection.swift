import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// One client socket. Used by one thread at a time: taken out of the pool for a request and put
/// back after the response was fully read; that hand-over through the pool's Mutex is what makes
/// the `@unchecked Sendable` safe.
final class ClientConnection: @unchecked Sendable {
    let transport: PlainSocketTransport
    var buffer = ByteBuffer()
    let readTimeoutMs: Int32

    private init(fd: Int32, readTimeoutMs: Int32) {
        transport = PlainSocketTransport(fd: fd)
        self.readTimeoutMs = readTimeoutMs
    }

    deinit { transport.close() }

    static func connect(_ endpoint: HTTPEndpoint, config: HTTPClientConfiguration) throws -> ClientConnection {
        let targets: [(family: Int32, storage: sockaddr_storage, length: socklen_t)]
        switch endpoint {
        case .tcp(let host, let port):
            targets = SocketAddress.resolve(host: host, port: port, passive: false)
            if targets.isEmpty { throw HTTPClientError.connectFailed("cannot resolve \(host)") }
        case .unix(let path):
            guard let t = SocketAddress.unix(path) else { throw HTTPClientError.connectFailed("invalid socket path") }
            targets = [(AF_UNIX, t.storage, t.length)]
        }
        var lastError = "unreachable"
        for target in targets {
            let fd = socket(target.family, Int32(SOCK_STREAM.rawValue) | plinth_sock_nonblock | plinth_sock_cloexec, 0)
            if fd < 0 { continue }
            var storage = target.storage
            let r = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, target.length) }
            }
            if r != 0 && errno != EINPROGRESS && errno != EAGAIN {
                lastError = String(cString: strerror(errno))
                close(fd)
                continue
            }
            if r != 0 {
                if !Sys.poll(fd, events: Int16(POLLOUT), timeoutMs: Sys.milliseconds(config.connectTimeout)) {
                    close(fd)
                    throw HTTPClientError.timedOut
                }
                var err: Int32 = 0
                var len = socklen_t(4)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
                if err != 0 {
                    lastError = String(cString: strerror(err))
                    close(fd)
                    continue
                }
            }
            if target.family != AF_UNIX { Sys.setOption(fd, Int32(IPPROTO_TCP), plinth_tcp_nodelay, 1) }
            return ClientConnection(fd: fd, readTimeoutMs: Sys.milliseconds(config.readTimeout))
        }
        throw HTTPClientError.connectFailed("\(endpoint): \(lastError)")
    }

    /// A pooled connection is stale when the server closed it (readable with EOF) or sent stray bytes.
    var looksReusable: Bool {
        buffer.isEmpty && !Sys.poll(transport.fd, events: Int16(POLLIN), timeoutMs: 0)
    }

    func write(_ bytes: [UInt8]) throws {
        do {
            try Sys.writeAll(transport, bytes, timeoutMs: readTimeoutMs)
        } catch .timedOut {
            throw HTTPClientError.timedOut
        } catch {
            throw HTTPClientError.connectionClosed
        }
    }

    /// Reads more bytes into `buffer`. Returns false at end of stream.
    func fill() throws -> Bool {
        while true {
            buffer.reserveTail(64 * 1024)
            let r = transport.receive(buffer.writableTail, 64 * 1024)
            if r > 0 {
                buffer.didWrite(r)
                return true
            }
            if r == 0 { return false }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                if !Sys.poll(transport.fd, events: Int16(POLLIN), timeoutMs: readTimeoutMs) {
                    throw HTTPClientError.timedOut
                }
                continue
            }
            throw HTTPClientError.connectionClosed
        }
    }
}
