import Foundation
import PlinthHTTP
import PlinthTestSupport
import XCTest

@testable import PlinthHTTP

/// Mutated and random inputs: the parsers must answer with an error or a request, never crash or
/// hang, and the server must keep serving others afterwards.
final class RandomInputTests: XCTestCase {
    /// Small deterministic generator so failures reproduce.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private static let seeds: [String] = [
        "GET /a?b=c HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ]

    private func mutate(_ seed: [UInt8], _ rng: inout SplitMix) -> [UInt8] {
        var bytes = seed
        let interesting: [UInt8] = [0x0D, 0x0A, 0x20, 0x09, 0x3A, 0x00, 0x7F, 0xFF, 0x30, 0x66, 0x3B]
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !bytes.isEmpty else { break }
            let i = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: bytes[i] = interesting.randomElement(using: &rng)!
            case 1: bytes.insert(interesting.randomElement(using: &rng)!, at: i)
            case 2: bytes.remove(at: i)
            default: bytes[i] = UInt8.random(in: 0...255, using: &rng)
            }
        }
        return bytes
    }

    func testParsersSurviveMutatedInput() {
        var rng = SplitMix(state: 42)
        let parser = RequestHeadParser(maxHeaderBytes: 4096, maxHeaderCount: 20)
        for _ in 0..<20_000 {
            let seed = Array(RandomInputTests.seeds.randomElement(using: &rng)!.utf8)
            let input = mutate(seed, &rng)
            input.withUnsafeBytes { buf in
                if case .complete(let start, let end)? = try? parser.scan(buf, from: 0) {
                    _ = try? parser.parse(buf, start: start, end: end)
                    var decoder = ChunkedDecoder()
                    _ = try? decoder.decode(UnsafeRawBufferPointer(rebasing: buf[end...])) { _ in }
                }
            }
        }
    }

    func testServerKeepsServingAfterMutatedRequests() throws {
        let router = Router()
        router.add(.GET, "/a") { _ in .text("a") }
        router.add(.POST, "/echo") { .jsonBytes($0.body) }
        let s = try TestHTTPServer(router: router) {
            $0.headerTimeout = .milliseconds(300)
            $0.bodyTimeout = .milliseconds(300)
        }
        defer { s.stop() }
        var rng = SplitMix(state: 7)
        for _ in 0..<150 {
            let seed = Array(RandomInputTests.seeds.randomElement(using: &rng)!.utf8)
            let c = try RawHTTPClient(port: s.port, timeout: 5)
            try? c.send(mutate(seed, &rng))
            c.shutdownWrite()
            // Any answer (or a close) is fine; what matters is that it comes and nothing hangs.
            _ = try? c.readResponse()
        }
        let c = try RawHTTPClient(port: s.port)
        try c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try c.readResponse().text, "a")
    }
}
