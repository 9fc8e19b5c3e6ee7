import Dispatch
import Foundation
import PlinthHTTP
import PlinthTestSupport
import Synchronization
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `HTTPResponse.delivery`: the server tells when a response's last byte reached the kernel, or
/// that it never will — exactly one final report per response, on every write path.
final class DeliveryObserverTests: XCTestCase {
    /// What one response's observer saw.
    final class Log: Sendable {
        let seen = Mutex<[HTTPDelivery]>([])
        var observer: HTTPDeliveryObserver { { [self] p in seen.withLock { $0.append(p) } } }
        var events: [HTTPDelivery] { seen.withLock { $0 } }
        var finals: [HTTPDelivery] { events.filter { $0 == .delivered || $0 == .failed } }

        /// Waits for the final report: the client may read the bytes a moment before the server's
        /// send returns.
        func waitForFinal(seconds: Double = 10) -> [HTTPDelivery] {
            let deadline = Date().addingTimeInterval(seconds)
            while finals.isEmpty && Date() < deadline { usleep(1_000) }
            usleep(20_000)  // a second final report would show up here
            return events
        }
    }

    private func server(_ log: Log, bodyBytes: Int = 5, delayMs: Int = 0) throws -> TestHTTPServer {
        let router = Router()
        let body = [UInt8](repeating: 0x61, count: bodyBytes)
        router.addAsync(.GET, "/async") { _, responder in
            var answer = HTTPResponse(status: 200, body: .bytes(body))
            answer.delivery = log.observer
            let response = answer
            if delayMs == 0 {
                responder.complete(response)
            } else {
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(delayMs)) {
                    responder.complete(response)
                }
            }
        }
        router.add(.GET, "/pool") { _ in
            var response = HTTPResponse(status: 200, body: .bytes(body))
            response.delivery = log.observer
            return response
        }
        return try TestHTTPServer(router: router) { $0.eventLoopCount = 1 }
    }

    func testAsyncResponseReportsSendingThenDeliveredOnce() throws {
        let log = Log()
        let server = try server(log)
        defer { server.stop() }
        let response = try HTTPClient().send(HTTPClientRequest(method: .GET, path: "/async"), to: server.endpoint)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(log.waitForFinal(), [.sending, .delivered])
    }

    func testPoolHandlerResponseReportsDeliveredOnce() throws {
        let log = Log()
        let server = try server(log)
        defer { server.stop() }
        let response = try HTTPClient().send(HTTPClientRequest(method: .GET, path: "/pool"), to: server.endpoint)
        XCTAssertEqual(response.body.count, 5)
        XCTAssertEqual(log.waitForFinal(), [.sending, .delivered])
    }

    func testInProcessCallerCountsAsDelivered() throws {
        let log = Log()
        let router = Router()
        router.addAsync(.GET, "/async") { _, responder in
            var response = HTTPResponse.text("hi")
            response.delivery = log.observer
            responder.complete(response)
        }
        let response = router.handle(HTTPRequest(method: .GET, path: "/async"))
        XCTAssertNil(response.delivery, "the observer is not handed on to be fired twice")
        XCTAssertEqual(log.events, [.sending, .delivered])
    }

    func testPeerThatResetsBeforeTheAnswerGetsFailed() throws {
        let log = Log()
        let server = try server(log, delayMs: 300)
        defer { server.stop() }
        let client = try connectAndSend(port: server.port, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n")
        client.reset()
        XCTAssertEqual(log.waitForFinal().last, .failed)
        XCTAssertEqual(log.finals, [.failed])
    }

    func testPeerThatStopsReadingThenResetsGetsFailedAfterPartialSends() throws {
        let log = Log()
        let server = try server(log, bodyBytes: 32 << 20)
        defer { server.stop() }
        let client = try connectAndSend(port: server.port, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n")
        // The body is far larger than the socket buffers: the server's sends fall short.
        let deadline = Date().addingTimeInterval(10)
        while !log.events.contains(.incomplete) && Date() < deadline { usleep(1_000) }
        client.reset()
        let events = log.waitForFinal()
        XCTAssertEqual(events.first, .sending)
        XCTAssertTrue(events.contains(.incomplete))
        XCTAssertEqual(events.last, .failed)
        XCTAssertEqual(log.finals, [.failed])
    }

    private func connectAndSend(port: Int, _ text: String) throws -> RawHTTPClient {
        let client = try RawHTTPClient(port: port)
        try client.send(text)
        return client
    }
}
