import Foundation
import PlinthHTTP
import PlinthTestSupport
import XCTest

final class ServerTests: XCTestCase {
    private func makeRouter() -> Router {
        let router = Router()
        router.add(.GET, "/healthz", options: RouteOptions(runsOnEventLoop: true)) { _ in
            .jsonBytes(Array("{\"status\":\"ok\"}".utf8))
        }
        router.add(.GET, "/pool/{name}") { .text("hello \($0.pathParameters["name"] ?? "")") }
        router.add(.POST, "/echo") { request in
            var r = HTTPResponse(status: 200, body: .bytes(request.body))
            r.headers.set("X-Query", request.query)
            return r
        }
        router.add(.POST, "/small", options: RouteOptions(maxBodyBytes: 10)) { .text("\($0.body.count)") }
        router.add(.PUT, "/upload", options: RouteOptions(maxBodyBytes: 1 << 30, streamingBody: true)) { request in
            guard let stream = request.bodyStream else { throw HTTPError(500, "no stream") }
            var total = 0
            var sum: UInt64 = 0
            while let chunk = try stream.read() {
                total += chunk.count
                for b in chunk { sum &+= UInt64(b) }
            }
            return .text("\(total) \(sum)")
        }
        router.add(.GET, "/stream") { _ in
            HTTPResponse(
                status: 200,
                body: .stream(length: nil) { writer in
                    for i in 0..<3 { try writer.write(Array("part\(i);".utf8)) }
                })
        }
        return router
    }

    func testGetOnEventLoopAndPoolWithKeepAliveReuse() throws {
        let s = try TestHTTPServer(router: makeRouter())
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        for i in 0..<5 {
            try c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let r = try c.readResponse()
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.text, "{\"status\":\"ok\"}")
            XCTAssertEqual(r.header("Content-Type"), "application/json")
            XCTAssertNotNil(r.header("Date"))
            XCTAssertNotNil(r.header("X-Request-Id"))
            try c.send("GET /pool/n\(i) HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(try c.readResponse().text, "hello n\(i)")
        }
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let s = try TestHTTPServer(router: makeRouter())
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        try c.send(
            "GET /pool/a HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /echo?q=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /pool/c HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        XCTAssertEqual(try c.readResponse().text, "hello a")
        XCTAssertEqual(try c.readResponse().text, "{\"status\":\"ok\"}")
        let echo = try c.readResponse()
        XCTAssertEqual(echo.text, "abc")
        XCTAssertEqual(echo.header("X-Query"), "q=1")
        XCTAssertEqual(try c.readResponse().text, "hello c")
    }

    func testThousandsOfPipelinedRequestsSurviveOutputBackpressure() throws {
        let s = try TestHTTPServer(router: makeRouter())
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port, timeout: 30)
        let count = 8000
        var wire: [UInt8] = []
        for i in 0..<count {
            wire += Array(
                (i % 2 == 0
                    ? "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" : "GET /pool/p\(i) HTTP/1.1\r\nHost: x\r\n\r\n").utf8)
        }
        c.sendInBackground(wire)
        usleep(300_000)  // let the server fill its socket buffers and hit its pending-output bound
        for i in 0..<count {
            let r = try c.readResponse()
            XCTAssertEqual(r.text, i % 2 == 0 ? "{\"status\":\"ok\"}" : "hello p\(i)")
            if r.status != 200 { break }
        }
    }

    func testHalfClosedClientGetsItsAnswersAndTheConnectionCloses() throws {
        let s = try TestHTTPServer(router: makeRouter())
        defer { s.stop() }
        for path in ["/healthz", "/pool/h"] {
            let c = try RawHTTPClient(port: s.port, timeout: 5)
            try c.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
            c.shutdownWrite()
            XCTAssertEqual(try c.readResponse().status, 200)
            XCTAssertTrue(c.isClosedByPeer(), path)
        }
    }

    func testRequestPipelinedAfterAStreamedBodyIsServed() throws {
        let s = try TestHTTPServer(router: makeRouter())
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        try c.send(
            "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /pool/after HTTP/1.1\r\nHost: x\r\n\r\n"
                + "PUT /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"
                + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try c.readResponse().text, "3 294")
        XCTAssertEqual(try c.readResponse().text, "hello after")
        XCTAssertEqual(try c.readResponse().text, "1 97")
        XCTAssertEqual(try c.readResponse().status, 200)
    }

