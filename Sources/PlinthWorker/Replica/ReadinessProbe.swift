import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// `GET /v2/health/ready` over a replica's Unix socket: ready when it answers 200 within the
/// timeout. A minimal blocking HTTP/1.1 exchange so the worker's health checks depend on
/// nothing but the socket.
public enum ReadinessProbe {
    /// True when the replica at `socketPath` answers the readiness request with status 200.
    public static func isReady(socketPath: String, timeoutSeconds: Double) -> Bool {
        guard let status = try? status(socketPath: socketPath, path: "/v2/health/ready", timeoutSeconds: timeoutSeconds)
        else {
            return false
        }
        return status == 200
    }

    /// The HTTP status a GET of `path` gets, or nil when the exchange fails.
    static func status(socketPath: String, path: String, timeoutSeconds: Double) throws(SandboxError) -> Int? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | plinth_sock_cloexec, 0)
        guard fd >= 0 else { throw .system(call: "socket", errno: errno) }
        defer { close(fd) }
        var timeout = timeval(
            tv_sec: Int(timeoutSeconds), tv_usec: Int((timeoutSeconds - Double(Int(timeoutSeconds))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in pathBytes.enumerated() { raw[i] = byte }
            raw[pathBytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: replica\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count
        else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        // Only the status line matters: "HTTP/1.1 200 ...".
        while response.count < 4096, !response.contains(0x0a) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response.append(contentsOf: buffer[0..<n])
        }
        let line = String(decoding: response.prefix(while: { $0 != 0x0a }), as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]) else { return nil }
        return code
    }
}
