import XCTest

@testable import PlinthHTTP

final class CommonFieldsTests: XCTestCase {
    private func string(_ text: String) -> String {
        Array(text.utf8).withUnsafeBytes { CommonFields.string($0) }
    }

    func testEveryFieldReadsBackExactlyAsSent() {
        let samples = [
            "", "Content-Type", "content-type", "CONTENT-TYPE", "Content-Typf", "Content-Typ", "application/json",
            "Application/json", "application/json ", "1", "0", "42", "X-Request-Id", "x-request-id",
            "Plinth-Compute-Us", "Inference-Header-Content-Length", "Inference-Header-Content-Lengthx", "ü", "*/*",
            String(repeating: "a", count: 200),
        ]
        for sample in samples {
            XCTAssertEqual(string(sample), sample)
            XCTAssertEqual(Array(string(sample).utf8), Array(sample.utf8))
        }
        XCTAssertEqual(Array([0xFF, 0x41] as [UInt8]).withUnsafeBytes { CommonFields.string($0) }, "\u{FFFD}A")
    }

    func testParsedHeadsKeepSpellingAndValues() throws {
        let raw = Array(
            "POST /v2/models/m/infer HTTP/1.1\r\nHost: h\r\ncontent-type: application/json\r\nContent-Length: 2\r\nX-Thing: Content-Type\r\n\r\n"
                .utf8)
        let parser = RequestHeadParser(maxHeaderBytes: 8192, maxHeaderCount: 100)
        let head = try raw.withUnsafeBytes { try parser.parse($0, start: 0, end: $0.count) }
        XCTAssertEqual(head.headers.map(\.name), ["Host", "content-type", "Content-Length", "X-Thing"])
        XCTAssertEqual(head.headers.map(\.value), ["h", "application/json", "2", "Content-Type"])
    }
}

final class UpstreamEncodeTests: XCTestCase {
    func testForwardedHeadIsExactAndRefusesLineBreaksInFields() throws {
        var request = HTTPClientRequest(
            method: .POST, path: "/v2/models/m/infer",
            headers: ["Content-Type": "application/json", "Content-Length": "99", "X-Request-Id": "r1"],
            body: Array("{}".utf8))
        let bytes = try UpstreamClient.encode(request, body: Array("{}".utf8), endpoint: .unix(path: "/tmp/x.sock"))
        XCTAssertEqual(
            String(decoding: bytes, as: UTF8.self),
            "POST /v2/models/m/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nX-Request-Id: r1\r\nContent-Length: 2\r\n\r\n{}"
        )
        for (name, value) in [("X-A", "a\r\nX-Injected: 1"), ("X-B", "b\n"), ("X-C\r", "c"), ("X\nD", "d")] {
            request.headers = [name: value]
            XCTAssertThrowsError(try UpstreamClient.encode(request, body: [], endpoint: .unix(path: "/tmp/x.sock")))
        }
    }
}