    func testUnreadStreamedBodyClosesTheConnectionAfterTheAnswer() throws {
        let router = Router()
        router.add(.PUT, "/ignore", options: RouteOptions(maxBodyBytes: 1 << 20, streamingBody: true)) { _ in
            .text("ignored")
        }
        let s = try TestHTTPServer(router: router)
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        try c.send(
            "PUT /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + String(repeating: "z", count: 1000))
        let r = try c.readResponse()
        XCTAssertEqual(r.text, "ignored")
        XCTAssertEqual(r.header("Connection"), "close")
        XCTAssertTrue(c.isClosedByPeer())
    }

    func testChunkedRequestBodyIsDecoded() throws {
        let s = try TestHTTPServer(router: makeRouter())
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        try c.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n"
        )
        XCTAssertEqual(try c.readResponse().text, "abcde")
        try c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 200)
    }

    func testStreamedResponseIsChunked() throws {
        let s = try TestHTTPServer(router: makeRouter())
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        try c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        let r = try c.readResponse()
        XCTAssertEqual(r.header("Transfer-Encoding"), "chunked")
        XCTAssertEqual(r.text, "part0;part1;part2;")
        try c.send("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try c.readResponse(head: true).status, 200)
        XCTAssertEqual(try c.readResponse().text, "{\"status\":\"ok\"}")
    }

    func testHeadAnswersGetHeadersWithoutBody() throws {
        let s = try TestHTTPServer(router: makeRouter())
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        try c.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /pool/z HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = try c.readResponse(head: true)
        XCTAssertEqual(head.header("Content-Length"), "15")
        XCTAssertEqual(try c.readResponse().text, "hello z")
    }

    func testExpect100ContinueGetsInterimResponse() throws {
        let s = try TestHTTPServer(router: makeRouter())
        defer { s.stop() }
        for path in ["/echo", "/upload"] {
            let c = try RawHTTPClient(port: s.port)
            try c.send(
                "\(path == "/echo" ? "POST" : "PUT") \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
            )
            XCTAssertEqual(try c.readResponse(head: true).status, 100, path)
            try c.send("wxyz")
            let r = try c.readResponse()
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.text, path == "/echo" ? "wxyz" : "4 \(Array("wxyz".utf8).reduce(0) { $0 + Int($1) })")
        }
    }

    func testExpectContinueOnTooLargeBodyAnswers413WithoutReading() throws {
        let s = try TestHTTPServer(router: makeRouter())
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        try c.send("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 413)
        XCTAssertTrue(c.isClosedByPeer())
    }

    func testBodyLimitsAnswer413() throws {
        let s = try TestHTTPServer(router: makeRouter())
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        try c.send(
            "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n"
        )
        XCTAssertEqual(try c.readResponse().status, 413)
        XCTAssertTrue(c.isClosedByPeer())
    }

    func testNotFoundAndMethodNotAllowedOverTheWire() throws {
        let s = try TestHTTPServer(router: makeRouter())
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        try c.send("GET /missing HTTP/1.1\r\nHost: x\r\n\r\nDELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 404)
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 405)
        XCTAssertEqual(r.header("Allow"), "GET, HEAD")
    }

    func testHTTP10ClosesUnlessKeepAlive() throws {
        let s = try TestHTTPServer(router: makeRouter())
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        try c.send("GET /healthz HTTP/1.0\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 200)
        XCTAssertTrue(c.isClosedByPeer())
        let k = try RawHTTPClient(port: s.port)
        try k.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(try k.readResponse().header("Connection"), "keep-alive")
        try k.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(try k.readResponse().header("Connection"), "close")
        XCTAssertTrue(k.isClosedByPeer())
    }

    func testIPv6LoopbackAndUnixSocket() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("s.sock").path
        let s = try TestHTTPServer(router: makeRouter(), extraListen: [.tcp(host: "::1", port: 0), .unix(path: path)])
        defer { s.stop() }
        guard case .tcp(_, let port6) = s.addresses[1] else { return XCTFail("no v6 address") }
        let v6 = try RawHTTPClient(host: "::1", port: port6)
        try v6.send("GET /pool/v6 HTTP/1.1\r\nHost: x\r\n\r\n")
        let r6 = try v6.readResponse()
        XCTAssertEqual(r6.text, "hello v6")
        let u = try RawHTTPClient(unixPath: path)
        try u.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /pool/u HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try u.readResponse().status, 200)
        XCTAssertEqual(try u.readResponse().text, "hello u")
    }

    /// The loop remembers recent route matches by method and path: repeated and interleaved
    /// paths, more distinct paths than it remembers, other methods on a known path and routes
    /// added while serving must all still route exactly as the trie does.
    func testRepeatedPathsRouteLikeTheTrieAcrossMethodsAndNewRoutes() throws {
        let router = makeRouter()
        router.add(.POST, "/pool/{name}") { .text("posted \($0.pathParameters["name"] ?? "")") }
        let s = try TestHTTPServer(router: router) { $0.eventLoopCount = 1 }
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        for round in 0..<3 {
            for i in 0..<12 {  // more distinct paths than remembered slots
                try c.send("GET /pool/n\(i) HTTP/1.1\r\nHost: x\r\n\r\n")
                XCTAssertEqual(try c.readResponse().text, "hello n\(i)", "round \(round)")
                try c.send("POST /pool/n\(i) HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                XCTAssertEqual(try c.readResponse().text, "posted n\(i)", "round \(round)")
            }
            try c.send("DELETE /pool/n1 HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(try c.readResponse().status, 405)
        }
        try c.send("GET /late HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 404)
        router.add(.GET, "/late", options: RouteOptions(runsOnEventLoop: true)) { _ in .text("late") }
        try c.send("GET /late HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try c.readResponse().text, "late")
        try c.send("GET /pool/again HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try c.readResponse().text, "hello again")
    }
}
