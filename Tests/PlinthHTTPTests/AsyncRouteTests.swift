import Dispatch
import Foundation
import PlinthHTTP
import PlinthTestSupport
import Synchronization
import XCTest

/// Async routes (`Router.addAsync`) and the event loop's `UpstreamClient`.
final class AsyncRouteTests: XCTestCase {
    /// Front server whose `/proxy/...` routes forward to `backend` through the loop's upstream client.
    private func makeFront(backend: HTTPEndpoint, timeout: Duration = .seconds(10)) throws -> TestHTTPServer {
        let router = Router()
        router.addAsync(.GET, "/now") { request, responder in
            XCTAssertNotNil(request.eventLoop)
            XCTAssertTrue(request.eventLoop?.inEventLoop ?? false)
            responder.complete(.text("now"))
        }
        router.addAsync(.GET, "/later/{ms}") { request, responder in
            let ms = Int(request.pathParameters["ms"] ?? "") ?? 0
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(ms)) {
                responder.complete(.text("later \(ms)"))
            }
        }
        router.addAsync(.GET, "/throws") { _, _ in throw HTTPError(418, "teapot") }
        // Answered by a job on the loop: with several such requests in one round of events, the
        // answers are held and sent together when the round ends.
        router.addAsync(.GET, "/tick/{n}") { request, responder in
            guard let loop = request.eventLoop else { throw HTTPError(500, "no loop") }
            let n = request.pathParameters["n"] ?? ""
            loop.execute { responder.complete(.text("tick \(n)")) }
        }
        router.add(.GET, "/pool") { _ in .text("pool") }
        router.addAsync(.POST, "/proxy/{path}") { request, responder in
            guard let loop = request.eventLoop else { throw HTTPError(500, "no loop") }
            let forwarded = HTTPClientRequest(
                method: .POST, path: "/" + (request.pathParameters["path"] ?? ""),
                body: request.body)
            loop.upstream.send(forwarded, to: backend, timeout: timeout) { result in
                XCTAssertTrue(loop.inEventLoop)
                switch result {
                case .success(let response):
                    var answer = HTTPResponse(status: response.status, body: .bytes(response.body))
                    answer.headers.set("X-Idle", String(loop.upstream.idleConnectionCount(backend)))
                    responder.complete(answer)
                case .failure(let error):
                    responder.complete(.text("\(error)", status: 502))
                }
            }
        }
        return try TestHTTPServer(router: router) { $0.eventLoopCount = 1 }
    }

    private func makeBackend(extraListen: [ListenAddress] = []) throws -> (TestHTTPServer, Remotes) {
        let router = Router()
        let remotes = Remotes()
        router.add(.POST, "/echo") { request in
            remotes.set.withLock { _ = $0.insert(request.remoteAddress) }
            return HTTPResponse(status: 200, body: .bytes(request.body))
        }
        router.add(.POST, "/slow") { _ in
            Thread.sleep(forTimeInterval: 1.5)
            return .text("slow")
        }
        router.add(.POST, "/cut") { _ in cutOffResponse() }
        router.add(.POST, "/chunked") { _ in
            HTTPResponse(
                status: 201,
                body: .stream(length: nil) { writer in
                    for i in 0..<3 { try writer.write(Array("c\(i)".utf8)) }
                })
        }
        return (try TestHTTPServer(router: router, extraListen: extraListen), remotes)
    }

    func testAsyncAnswersFromOtherThreadsKeepPipelinedOrder() throws {
        let s = try makeFront(backend: .unix(path: "/nonexistent"))
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        try c.send(
            "GET /later/80 HTTP/1.1\r\nHost: x\r\n\r\nGET /now HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /later/5 HTTP/1.1\r\nHost: x\r\n\r\nGET /pool HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /throws HTTP/1.1\r\nHost: x\r\n\r\nGET /now HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc\r\n\r\n")
        XCTAssertEqual(try c.readResponse().text, "later 80")
        XCTAssertEqual(try c.readResponse().text, "now")
        XCTAssertEqual(try c.readResponse().text, "later 5")
        XCTAssertEqual(try c.readResponse().text, "pool")
        let thrown = try c.readResponse()
        XCTAssertEqual(thrown.status, 418)
        XCTAssertTrue(thrown.text.contains("teapot"))
        let last = try c.readResponse()
        XCTAssertEqual(last.text, "now")
        XCTAssertEqual(last.header("X-Request-Id"), "abc")
    }

    /// Answers completed in the same round go out when it ends; each connection then resumes
    /// its pipelined input, and keeps its answers in request order.
    func testAnswersHeldToTheEndOfARoundAllGoOutInOrder() throws {
        let s = try makeFront(backend: .unix(path: "/nonexistent"))
        defer { s.stop() }
        let clients = try (0..<12).map { _ in try RawHTTPClient(port: s.port) }
        for (i, c) in clients.enumerated() {
            try c.send(
                "GET /tick/\(i)a HTTP/1.1\r\nHost: x\r\n\r\nGET /now HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /tick/\(i)b HTTP/1.1\r\nHost: x\r\n\r\n")
        }
        for (i, c) in clients.enumerated() {
            XCTAssertEqual(try c.readResponse().text, "tick \(i)a")
            XCTAssertEqual(try c.readResponse().text, "now")
            XCTAssertEqual(try c.readResponse().text, "tick \(i)b")
        }
        // Still open and served after the round.
        try clients[3].send("GET /tick/again HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(try clients[3].readResponse().text, "tick again")
    }

    func testRouterHandleRunsAsyncRoutesWithoutALoop() throws {
        let router = Router()
        router.addAsync(.GET, "/x/{id}") { request, responder in
            XCTAssertNil(request.eventLoop)
            DispatchQueue.global().async { responder.complete(.text("id \(request.pathParameters["id"] ?? "")")) }
        }
        let response = router.handle(HTTPRequest(method: .GET, path: "/x/7"))
        guard case .bytes(let body) = response.body else { return XCTFail("stream") }
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "id 7")
    }

    func testUpstreamReusesOnePooledConnectionOverTCPAndUnix() throws {
        let path = NSTemporaryDirectory() + "plinth-upstream-\(getpid()).sock"
        defer { unlink(path) }
        let (backend, remotes) = try makeBackend(extraListen: [.unix(path: path)])
        defer { backend.stop() }
        for endpoint in [backend.endpoint, HTTPEndpoint.unix(path: path)] {
            remotes.set.withLock { $0.removeAll() }
            let s = try makeFront(backend: endpoint)
            defer { s.stop() }
            let c = try RawHTTPClient(port: s.port)
            for i in 0..<20 {
                let body = "payload \(i)"
                try c.send("POST /proxy/echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                let r = try c.readResponse()
                XCTAssertEqual(r.status, 200, "\(endpoint)")
                XCTAssertEqual(r.text, body)
                XCTAssertEqual(r.header("X-Idle"), "1")
            }
            try c.send("POST /proxy/chunked HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            let r = try c.readResponse()
            XCTAssertEqual(r.status, 201)
            XCTAssertEqual(r.text, "c0c1c2")
            if case .tcp = endpoint { XCTAssertEqual(remotes.set.withLock { $0.count }, 1) }
        }
    }

    func testUpstreamDyingMidResponseFailsTheRequestAndTheNextOneWorks() throws {
        let (backend, _) = try makeBackend()
        defer { backend.stop() }
        let s = try makeFront(backend: backend.endpoint)
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        try c.send("POST /proxy/cut HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 502)
        XCTAssertEqual(r.text, "connectionClosed")
        try c.send("POST /proxy/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
        XCTAssertEqual(try c.readResponse().text, "ok")
    }

    func testUpstreamTimeoutAndRefusedConnection() throws {
        let (backend, _) = try makeBackend()
        defer { backend.stop() }
        let s = try makeFront(backend: backend.endpoint, timeout: .milliseconds(200))
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        let started = Date()
        try c.send("POST /proxy/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        let r = try c.readResponse()
        XCTAssertEqual(r.text, "timedOut")
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.4)

        let missing = try makeFront(backend: .unix(path: "/nonexistent/plinth.sock"))
        defer { missing.stop() }
        let m = try RawHTTPClient(port: missing.port)
        try m.send("POST /proxy/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        let refused = try m.readResponse()
        XCTAssertEqual(refused.status, 502)
        XCTAssertTrue(refused.text.hasPrefix("connectFailed"), refused.text)
    }
}

/// A response that dies after 3 of its 100 promised bytes.
func cutOffResponse() -> HTTPResponse {
    HTTPResponse(
        status: 200,
        body: .stream(length: 100) { writer in
            try writer.write(Array("abc".utf8))
            throw HTTPError(500, "cut off")
        })
}

/// Remote addresses a backend saw (one per client connection).
final class Remotes: Sendable {
    let set = Mutex<Set<String>>([])
}

extension AsyncRouteTests {
    /// A Unix listener that never accepts: its backlog fills and further connects get EAGAIN.
    /// Those requests must wait (and time out), never be reported as a refused connection.
    func testFullBacklogWaitsInsteadOfFailingTheConnect() throws {
        let path = NSTemporaryDirectory() + "plinth-backlog-\(getpid()).sock"
        unlink(path)
        defer { unlink(path) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(listen(fd, 0), 0)
        let s = try makeFront(backend: .unix(path: path), timeout: .milliseconds(300))
        defer { s.stop() }
        let clients = try (0..<6).map { _ in try RawHTTPClient(port: s.port) }
        for c in clients { try c.send("POST /proxy/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n") }
        for c in clients {
            let r = try c.readResponse()
            XCTAssertEqual(r.text, "timedOut")
        }
    }
}
