import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// sockaddr plumbing for TCP (IPv4/IPv6) and Unix-domain sockets.
enum SocketAddress {
    /// Resolves host/port with getaddrinfo (numeric hosts and names such as "localhost").
    static func resolve(host: String, port: Int, passive: Bool) -> [(
        family: Int32, storage: sockaddr_storage, length: socklen_t
    )] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = passive ? AI_PASSIVE : 0
        var result: UnsafeMutablePointer<addrinfo>?
        let name = host == "localhost" && passive ? "127.0.0.1" : host
        guard getaddrinfo(name, String(port), &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var out: [(Int32, sockaddr_storage, socklen_t)] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let n = node {
            if let addr = n.pointee.ai_addr {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { dst in
                    dst.copyMemory(from: UnsafeRawBufferPointer(start: addr, count: Int(n.pointee.ai_addrlen)))
                }
                out.append((n.pointee.ai_family, storage, n.pointee.ai_addrlen))
            }
            node = n.pointee.ai_next
        }
        return out
    }

    static func unix(_ path: String) -> (storage: sockaddr_storage, length: socklen_t)? {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &addr.sun_path) { dst in
            dst.copyBytes(from: bytes)
            dst[bytes.count] = 0
        }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { dst in
            withUnsafeBytes(of: addr) { dst.copyMemory(from: $0) }
        }
        return (storage, socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1))
    }

    /// "1.2.3.4:5678", "[::1]:5678" or "unix".
    static func describe(_ storage: sockaddr_storage) -> String {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var buf = [CChar](repeating: 0, count: 64)
                    var a = sin.pointee.sin_addr
                    inet_ntop(AF_INET, &a, &buf, 64)
                    return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                        + ":\(UInt16(bigEndian: sin.pointee.sin_port))"
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
                    var buf = [CChar](repeating: 0, count: 64)
                    var a = sin.pointee.sin6_addr
                    inet_ntop(AF_INET6, &a, &buf, 64)
                    return "[" + String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                        + "]:\(UInt16(bigEndian: sin.pointee.sin6_port))"
                }
            }
        default:
            return "unix"
        }
    }

    static func port(_ storage: sockaddr_storage) -> Int {
        var storage = storage
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }

    /// A bound, listening, non-blocking socket. `reusePort` lets every event loop bind its own.
    static func listen(_ address: ListenAddress, reusePort: Bool, backlog: Int32 = 1024) throws(HTTPServerError) -> (
        fd: Int32, bound: ListenAddress
    ) {
        switch address {
        case .tcp(let host, let port):
            guard let target = resolve(host: host, port: port, passive: true).first else {
                throw .invalidAddress(address.description)
            }
            let fd = socket(target.family, Int32(SOCK_STREAM.rawValue) | plinth_sock_nonblock | plinth_sock_cloexec, 0)
            guard fd >= 0 else { throw .systemCall(name: "socket", errno: errno) }
            Sys.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if reusePort { Sys.setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
            if target.family == AF_INET6 { Sys.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
            var storage = target.storage
            let r = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, target.length) }
            }
            if r != 0 || Glibc.listen(fd, backlog) != 0 {
                let code = errno
                close(fd)
                throw .bindFailed(address: address.description, reason: String(cString: strerror(code)))
            }
            var bound = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            _ = withUnsafeMutablePointer(to: &bound) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
            }
            return (fd, .tcp(host: host, port: SocketAddress.port(bound)))
        case .unix(let path):
            guard let target = unix(path) else { throw .invalidAddress(address.description) }
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | plinth_sock_nonblock | plinth_sock_cloexec, 0)
            guard fd >= 0 else { throw .systemCall(name: "socket", errno: errno) }
            // A stale socket file from a previous run would make bind fail.
            var st = stat()
            if lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
            var storage = target.storage
            let r = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, target.length) }
            }
            if r != 0 || Glibc.listen(fd, backlog) != 0 {
                let code = errno
                close(fd)
                throw .bindFailed(address: address.description, reason: String(cString: strerror(code)))
            }
            return (fd, address)
        }
    }
}
