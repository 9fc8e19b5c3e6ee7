import Foundation
import PlinthHTTP
import PlinthTestSupport
import XCTest

/// Every malformed-framing vector is answered with its status and the connection is closed.
final class SmugglingTests: XCTestCase {
    private static let router: Router = {
        let router = Router()
        router.add(.POST, "/echo") { .jsonBytes($0.body) }
        router.add(.GET, "/") { _ in .text("ok") }
        return router
    }()

    private let vectors: [(name: String, raw: String, status: Int)] = [
        (
            "CL with TE",
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400
        ),
        (
            "TE with CL",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", 400
        ),
        ("conflicting CL", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
        ("CL list", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd", 400),
        ("negative CL", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
        ("signed CL", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", 400),
        ("huge CL", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
        (
            "invalid chunk size",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400
        ),
        (
            "chunk size 0x prefix",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n", 400
        ),
        (
            "chunk size overflow",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff1\r\na\r\n0\r\n\r\n",
            400
        ),
        (
            "chunk size negative",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\na\r\n0\r\n\r\n", 400
        ),
        (
            "chunk leading space",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n 3\r\nabc\r\n0\r\n\r\n", 400
        ),
        (
            "bare LF after chunk size",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", 400
        ),
        (
            "bare LF after chunk data",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n", 400
        ),
        (
            "bare LF in last chunk",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\n\n", 400
        ),
        (
            "chunk data too long",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", 400
        ),
        ("obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400),
        ("whitespace before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        ("tab before colon", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length\t: 3\r\n\r\nabc", 400),
        (
            "chunked not final", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
            400
        ),
        ("identity coding", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", 400),
        (
            "chunked twice",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400
        ),
        ("xchunked", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400),
        ("unknown coding", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo, chunked\r\n\r\n0\r\n\r\n", 501),
        ("gzip coding", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
        ("bare CR in header", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400),
        ("bare CR line end", "GET / HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n", 400),
        ("NUL in value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{0}b\r\n\r\n", 400),
        ("DEL in value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{7F}b\r\n\r\n", 400),
        ("missing Host", "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n", 400),
        ("duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("empty header name", "GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", 400),
        ("no colon", "GET / HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", 400),
        ("bad request line", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("lowercase version", "GET / http/1.1\r\nHost: x\r\n\r\n", 400),
        ("absolute-form target", "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        ("unknown expectation", "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: magic\r\nContent-Length: 1\r\n\r\na", 417),
    ]

    func testEachSmugglingVectorIsRejectedAndTheConnectionClosed() throws {
        let s = try TestHTTPServer(router: SmugglingTests.router)
        defer { s.stop() }
        for vector in vectors {
            let c = try RawHTTPClient(port: s.port)
            // A second request after the vector: it must never be answered.
            try c.send(vector.raw + "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            let r = try c.readResponse()
            XCTAssertEqual(r.status, vector.status, vector.name)
            XCTAssertEqual(r.header("Connection"), "close", vector.name)
            XCTAssertTrue(c.isClosedByPeer(), "\(vector.name): connection left open")
        }
    }

    func testTolerantFormsAreAccepted() throws {
        let s = try TestHTTPServer(router: SmugglingTests.router)
        defer { s.stop() }
        let accepted = [
            "GET / HTTP/1.1\nHost: x\n\n",  // bare LF in the head is allowed
            "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",  // leading empty line
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",  // identical duplicates
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  Chunked \r\n\r\n1\r\na\r\n0\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-A:\r\n\r\n",  // empty value
        ]
        for raw in accepted {
            let c = try RawHTTPClient(port: s.port)
            try c.send(raw)
            XCTAssertEqual(try c.readResponse().status, 200, raw.debugDescription)
        }
    }

    func testHeadSizeAndCountLimitsAnswer431() throws {
        let s = try TestHTTPServer(router: SmugglingTests.router) {
            $0.maxHeaderBytes = 1024
            $0.maxHeaderCount = 10
        }
        defer { s.stop() }
        let big = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 2000))\r\n\r\n"
        let many = "GET / HTTP/1.1\r\nHost: x\r\n" + (0..<11).map { "X-\($0): 1\r\n" }.joined() + "\r\n"
        let longLine = "GET /\(String(repeating: "a", count: 5000)) HTTP/1.1\r\nHost: x\r\n\r\n"
        for raw in [big, many, longLine] {
            let c = try RawHTTPClient(port: s.port)
            try c.send(raw)
            XCTAssertEqual(try c.readResponse().status, 431)
            XCTAssertTrue(c.isClosedByPeer())
        }
    }

    func testMegabytesOfOneByteChunksAreParsedIteratively() throws {
        let s = try TestHTTPServer(router: SmugglingTests.router)
        defer { s.stop() }
        let c = try RawHTTPClient(port: s.port, timeout: 30)
        let count = 500_000
        var wire = Array("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        wire.reserveCapacity(wire.count + count * 6 + 5)
        for _ in 0..<count { wire += [0x31, 0x0D, 0x0A, 0x41, 0x0D, 0x0A] }
        wire += Array("0\r\n\r\n".utf8)
        c.sendInBackground(wire)
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body.count, count)
    }
}
