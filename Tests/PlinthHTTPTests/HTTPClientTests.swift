import Foundation
import PlinthHTTP
import PlinthTestSupport
import XCTest

final class HTTPClientTests: XCTestCase {
    private func router() -> Router {
        let router = Router()
        router.add(.GET, "/hello") { .text("hello \($0.queryValue("n") ?? "")") }
        router.add(.POST, "/echo") { .jsonBytes($0.body) }
        router.add(.PUT, "/count", options: RouteOptions(maxBodyBytes: 1 << 30, streamingBody: true)) { request in
            var total = 0
            while let chunk = try request.bodyStream?.read() { total += chunk.count }
            return .text("\(total)")
        }
        router.add(.GET, "/download") { _ in
            HTTPResponse(
                status: 200,
                body: .stream(length: nil) { writer in
                    for _ in 0..<16 { try writer.write([UInt8](repeating: 7, count: 65536)) }
                })
        }
        router.add(.GET, "/remote") { .text($0.remoteAddress) }
        return router
    }

    func testKeepAlivePoolReusesOneConnection() throws {
        let s = try TestHTTPServer(router: router())
        defer { s.stop() }
        let client = HTTPClient()
        for i in 0..<20 {
            let r = try client.send(HTTPClientRequest(method: .GET, path: "/hello?n=\(i)"), to: s.endpoint)
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "hello \(i)")
        }
        XCTAssertEqual(client.idleConnectionCount(s.endpoint), 1)
        XCTAssertEqual(s.server.openConnectionCount, 1)
    }

    func testStaleDoneConnectionIsReplacedTransparently() throws {
        let s = try TestHTTPServer(router: router()) { $0.idleTimeout = .milliseconds(200) }
        defer { s.stop() }
        let client = HTTPClient()
        _ = try client.send(HTTPClientRequest(method: .GET, path: "/hello"), to: s.endpoint)
        usleep(700_000)  // the server closes the pooled connection meanwhile
        let r = try client.send(HTTPClientRequest(method: .POST, path: "/echo", body: Array("x".utf8)), to: s.endpoint)
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "x")
    }

    func testStreamingUploadAndDownload() throws {
        let s = try TestHTTPServer(router: router())
        defer { s.stop() }
        let client = HTTPClient()
        var upload = HTTPClientRequest(method: .PUT, path: "/count")
        upload.body = .stream(length: nil) { write in
            for _ in 0..<10 { try write([UInt8](repeating: 1, count: 100_000)) }
        }
        XCTAssertEqual(String(decoding: try client.send(upload, to: s.endpoint).body, as: UTF8.self), "1000000")
        upload.body = .stream(length: 5) { write in try write(Array("12345".utf8)) }
        XCTAssertEqual(String(decoding: try client.send(upload, to: s.endpoint).body, as: UTF8.self), "5")
        var received = 0
        var status = 0
        try client.send(
            HTTPClientRequest(method: .GET, path: "/download"), to: s.endpoint,
            onHead: { code, _ in status = code }, onChunk: { received += $0.count })
        XCTAssertEqual(status, 200)
        XCTAssertEqual(received, 16 * 65536)
    }

    func testUnixSocketEndpoint() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("c.sock").path
        let s = try TestHTTPServer(router: router(), extraListen: [.unix(path: path)])
        defer { s.stop() }
        let client = HTTPClient()
        let endpoint = try HTTPEndpoint(url: "unix:\(path)")
        let r = try client.send(HTTPClientRequest(method: .GET, path: "/remote"), to: endpoint)
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "unix")
        _ = try client.send(HTTPClientRequest(method: .GET, path: "/remote"), to: endpoint)
        XCTAssertEqual(client.idleConnectionCount(endpoint), 1)
    }

    func testConnectFailureAndReadTimeout() throws {
        let client = HTTPClient()
        XCTAssertThrowsError(
            try client.send(HTTPClientRequest(method: .GET, path: "/"), to: .unix(path: "/nonexistent/x.sock")))
        let router = Router()
        router.add(.GET, "/slow") { _ in
            usleep(1_500_000)
            return .text("late")
        }
        let s = try TestHTTPServer(router: router)
        defer { s.stop() }
        var config = HTTPClientConfiguration()
        config.readTimeout = .milliseconds(200)
        XCTAssertThrowsError(
            try HTTPClient(configuration: config).send(HTTPClientRequest(method: .GET, path: "/slow"), to: s.endpoint)
        ) {
            XCTAssertEqual($0 as? HTTPClientError, .timedOut)
        }
    }
}
