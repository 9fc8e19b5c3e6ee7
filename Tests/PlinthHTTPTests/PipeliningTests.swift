import Dispatch
import Foundation
import PlinthHTTP
import PlinthTestSupport
import Synchronization
import XCTest

/// HTTP/1.1 pipelining: the server runs a connection's pipelined async requests side by side and
/// answers in order; the upstream client queues pipelined requests on one socket.
final class PipeliningTests: XCTestCase {
    /// Counts a backend's async handlers: started, open now, and most open at once.
    final class Load: Sendable {
        private let state = Mutex<(started: Int, open: Int, most: Int)>((0, 0, 0))
        func begin() {
            state.withLock {
                $0.started += 1
                $0.open += 1
                $0.most = max($0.most, $0.open)
            }
        }
        func end() { state.withLock { $0.open -= 1 } }
        var started: Int { state.withLock { $0.started } }
        var open: Int { state.withLock { $0.open } }
        var most: Int { state.withLock { $0.most } }
    }

    /// `/work/{ms}` answers from another thread after `ms`; `/sync` is a pool route that tells
    /// how many async handlers are open; `/close` answers with `Connection: close`; `/cut` dies
    /// in the middle of its answer.
    private func makeBackend(
        load: Load, remotes: Remotes? = nil, configure: @escaping (inout HTTPServerConfiguration) -> Void = { _ in }
    ) throws -> TestHTTPServer {
        let router = Router()
        for method in [HTTPMethod.GET, .POST] {
            router.addAsync(method, "/work/{ms}") { request, responder in
                remotes?.set.withLock { _ = $0.insert(request.remoteAddress) }
                let ms = Int(request.pathParameters["ms"] ?? "") ?? 0
                load.begin()
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(ms)) {
                    load.end()
                    responder.complete(.text("work \(ms)"))
                }
            }
        }
        router.add(.GET, "/sync") { _ in .text("open \(load.open)") }
        router.addAsync(.GET, "/close") { _, responder in
            var response = HTTPResponse.text("closing")
            response.headers.set("Connection", "close")
            responder.complete(response)
        }
        router.add(.GET, "/cut") { _ in cutOffResponse() }
        return try TestHTTPServer(router: router) {
            $0.eventLoopCount = 1
            configure(&$0)
        }
    }

    /// A backend with a raw client connected to it.
    private func withBackend(
        configure: @escaping (inout HTTPServerConfiguration) -> Void = { _ in },
        _ body: (RawHTTPClient, Load) throws -> Void
    ) throws {
        let load = Load()
        let s = try makeBackend(load: load, configure: configure)
        defer { s.stop() }
        try body(try RawHTTPClient(port: s.port), load)
    }

    private func get(_ path: String, close: Bool = false) -> String {
        "GET \(path) HTTP/1.1\r\nHost: x\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n"
    }

    // MARK: server

    func testPipelinedAsyncRequestsRunSideBySideAndAnswerInOrder() throws {
        try withBackend { c, load in
            try c.send(get("/work/150") + get("/work/10") + get("/work/80") + get("/work/1"))
            for ms in [150, 10, 80, 1] { XCTAssertEqual(try c.readResponse().text, "work \(ms)") }
            XCTAssertEqual(load.most, 4, "all four ran at once")
            // The connection goes on.
            try c.send(get("/work/1"))
            XCTAssertEqual(try c.readResponse().text, "work 1")
        }
    }

    func testPipelinedRequestsPastTheLimitWait() throws {
        try withBackend(configure: { $0.maxPipelinedRequests = 2 }) { c, load in
            try c.send((0..<6).map { get("/work/\(20 + $0)") }.joined())
            for i in 0..<6 { XCTAssertEqual(try c.readResponse().text, "work \(20 + i)") }
            XCTAssertEqual(load.most, 2)
            XCTAssertEqual(load.started, 6)
        }
    }

    func testRequestThatIsNotAsyncWaitsForTheOpenAnswers() throws {
        try withBackend { c, _ in
            try c.send(get("/work/80") + get("/sync") + get("/missing") + get("/work/5"))
            XCTAssertEqual(try c.readResponse().text, "work 80")
            XCTAssertEqual(try c.readResponse().text, "open 0")
            XCTAssertEqual(try c.readResponse().status, 404)
            XCTAssertEqual(try c.readResponse().text, "work 5")
        }
    }

    func testConnectionCloseEndsThePipeline() throws {
        try withBackend { c, load in
            try c.send(get("/work/40") + get("/work/5", close: true) + get("/work/1"))
            XCTAssertEqual(try c.readResponse().text, "work 40")
            let last = try c.readResponse()
            XCTAssertEqual(last.text, "work 5")
            XCTAssertEqual(last.header("Connection"), "close")
            XCTAssertTrue(c.isClosedByPeer())
            XCTAssertEqual(load.started, 2, "nothing after Connection: close runs")
        }
    }

    func testMalformedRequestBehindOpenAnswersIsRefusedAfterThem() throws {
        try withBackend { c, _ in
            try c.send(get("/work/60") + get("/work/1") + "NOT HTTP\r\n\r\n")
            XCTAssertEqual(try c.readResponse().text, "work 60")
            XCTAssertEqual(try c.readResponse().text, "work 1")
            XCTAssertEqual(try c.readResponse().status, 400)
            XCTAssertTrue(c.isClosedByPeer())
        }
    }

    func testBrokenBodyBehindOpenAnswersIsRefusedAfterThem() throws {
        try withBackend { c, load in
            try c.send(
                get("/work/60") + "POST /work/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok"
                    + "POST /work/2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n"
                    + get("/work/3"))
            XCTAssertEqual(try c.readResponse().text, "work 60")
            XCTAssertEqual(try c.readResponse().text, "work 1")
            let refused = try c.readResponse()
            XCTAssertEqual(refused.status, 400)
            XCTAssertTrue(c.isClosedByPeer())
            XCTAssertEqual(load.started, 2, "nothing after the broken body runs")
        }
    }

    func testShutdownAnswersEveryOpenPipelinedRequestAndClosesAfterTheLast() throws {
        let load = Load()
        let s = try makeBackend(load: load)
        let c = try RawHTTPClient(port: s.port)
        try c.send(get("/work/300") + get("/work/10"))
        let started = Date()
        while load.started < 2 && Date().timeIntervalSince(started) < 5 { usleep(1000) }
        let stopped = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            s.stop()
            stopped.signal()
        }
        let first = try c.readResponse()
        XCTAssertEqual(first.text, "work 300")
        XCTAssertNil(first.header("Connection"), "a later answer is still to come")
        let last = try c.readResponse()
        XCTAssertEqual(last.text, "work 10")
        XCTAssertEqual(last.header("Connection"), "close")
        XCTAssertTrue(c.isClosedByPeer())
        stopped.wait()
    }

    func testPeerHalfCloseStillGetsEveryPipelinedAnswer() throws {
        try withBackend { c, _ in
            try c.send(get("/work/50") + get("/work/1"))
            c.shutdownWrite()
            XCTAssertEqual(try c.readResponse().text, "work 50")
            XCTAssertEqual(try c.readResponse().text, "work 1")
            XCTAssertTrue(c.isClosedByPeer())
        }
    }

    // MARK: upstream client

    /// Front server: `/fan` sends the `X-Fan` paths (comma-separated, each `path@timeoutMs`) to
    /// the backend as pipelined requests in one go, then answers each outcome on a line.
    private func makeFront(backend: HTTPEndpoint) throws -> TestHTTPServer {
        let router = Router()
        router.addAsync(.GET, "/fan") { request, responder in
            guard let loop = request.eventLoop, let list = request.headers["X-Fan"] else {
                throw HTTPError(400, "no fan")
            }
            let calls = list.split(separator: ",").map { item -> (String, Int) in
                let parts = item.split(separator: "@")
                return (String(parts[0]), parts.count > 1 ? Int(parts[1]) ?? 2000 : 2000)
            }
            let results = Results(count: calls.count)
            for (i, call) in calls.enumerated() {
                loop.upstream.send(
                    HTTPClientRequest(method: .GET, path: call.0), to: backend, timeout: .milliseconds(call.1),
                    pipelined: true
                ) { result in
                    switch result {
                    case .success(let response):
                        results.set(i, "\(response.status) \(String(decoding: response.body, as: UTF8.self))")
                    case .failure(let error):
                        results.set(i, "\(error)")
                    }
                    if results.complete {
                        var answer = HTTPResponse.text(results.lines.joined(separator: "\n"))
                        answer.headers.set("X-Open", String(loop.upstream.openConnectionCount))
                        responder.complete(answer)
                    }
                }
            }
        }
        return try TestHTTPServer(router: router) { $0.eventLoopCount = 1 }
    }

    /// Outcomes of one fan, on the front loop's thread only.
    final class Results: @unchecked Sendable {
        var lines: [String]
        var left: Int
        init(count: Int) {
            lines = Array(repeating: "", count: count)
            left = count
        }
        func set(_ i: Int, _ line: String) {
            lines[i] = line
            left -= 1
        }
        var complete: Bool { left == 0 }
    }

    /// A backend, a front server forwarding to it, and a raw client of the front.
    private func withFront(_ body: (RawHTTPClient, Load, TestHTTPServer) throws -> Void) throws {
        let load = Load()
        let backend = try makeBackend(load: load)
        defer { backend.stop() }
        let front = try makeFront(backend: backend.endpoint)
        defer { front.stop() }
        try body(try RawHTTPClient(port: front.port), load, backend)
    }

    private func fan(_ c: RawHTTPClient, _ calls: [String]) throws -> (lines: [String], open: String?) {
        try c.send("GET /fan HTTP/1.1\r\nHost: x\r\nX-Fan: \(calls.joined(separator: ","))\r\n\r\n")
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 200, r.text)
        return (r.text.components(separatedBy: "\n"), r.header("X-Open"))
    }

    func testPipelinedUpstreamRequestsShareOneSocketAndRunAtOnce() throws {
        let load = Load()
        let remotes = Remotes()
        let backend = try makeBackend(load: load, remotes: remotes)
        defer { backend.stop() }
        let front = try makeFront(backend: backend.endpoint)
        defer { front.stop() }
        let c = try RawHTTPClient(port: front.port)
        let calls = [90, 10, 50, 1, 30, 5].map { "/work/\($0)" }
        let first = try fan(c, calls)
        XCTAssertEqual(first.lines, [90, 10, 50, 1, 30, 5].map { "200 work \($0)" })
        XCTAssertEqual(load.most, 6, "the backend ran them side by side")
        XCTAssertEqual(first.open, "1")
        let again = try fan(c, ["/work/1", "/work/2"])
        XCTAssertEqual(again.lines, ["200 work 1", "200 work 2"])
        XCTAssertEqual(remotes.set.withLock { $0.count }, 1, "one socket for all of them")
    }

    func testServerClosingAfterAnAnswerSendsTheRestAgainOnAFreshSocket() throws {
        try withFront { c, load, _ in
            let r = try fan(c, ["/close", "/work/3", "/work/1", "/work/2"])
            XCTAssertEqual(r.lines, ["200 closing", "200 work 3", "200 work 1", "200 work 2"])
            XCTAssertEqual(load.started, 3, "each ran once")
        }
    }

    func testTimedOutPipelinedRequestLeavesTheOnesBehindItAnswered() throws {
        try withFront { c, _, _ in
            let r = try fan(c, ["/work/1500@150", "/work/1@5000"])
            XCTAssertEqual(r.lines, ["timedOut", "200 work 1"])
            // The late answer was read and dropped: the socket is clean again and serves.
            XCTAssertEqual(try fan(c, ["/work/2"]).lines, ["200 work 2"])
        }
    }

    func testSocketDyingMidAnswerFailsThatRequestAndReplaysTheOthersOnce() throws {
        try withFront { c, _, backend in
            // A used socket: requests queued behind the broken answer may go out again.
            XCTAssertEqual(try fan(c, ["/work/1"]).lines, ["200 work 1"])
            let r = try fan(c, ["/cut", "/work/4", "/work/5"])
            XCTAssertEqual(r.lines, ["connectionClosed", "200 work 4", "200 work 5"])
            // On a fresh socket nothing is replayed: the server may be what is broken.
            let fresh = try makeFront(backend: backend.endpoint)
            defer { fresh.stop() }
            let f = try RawHTTPClient(port: fresh.port)
            XCTAssertEqual(try fan(f, ["/cut", "/work/6"]).lines, ["connectionClosed", "connectionClosed"])
        }
    }
}
