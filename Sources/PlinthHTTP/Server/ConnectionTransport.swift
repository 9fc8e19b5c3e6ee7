import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// The byte pipe under an HTTP connection. The server and client only move bytes through this
/// seam, so a TLS transport can be added later without touching parsing or handlers. Calls follow
/// recv/send conventions: count > 0, 0 at end of stream, -1 with `errno` set (EAGAIN when it would block).
protocol ConnectionTransport: Sendable {
    /// The descriptor readiness is polled on.
    var fd: Int32 { get }
    func receive(_ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int
    func send(_ bytes: UnsafeRawPointer, _ count: Int) -> Int
    /// Stops both directions without releasing the descriptor (wakes a thread blocked on it).
    func shutdown()
    func close()
}

/// Plain TCP or Unix-domain socket.
struct PlainSocketTransport: ConnectionTransport {
    let fd: Int32

    func receive(_ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        recv(fd, buffer, count, 0)
    }

    func send(_ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        Glibc.send(fd, bytes, count, plinth_msg_nosignal)
    }

    func shutdown() {
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    func close() {
        _ = Glibc.close(fd)
    }
}
