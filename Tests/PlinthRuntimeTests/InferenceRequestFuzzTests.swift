import XCTest

@testable import PlinthRuntime

/// Mutated and truncated request bodies must be answered with an error or a request, never a
/// crash, hang or huge allocation.
final class InferenceRequestFuzzTests: XCTestCase {
    func testMutatedBodiesNeverCrash() {
        let seeds: [String] = [
            "{\"id\":\"a\",\"parameters\":{\"p\":1},\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[[1.5,-2e3],[0,7]]}],\"outputs\":[{\"name\":\"y\",\"parameters\":{\"binary_data\":true}}]}",
            "{\"inputs\":[{\"name\":\"s\",\"shape\":[2],\"datatype\":\"BYTES\",\"data\":[\"a\\u00e9\",\"\\n\"]},{\"data\":[1,2],\"name\":\"i\",\"shape\":[2],\"datatype\":\"INT8\"}]}",
            "{\"inputs\":[{\"name\":\"b\",\"shape\":[3],\"datatype\":\"BOOL\",\"data\":[true,false,true]},{\"name\":\"u\",\"shape\":[1],\"datatype\":\"UINT64\",\"data\":[18446744073709551615]}]}",
        ]
        let alphabet = Array("{}[]\",:0123456789.eE+-truefalsnul \\u\"x".utf8)
        var state: UInt64 = 0x1234_5678_9ABC_DEF0
        func next() -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(truncatingIfNeeded: state & 0x7FFF_FFFF)
        }
        var accepted = 0
        for round in 0..<6000 {
            var body = Array(seeds[round % seeds.count].utf8)
            for _ in 0..<(1 + next() % 4) {
                let position = next() % body.count
                switch next() % 4 {
                case 0: body[position] = alphabet[next() % alphabet.count]
                case 1: body.insert(alphabet[next() % alphabet.count], at: position)
                case 2: body.remove(at: position)
                default: body = Array(body[0..<position])
                }
                if body.isEmpty { break }
            }
            if (try? InferenceRequestDecoder.decode(body)) != nil { accepted += 1 }
            // Binary variant: claim part of the body is binary data.
            if !body.isEmpty { _ = try? InferenceRequestDecoder.decode(body, jsonLength: next() % (body.count + 1)) }
        }
        XCTAssertGreaterThan(accepted, 0)  // some mutations stay valid (e.g. digits changed)
    }

    func testHugeDeclaredShapesDoNotAllocate() {
        let body =
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[2147483647,2147483647],\"datatype\":\"FP32\",\"data\":[1]}]}"
        XCTAssertThrowsError(try InferenceRequestDecoder.decode(Array(body.utf8)))
        let fits = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1073741824],\"datatype\":\"FP32\",\"data\":[1]}]}"
        XCTAssertThrowsError(try InferenceRequestDecoder.decode(Array(fits.utf8))) { error in
            XCTAssertTrue("\(error)".contains("needs 1073741824 elements, data has 1"))
        }
        let binary =
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[1073741824],\"datatype\":\"BYTES\",\"parameters\":{\"binary_data_size\":4}}]}"
        XCTAssertThrowsError(
            try InferenceRequestDecoder.decode(Array(binary.utf8) + [0, 0, 0, 0], jsonLength: binary.utf8.count))
    }
}
