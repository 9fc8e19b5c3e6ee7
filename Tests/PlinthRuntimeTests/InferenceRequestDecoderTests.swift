import Foundation
import XCTest

@testable import PlinthRuntime

final class InferenceRequestDecoderTests: XCTestCase {
    func decode(_ text: String, jsonLength: Int? = nil, binary: [UInt8] = []) throws -> InferenceRequest {
        try InferenceRequestDecoder.decode(Array(text.utf8) + binary, jsonLength: jsonLength)
    }

    func testDecodesFlatRequestWithIdParametersAndOutputs() throws {
        let request = try decode(
            """
            {"id": "r1", "parameters": {"binary_data_output": true, "n": 3, "x": 1.5, "s": "a"},
             "inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [1, 2.5, -3e2, 0.1]}],
             "outputs": [{"name": "y", "parameters": {"binary_data": false}}, {"name": "z"}]}
            """)
        XCTAssertEqual(request.id, "r1")
        XCTAssertEqual(request.parameters["n"], .int(3))
        XCTAssertEqual(request.parameters["x"], .double(1.5))
        XCTAssertEqual(request.parameters["s"], .string("a"))
        XCTAssertTrue(request.binaryDataOutput)
        XCTAssertEqual(
            request.inputs,
            [
                WireTensor(
                    name: "x", datatype: .fp32, shape: [2, 2],
                    data: .float32([1, 2.5, -300, 0.1]))
            ])
        XCTAssertEqual(request.outputs, [RequestedOutput(name: "y", binaryData: false), RequestedOutput(name: "z")])
    }

    func testNestedDataIsFlattenedRowMajor() throws {
        let request = try decode(
            """
            {"inputs":[{"name":"a","shape":[2,3],"datatype":"INT64","data":[[1,2,3],[4,5,-6]]}]}
            """)
        XCTAssertEqual(request.inputs[0].data, .int64([1, 2, 3, 4, 5, -6]))
    }

    /// FP32 data's own loop gives what the general flattening reader gives: the same values
    /// (bit for bit), or the same error at the same offset, for flat, nested, spaced, mixed and
    /// broken arrays.
    func testFloatDataLoopMatchesTheGeneralReader() {
        var texts = [
            "[1,2,3]", "[ 1 , 2 ,3 ]", "[[1,2],[3,4]]", "[ [1, 2], [3, 4] ]", "[]", "[ ]", "[-0.352334,0.5]",
            "[1e-3,NaN,-Infinity,Infinity,0.1]", "[0.5,159190.0703125,4.014026880264282,-4.014026880264282]",
            "[12345678901234567890.5,0.12345678901234567890123,1234567890123456789]",
            "[1,2,]", "[1 2]", "[1,[2]]", "[[1],2]", "[1,2", "[", "[01]", "[1.]", "[-]", "[1e39]", "[\"1\"]",
            "[1,nul]", "[1,2]x", "\t[\n1,\r2\t]", "[-0,0.0,-0.000]",
            "[0.12345678,12345678.5,123456789012.25,0.1234567890123456789,-0.00000000000000001]",
            "[ 159190.0703125 ,\n-159190.0703125]", "[1.5e3,-0.5E-2,2.]", "[-01]", "[-,1]", "[0x1]", "[1.5-2]",
            String(repeating: "[", count: 70) + "1" + String(repeating: "]", count: 70),
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let values = (0..<Int.random(in: 1...20, using: &generator)).map { _ in
                String(
                    format: "%.\(Int.random(in: 0...12, using: &generator))f",
                    Double.random(in: -100...100, using: &generator))
            }
            texts.append("[" + values.joined(separator: Bool.random(using: &generator) ? "," : " , ") + "]")
        }
        // The loop stores into the declared capacity, then appends past it.
        for text in texts {
            for capacity in [0, 1, 4, 64] { check(text, capacity: capacity) }
        }
    }

