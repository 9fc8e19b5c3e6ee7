import Foundation
import PlinthHTTP
import PlinthTestSupport
import Synchronization
import XCTest

final class ServerLimitsTests: XCTestCase {
    private func router() -> Router {
        let router = Router()
        router.add(.GET, "/") { _ in .text("ok") }
        router.add(.POST, "/echo") { .jsonBytes($0.body) }
        router.add(.PUT, "/upload", options: RouteOptions(maxBodyBytes: 1 << 30, streamingBody: true)) { request in
            guard let stream = request.bodyStream else { throw HTTPError(500, "no stream") }
            var total = 0
            while let chunk = try stream.read(maxBytes: 256 * 1024) { total += chunk.count }
            return .text("\(total)")
        }
        return router
    }

    private func waitUntil(_ timeout: TimeInterval = 10, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    func testSlowlorisHeadIsTimedOutWith408() throws {
        let s = try TestHTTPServer(router: router()) { $0.headerTimeout = .milliseconds(300) }
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        let started = Date()
        try c.send("GET / HTTP/1.1\r\nHo")
        // Keep trickling bytes: the header timeout counts from the first byte, not the last.
        for _ in 0..<3 {
            usleep(100_000)
            try? c.send("s")
        }
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 408)
        XCTAssertTrue(c.isClosedByPeer())
        XCTAssertLessThan(Date().timeIntervalSince(started), 8)
    }

    func testStalledBodyIsTimedOutWith408() throws {
        let s = try TestHTTPServer(router: router()) { $0.bodyTimeout = .milliseconds(300) }
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        try c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        XCTAssertEqual(try c.readResponse().status, 408)
        XCTAssertTrue(c.isClosedByPeer())
    }

    func testStalledStreamingBodyFailsTheHandlerRead() throws {
        let s = try TestHTTPServer(router: router()) { $0.bodyTimeout = .milliseconds(300) }
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        try c.send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        XCTAssertEqual(try c.readResponse().status, 408)
        XCTAssertTrue(c.isClosedByPeer())
    }

    func testIdleKeepAliveConnectionIsClosed() throws {
        let s = try TestHTTPServer(router: router()) { $0.idleTimeout = .milliseconds(300) }
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port)
        try c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 200)
        XCTAssertTrue(c.isClosedByPeer())
        XCTAssertTrue(waitUntil { s.server.openConnectionCount == 0 })
    }

    func testConnectionsOverTheLimitAreRefusedWithoutHurtingOthers() throws {
        let s = try TestHTTPServer(router: router()) { $0.maxConnections = 2 }
        defer { s.stop() }
        let a = try RawHTTPClient(port: s.port)
        let b = try RawHTTPClient(port: s.port)
        for c in [a, b] {
            try c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(try c.readResponse().status, 200)
        }
        let extra = try RawHTTPClient(port: s.port)
        XCTAssertEqual(try extra.readResponse().status, 503)
        XCTAssertTrue(extra.isClosedByPeer())
        try a.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try a.readResponse().status, 200)
    }

    func testLargeChunkedUploadStreamsWithFlatMemory() throws {
        let s = try TestHTTPServer(router: router())
        defer { s.stop() }
        let before = ServerLimitsTests.residentBytes()
        let c = try RawHTTPClient(port: s.port, timeout: 60)
        try c.send("PUT /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        let piece = [UInt8](repeating: 0x61, count: 256 * 1024)
        let frame = Array("40000\r\n".utf8) + piece + [13, 10]
        let total = 64 << 20
        let sender = Thread {
            for _ in 0..<(total / piece.count) { try? c.send(frame) }
            try? c.send("0\r\n\r\n")
        }
        sender.start()
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.text, "\(total)")
        let growth = ServerLimitsTests.residentBytes() - before
        XCTAssertLessThan(growth, 40 << 20, "resident memory grew by \(growth >> 20) MiB")
    }

    func testShutdownDrainsInFlightRequest() throws {
        let started = DispatchSemaphore(value: 0)
        let router = Router()
        router.add(.GET, "/slow") { _ in
            started.signal()
            usleep(500_000)
            return .text("finished")
        }
        let s = try TestHTTPServer(router: router)
        let c = try RawHTTPClient(port: s.port)
        let idle = try RawHTTPClient(port: s.port)
        try c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(started.wait(timeout: .now() + 10), .success)
        let done = DispatchSemaphore(value: 0)
        Thread {
            s.stop()
            done.signal()
        }.start()
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.text, "finished")
        XCTAssertEqual(r.header("Connection"), "close")
        XCTAssertEqual(done.wait(timeout: .now() + 15), .success)
        XCTAssertTrue(idle.isClosedByPeer())
        XCTAssertThrowsError(try RawHTTPClient(port: s.port).send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").self) { _ in }
    }

    func testAccessLogWritesOneJSONLinePerRequest() throws {
        let s = try TestHTTPServer(router: router()) { $0.accessLog = true }
        defer { s.stop() }
        // Capture stderr (where PlinthCore.Logger writes) in a file for the duration of one request.
        let path = NSTemporaryDirectory() + "access-\(UUID().uuidString).log"
        let file = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        let saved = dup(2)
        dup2(file, 2)
        let c = try RawHTTPClient(port: s.port)
        try c.send("GET /?q=1 HTTP/1.1\r\nHost: x\r\nX-Request-Id: log-test-1\r\n\r\n")
        let r = try c.readResponse()
        dup2(saved, 2)
        close(saved)
        close(file)
        defer { unlink(path) }
        XCTAssertEqual(r.header("X-Request-Id"), "log-test-1")
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let entry = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .first { $0["request_id"] as? String == "log-test-1" }
        XCTAssertEqual(entry?["method"] as? String, "GET")
        XCTAssertEqual(entry?["path"] as? String, "/")
        XCTAssertEqual(entry?["status"] as? Int, 200)
        XCTAssertEqual(entry?["bytes"] as? Int, 2)
        XCTAssertNotNil(entry?["duration_us"] as? Int)
        XCTAssertEqual((entry?["remote"] as? String)?.hasPrefix("127.0.0.1:"), true)
    }

    func testTerminationSignalRunsCallbackOnce() {
        let calls = Atomic<Int>(0)
        TerminationSignals.onTerminate { calls.add(1, ordering: .relaxed) }
        // The dispatch signal source registers asynchronously: repeat the signal until it is seen.
        let end = Date().addingTimeInterval(10)
        while calls.load(ordering: .relaxed) == 0, Date() < end {
            kill(getpid(), SIGTERM)
            usleep(50_000)
        }
        XCTAssertEqual(calls.load(ordering: .relaxed), 1)
        kill(getpid(), SIGINT)
        usleep(200_000)
        XCTAssertEqual(calls.load(ordering: .relaxed), 1)
    }

    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kb * 1024
        }
        return 0
    }
}
