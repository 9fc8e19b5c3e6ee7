import Foundation
import XCTest

@testable import PlinthHTTP

final class ParserTests: XCTestCase {
    private let parser = RequestHeadParser(maxHeaderBytes: 8192, maxHeaderCount: 50)

    private func parse(_ text: String) throws -> RequestHead {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { buf in
            guard case .complete(let start, let end) = try parser.scan(buf, from: 0) else {
                throw HeadError(0, "incomplete")
            }
            return try parser.parse(buf, start: start, end: end)
        }
    }

    func testHeadFieldsPathQueryAndFraming() throws {
        let head = try parse("POST /a/b?x=1&y=2 HTTP/1.1\r\nHost: h\r\nX-A:  v  \r\nContent-Length: 12\r\n\r\n")
        XCTAssertEqual(head.method, .POST)
        XCTAssertEqual(head.path, "/a/b")
        XCTAssertEqual(head.query, "x=1&y=2")
        XCTAssertEqual(head.headers["x-a"], "v")
        XCTAssertEqual(head.framing, .contentLength(12))
        XCTAssertTrue(head.keepAlive)
        XCTAssertFalse(head.isHTTP10)
    }

    func testScanFindsTheEndWhenFedOneByteAtATime() throws {
        let text = Array("GET /x HTTP/1.1\r\nHost: h\r\nA: b\r\n\r\nNEXT".utf8)
        var resume = 0
        var found: (Int, Int)?
        for n in 1...text.count {
            let prefix = Array(text[0..<n])
            let scan = try prefix.withUnsafeBytes { try parser.scan($0, from: resume) }
            switch scan {
            case .incomplete(let r):
                XCTAssertLessThanOrEqual(r, n)
                resume = r
            case .complete(let start, let end):
                found = (start, end)
            }
            if found != nil { break }
        }
        XCTAssertEqual(found?.0, 0)
        XCTAssertEqual(found?.1, text.count - 4)
    }

    func testOversizedHeadThrows431BeforeTheEnd() {
        let small = RequestHeadParser(maxHeaderBytes: 64, maxHeaderCount: 10)
        let bytes = Array("GET / HTTP/1.1\r\nX: \(String(repeating: "a", count: 100))".utf8)
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try small.scan($0, from: 0) }) {
            XCTAssertEqual(($0 as? HeadError)?.status, 431)
        }
    }

    func testConnectionAndExpectTokens() throws {
        XCTAssertFalse(try parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Close\r\n\r\n").keepAlive)
        XCTAssertFalse(try parse("GET / HTTP/1.0\r\n\r\n").keepAlive)
        XCTAssertTrue(try parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive)
        XCTAssertTrue(
            try parse("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n").expectContinue)
        XCTAssertFalse(try parse("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n").expectContinue)
        XCTAssertEqual(try parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").path, "*")
        XCTAssertEqual(try parse("PURGE /c HTTP/1.1\r\nHost: h\r\n\r\n").method, .other("PURGE"))
    }

    private func decodeChunked(_ text: String, pieceSize: Int) throws -> (body: [UInt8], consumed: Int, done: Bool) {
        let bytes = Array(text.utf8)
        var decoder = ChunkedDecoder()
        var body: [UInt8] = []
        var offset = 0
        while offset < bytes.count, !decoder.isDone {
            let end = min(bytes.count, offset + pieceSize)
            let used = try Array(bytes[offset..<end]).withUnsafeBytes { buf in
                try decoder.decode(buf) { body.append(contentsOf: $0) }
            }
            offset += used
        }
        return (body, offset, decoder.isDone)
    }

    func testChunkedDecodingIsIndependentOfHowBytesArrive() throws {
        let wire = "4;name=value\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\nNEXT"
        for piece in [1, 2, 3, 7, 1000] {
            let r = try decodeChunked(wire, pieceSize: piece)
            XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "Wikipedia in\r\n\r\nchunks.", "piece \(piece)")
            XCTAssertTrue(r.done)
            XCTAssertEqual(r.consumed, wire.utf8.count - 4, "stops before the next request")
        }
    }

    func testChunkedDecoderBudgetLimitsOutput() throws {
        let bytes = Array("a\r\n0123456789\r\n0\r\n\r\n".utf8)
        var decoder = ChunkedDecoder()
        var out: [UInt8] = []
        let used = try bytes.withUnsafeBytes { try decoder.decode($0, budget: 4) { out.append(contentsOf: $0) } }
        XCTAssertEqual(out.count, 4)
        XCTAssertEqual(used, 3 + 4)
    }

    func testChunkedRejectsMalformedFraming() {
        let bad = ["g\r\n", "\r\n", "1\nx", "1\r\nxy\r\n", "1\r\nx\r\r", "10000000000000000\r\n", "0\r\nX\n"]
        for text in bad {
            XCTAssertThrowsError(try decodeChunked(text, pieceSize: 100), text.debugDescription)
        }
    }

    func testResponseHeadSerializationDropsFramingAndUnsafeHeaders() {
        var out: [UInt8] = []
        var headers: HTTPHeaders = ["Content-Type": "text/plain", "Content-Length": "999", "X-Bad": "a\r\nInjected: 1"]
        headers.add("Connection", "keep-alive")
        ResponseHead.write(status: 201, headers: headers, contentLength: 5, keepAlive: false, http10: false, into: &out)
        let text = String(decoding: out, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nDate: "))
        XCTAssertTrue(text.hasSuffix("Content-Length: 5\r\nConnection: close\r\n\r\n"))
        XCTAssertFalse(text.contains("999"))
        XCTAssertFalse(text.contains("Injected"))
    }
}