    private func check(_ text: String, capacity: Int) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBufferPointer { buffer in
            var fast = JSONReader(buffer)
            var general = JSONReader(buffer)
            let a = Result { () throws(InferenceError) in try fast.readFloatData(capacity: capacity) }
            let b = Result { () throws(InferenceError) in
                try general.readFlattened(FloatElementReader.self, .fp32, capacity: 4)
            }
            switch (a, b) {
            case (.success(let x), .success(let y)):
                XCTAssertEqual(x.map(\.bitPattern), y.map(\.bitPattern), "\(text) \(capacity)")
                XCTAssertEqual(fast.position, general.position, text)
                XCTAssertEqual(fast.depth, general.depth, text)
            case (.failure(let x), .failure(let y)):
                XCTAssertEqual(x, y, text)
            default:
                XCTFail("\(text): \(a) vs \(b)")
            }
        }
    }

    func testDataBeforeDatatypeIsParsedOnceTheTypeIsKnown() throws {
        let request = try decode(
            """
            {"inputs":[{"data":[0.5, 1],"name":"a","shape":[2],"datatype":"FP64"}]}
            """)
        XCTAssertEqual(request.inputs[0].data, .float64([0.5, 1]))
    }

    func testEveryDatatypeDecodesFromJSON() throws {
        let table: [(String, String, TensorData)] = [
            ("BOOL", "[true,false]", .bool([true, false])),
            ("INT8", "[-128,127]", .int64([-128, 127])),
            ("UINT8", "[0,255]", .int64([0, 255])),
            ("INT16", "[-32768,32767]", .int64([-32768, 32767])),
            ("UINT16", "[0,65535]", .int64([0, 65535])),
            ("INT32", "[-2147483648,2147483647]", .int64([-2_147_483_648, 2_147_483_647])),
            ("UINT32", "[0,4294967295]", .int64([0, 4_294_967_295])),
            ("INT64", "[-9223372036854775808,9223372036854775807]", .int64([Int64.min, Int64.max])),
            ("UINT64", "[0,18446744073709551615]", .uint64([0, UInt64.max])),
            ("FP16", "[1.5,-2]", .float32([1.5, -2])),
            ("FP32", "[NaN,Infinity]", .float32([.infinity, .infinity])),  // NaN compared below
            ("FP64", "[1e300,-0.0]", .float64([1e300, -0.0])),
            ("BYTES", "[\"h\\u00e9\",\"\\ud83d\\ude00\"]", .bytes([Array("hé".utf8), Array("😀".utf8)])),
        ]
        for (datatype, data, expected) in table {
            let request = try decode(
                "{\"inputs\":[{\"name\":\"a\",\"shape\":[2],\"datatype\":\"\(datatype)\",\"data\":\(data)}]}")
            if datatype == "FP32" {
                guard case .float32(let values) = request.inputs[0].data else { return XCTFail("FP32 case") }
                XCTAssertTrue(values[0].isNaN)
                XCTAssertEqual(values[1], .infinity)
            } else {
                XCTAssertEqual(request.inputs[0].data, expected, datatype)
            }
        }
    }

    /// Decimal texts of every shape: the fast path must agree with Float(String) bit for bit.
    func testFloatsAreBitIdenticalToFloatString() throws {
        var generator = SystemRandomNumberGenerator()
        var texts: [String] = [
            "0.1", "1e-7", "3.4028235e38", "1.17549435e-38", "1e-45", "7e-46", "123456789012345678901234",
            "0.000000000000000000000000000000000000000000001401298464324817",
            "16777217", "16777219", "33554435", "0.30000001192092896", "2.5e-8", "-0", "1E+2",
            "9007199254740993", "1.00000005960464477539062500001", "1.000000059604644775390625",
            // Fractions that cross the 19 kept digits (the plain loop hands over to the careful one).
            "12345678901234567890.5", "1234567890123456789.123", "123456789012345678.9", "0.12345678901234567890123",
            "0.0000000000000000000000012345678901234567890123", "-0.352334", "0.0", "9.999999999999999999999",
            // Short plain decimals that are Float rounding midpoints as Doubles: the plain-decimal
            // path must hand them to the slow path.
            "159190.0703125", "30374.6708984375", "11335.38525390625", "18216.5126953125", "970444.09375",
            "4.014026880264282", "-4.014026880264282",
        ]
        for _ in 0..<8000 {
            let bits = UInt32.random(in: 0...UInt32.max, using: &generator)
            let f = Float(bitPattern: bits)
            guard f.isFinite else { continue }
            texts.append(f.description)
            texts.append(String(format: "%.9g", f))
            texts.append(String(format: "%.6e", Double(f)))
            texts.append(String(Double(f) * 1.0000001))
        }
        for _ in 0..<5000 {
            let digits = Int.random(in: 1...22, using: &generator)
            var text = String(UInt64.random(in: 1...UInt64.max, using: &generator)).prefix(digits)
            if Bool.random(using: &generator) {
                text.insert(".", at: text.index(text.startIndex, offsetBy: text.count / 2))
            }
            texts.append(String(text) + "e\(Int.random(in: -50...40, using: &generator))")
        }
        // Midpoints between adjacent floats: the double-rounding trap.
        for _ in 0..<2000 {
            let f = Float(bitPattern: UInt32.random(in: 0x0080_0000...0x7F00_0000, using: &generator))
            let midpoint = (Double(f) + Double(f.nextUp)) / 2
            texts.append(String(format: "%.17g", midpoint))
            texts.append(midpoint.description)
        }
        let jsonNumber = try NSRegularExpression(pattern: "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$")
        var mismatches = 0
        var checked = 0
        for text in texts {
            let range = NSRange(text.startIndex..., in: text)
            guard jsonNumber.firstMatch(in: text, range: range) != nil else { continue }
            guard let expected = Float(text), expected.isFinite else { continue }
            checked += 1
            let body = "{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[\(text)]}]}"
            let request = try decode(body)
            guard case .float32(let values) = request.inputs[0].data else { return XCTFail("not FP32") }
            if values[0].bitPattern != expected.bitPattern {
                mismatches += 1
                if mismatches < 5 { XCTFail("\(text): got \(values[0]) want \(expected)") }
            }
        }
        XCTAssertEqual(mismatches, 0)
        XCTAssertGreaterThan(checked, 25_000)
    }

    func testDoublesAreBitIdenticalToDoubleString() throws {
        var texts = [
            "0.1", "1e-300", "2.2250738585072014e-308", "1.7976931348623157e308", "9007199254740993",
            "0.30000000000000004", "123456789.123456789",
        ]
        for _ in 0..<5000 {
            let d = Double(bitPattern: UInt64.random(in: 0...UInt64.max))
            if d.isFinite { texts.append(d.description) }
        }
        // Plain decimals (the common tensor data): the plain-decimal path, up to 19 digits and past.
        texts += [
            "-0.352334", "-0", "0.0", "0.000001", "1234567890123456789", "12345678901234567890", "9007199254740993.5",
        ]
        for _ in 0..<3000 {
            let precision = Int.random(in: 0...20)
            texts.append(String(format: "%.\(precision)f", Double.random(in: -1e6...1e6)))
        }
        for text in texts {
            let body = "{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP64\",\"data\":[\(text)]}]}"
            guard case .float64(let values) = try decode(body).inputs[0].data else { return XCTFail("not FP64") }
            XCTAssertEqual(values[0].bitPattern, Double(text)!.bitPattern, text)
        }
    }

    func testMalformedRequestsFailWithReasons() {
        let input = "\"name\":\"a\",\"shape\":[2],\"datatype\":\"FP32\""
        let table: [(String, String)] = [
            ("", "empty request body"),
            ("[]", "expected a JSON object"),
            ("{", "expected a member name"),
            ("{\"inputs\":[{\(input),\"data\":[1,2]}]", "expected ',' or '}'"),
            ("{\"inputs\":[{\(input),\"data\":[1,2]}]} x", "unexpected data after"),
            ("{\"inputs\":[{\(input),\"data\":[1,2,]}]}", "expected a number"),
            ("{\"inputs\":[{\(input),\"data\":[01,2]}]}", "leading zero"),
            ("{\"inputs\":[{\(input),\"data\":[1.,2]}]}", "expected a digit after '.'"),
            ("{\"inputs\":[{\(input),\"data\":[1e,2]}]}", "expected a digit in the exponent"),
            ("{\"inputs\":[{\(input),\"data\":[1e39,2]}]}", "out of range for FP32"),
            ("{\"inputs\":[{\(input),\"data\":[\"1\",2]}]}", "expected a number"),
            ("{\"inputs\":[{\(input),\"data\":[1,2,3]}]}", "needs 2 elements, data has 3"),
            ("{\"inputs\":[{\(input),\"data\":[[1],2]}]}", "expected '['"),
            ("{\"inputs\":[{\(input)}]}", "has no 'data'"),
            ("{\"inputs\":[{\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}", "has no 'name'"),
            ("{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"data\":[1]}]}", "has no 'shape'"),
            ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"data\":[1]}]}", "has no 'datatype'"),
            (
                "{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP8\",\"data\":[1]}]}",
                "unknown datatype 'FP8'"
            ),
            ("{\"inputs\":[{\"name\":\"a\",\"shape\":[-1],\"datatype\":\"FP32\",\"data\":[1]}]}", "out of range"),
            (
                "{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[128]}]}",
                "out of range for INT8"
            ),
            (
                "{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"INT32\",\"data\":[1.5]}]}",
                "expected an integer"
            ),
            (
                "{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"BOOL\",\"data\":[1]}]}",
                "expected true or false"
            ),
            ("{\"inputs\":[]}", "'inputs' is empty"),
            ("{\"id\":\"x\"}", "missing 'inputs'"),
            ("{\"id\":1,\"inputs\":[]}", "'id' must be a string"),
            ("{\"inputs\":[],\"inputs\":[]}", "duplicate member 'inputs'"),
            ("{\"inputs\":[{\(input),\"data\":[1,2]},{\(input),\"data\":[1,2]}]}", "appears twice"),
            ("{\"parameters\":{\"a\":[1]},\"inputs\":[]}", "must be a string, number or boolean"),
            ("{\"inputs\":[{\"name\":\"a\\x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}", "invalid escape"),
            (
                "{\"inputs\":[{\"name\":\"\\ud800\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}",
                "unpaired surrogate"
            ),
            ("{\"inputs\":[{\"name\":\"a\n\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}", "control character"),
            (
                "{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}],\"x\":nul}",
                "invalid literal"
            ),
            (
                "{\"inputs\":[{\(input),\"data\":" + String(repeating: "[", count: 100) + "1"
                    + String(repeating: "]", count: 100) + "}]}",
                "nesting deeper than 64"
            ),
        ]
        for (body, expected) in table {
            do {
                _ = try decode(body)
                XCTFail("accepted: \(body)")
            } catch {
                XCTAssertTrue("\(error)".contains(expected), "\(body): \(error) lacks '\(expected)'")
                XCTAssertEqual((error as? InferenceError)?.status, 400)
            }
        }
    }

    /// Member names and datatypes are matched on their bytes when plain; escaped spellings of
    /// the same names mean the same, and duplicates are caught across spellings. Error offsets
    /// (the position after the name's colon) are unchanged.
    func testMemberNamesMatchWithOrWithoutEscapes() throws {
        let escaped =
            #"{"\u0069nputs":[{"na\u006de":"x","sh\u0061pe":[1,2],"datatype":"FP\u00332","d\u0061ta":[1,2],"extra":{"a":[1]}}],"other":1}"#
        let request = try decode(escaped)
        XCTAssertEqual(
            request.inputs, [WireTensor(name: "x", datatype: .fp32, shape: [1, 2], data: .float32([1, 2]))])
        for datatype in OIPDatatype.allCases {
            XCTAssertEqual("\(datatype.staticName)", datatype.rawValue)
        }
        let input = #""name":"a","shape":[1],"datatype":"FP32","data":[1]"#
        let table: [(String, InferenceError)] = [
            (#"{"inputs":[],"\u0069nputs":[]}"#, .malformedJSON(offset: 27, reason: "duplicate member 'inputs'")),
            (
                "{\"inputs\":[{\(input),\"na\\u006de\":\"b\"}]}",
                .malformedJSON(offset: 76, reason: "duplicate member 'name'")
            ),
            ("{\"inputs\":[{\(input),\"x\":1,\"x\":2}]}", .malformedJSON(offset: 74, reason: "duplicate member 'x'")),
            (#"{"x":1,"inputs":[],"x":2}"#, .malformedJSON(offset: 23, reason: "duplicate member 'x'")),
            (
                #"{"inputs":[{"name":"a","shape":[1],"datatype":"FP33","data":[1]}]}"#,
                .malformedJSON(offset: 46, reason: "unknown datatype 'FP33'")
            ),
            (
                #"{"inputs":[{"name":"a","shape":[1],"datatype":"fp32","data":[1]}]}"#,
                .malformedJSON(offset: 46, reason: "unknown datatype 'fp32'")
            ),
        ]
        for (body, expected) in table {
            XCTAssertThrowsError(try decode(body), body) { error in
                XCTAssertEqual(error as? InferenceError, expected, body)
            }
        }
    }

    func testInvalidUTF8InAStringIsRejected() {
        var body = Array("{\"inputs\":[{\"name\":\"".utf8)
        body += [0xC3, 0x28]
        body += Array("\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}".utf8)
        XCTAssertThrowsError(try InferenceRequestDecoder.decode(body)) { error in
            XCTAssertTrue("\(error)".contains("not valid UTF-8"))
        }
    }

    func testBinaryInputsFollowTheJSONHeader() throws {
        let header = """
            {"inputs":[{"name":"a","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}},
            {"name":"b","shape":[1],"datatype":"INT64","data":[7]},
            {"name":"c","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":11}},
            {"name":"d","shape":[3],"datatype":"INT16","parameters":{"binary_data_size":6}}]}
            """
        var binary: [UInt8] = []
        for f: Float in [1.5, -2] { withUnsafeBytes(of: f.bitPattern.littleEndian) { binary += $0 } }
        binary += [3, 0, 0, 0] + Array("abc".utf8) + [0, 0, 0, 0]
        for v: Int16 in [-1, 2, 300] { withUnsafeBytes(of: v.littleEndian) { binary += $0 } }
        let request = try decode(header, jsonLength: header.utf8.count, binary: binary)
        XCTAssertEqual(
            request.inputs.map(\.data),
            [
                .float32([1.5, -2]), .int64([7]), .bytes([Array("abc".utf8), []]), .int64([-1, 2, 300]),
            ])
    }

    func testBinarySizeMismatchesAreRejected() {
        let header =
            "{\"inputs\":[{\"name\":\"a\",\"shape\":[2],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":8}}]}"
        let length = header.utf8.count
        let table: [([UInt8], Int?, String)] = [
            ([0, 0, 0, 0], length, "only 4 remain"),
            ([UInt8](repeating: 0, count: 12), length, "4 bytes after the last binary input"),
            ([UInt8](repeating: 0, count: 8), length + 100, "exceeds the body"),
            ([UInt8](repeating: 0, count: 8), nil, "unexpected data after"),
        ]
        for (binary, jsonLength, expected) in table {
            XCTAssertThrowsError(try decode(header, jsonLength: jsonLength, binary: binary)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error) lacks '\(expected)'")
            }
        }
        let wrongSize =
            "{\"inputs\":[{\"name\":\"a\",\"shape\":[2],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":4}}]}"
        XCTAssertThrowsError(try decode(wrongSize, jsonLength: wrongSize.utf8.count, binary: [0, 0, 0, 0])) { error in
            XCTAssertTrue("\(error)".contains("need 8 bytes, got 4"), "\(error)")
        }
    }

    func testHalfPrecisionConversionRoundTrips() {
        for bits in UInt16.min...UInt16.max {
            let f = Float(halfBits: bits)
            if f.isNaN { continue }
            XCTAssertEqual(f.halfBits, bits, "half \(bits)")
        }
        XCTAssertEqual(Float(1.0009766).halfBits, 0x3C01)
        XCTAssertEqual(Float(100_000).halfBits, 0x7C00)
    }
}
