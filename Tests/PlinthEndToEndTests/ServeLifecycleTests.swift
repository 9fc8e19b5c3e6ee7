import Foundation
import PlinthTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `plinth serve` as a real child process: starts, answers health checks, drains on SIGTERM.
final class ServeLifecycleTests: XCTestCase {
    func testServeAnswersHealthAndExitsZeroOnSIGTERM() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try PlinthProcess(
            ["serve", "--data", dir.path + "/data", "--listen", "127.0.0.1:0"],
            environment: ["PLINTH_ADMIN_PASSWORD": "test-admin-password"])
        XCTAssertTrue(server.waitForStderr(containing: "listening"), server.stderrText)
        let port = try XCTUnwrap(PlinthProcess.port(fromLog: server.stderrText), server.stderrText)

        for path in ["/healthz", "/v2/health/live", "/v2/health/ready"] {
            let reply = try RawHTTP.exchange(port: port, "GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            XCTAssertTrue(reply.hasPrefix("HTTP/1.1 200"), "\(path): \(reply)")
        }
        server.signal(SIGTERM)
        XCTAssertEqual(server.waitForExit(), 0, server.stderrText)
        XCTAssertTrue(server.stderrText.contains("stopped"))
    }
}

/// A minimal blocking client over a raw TCP socket, for asserting exact wire behaviour.
enum RawHTTP {
    static func exchange(port: Int, _ request: String, timeoutSeconds: Int = 10) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
