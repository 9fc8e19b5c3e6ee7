import Foundation
import XCTest

@testable import PlinthRuntime

final class InferenceResponseEncoderTests: XCTestCase {
    func testEncodesJSONOutputsWithParametersAndLabels() throws {
        let response = InferenceResponse(
            modelName: "m\"1", modelVersion: "1", id: "req",
            parameters: [("plinth_queue_us", .int(12)), ("ratio", .double(0.5)), ("ok", .bool(true))],
            outputs: [
                ResponseOutput(
                    tensor: WireTensor(
                        name: "probabilities", datatype: .fp32, shape: [1, 2],
                        data: .float32([0.25, 0.75])), labels: ["cat", "dog"]),
                ResponseOutput(tensor: WireTensor(name: "label", datatype: .int64, shape: [1], data: .int64([-7]))),
                ResponseOutput(
                    tensor: WireTensor(name: "s", datatype: .bytes, shape: [1], data: .bytes([Array("a\n".utf8)]))),
            ])
        let encoded = InferenceResponseEncoder.encode(response)
        XCTAssertNil(encoded.jsonLength)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(encoded.body)) as? [String: Any])
        XCTAssertEqual(object["model_name"] as? String, "m\"1")
        XCTAssertEqual(object["model_version"] as? String, "1")
        XCTAssertEqual(object["id"] as? String, "req")
        let parameters = try XCTUnwrap(object["parameters"] as? [String: Any])
        XCTAssertEqual(parameters["plinth_queue_us"] as? Int, 12)
        let outputs = try XCTUnwrap(object["outputs"] as? [[String: Any]])
        XCTAssertEqual(outputs.count, 3)
        XCTAssertEqual(outputs[0]["datatype"] as? String, "FP32")
        XCTAssertEqual(outputs[0]["shape"] as? [Int], [1, 2])
        XCTAssertEqual(outputs[0]["data"] as? [Double], [0.25, 0.75])
        XCTAssertEqual((outputs[0]["parameters"] as? [String: Any])?["labels"] as? [String], ["cat", "dog"])
        XCTAssertEqual(outputs[1]["data"] as? [Int], [-7])
        XCTAssertEqual(outputs[2]["data"] as? [String], ["a\n"])
    }

    func testEncodedFloatsReadBackBitIdentical() throws {
        var values: [Float] = [
            0, -0.0, 1, -1, 0.1, Float(bitPattern: 1), 3.4028235e38, 16_777_216, 1e7, 123.456, -2.5e-12,
        ]
        var generator = SystemRandomNumberGenerator()
        while values.count < 5000 {
            let f = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &generator))
            if f.isFinite { values.append(f) }
        }
        let response = InferenceResponse(
            modelName: "m",
            outputs: [
                ResponseOutput(
                    tensor: WireTensor(name: "y", datatype: .fp32, shape: [values.count], data: .float32(values)))
            ])
        let body = InferenceResponseEncoder.encode(response).body
        // Read back with the request decoder (itself checked against Float(String)) and by text.
        let text = String(decoding: body, as: UTF8.self)
        let dataText = try XCTUnwrap(text.range(of: "\"data\":[")).upperBound
        let numbers = text[dataText...].dropLast(4).split(separator: ",")
        XCTAssertEqual(numbers.count, values.count)
        for (number, value) in zip(numbers, values) {
            XCTAssertEqual(Float(String(number))?.bitPattern, value.bitPattern, String(number))
        }
    }

    /// The response is built in a `ByteWriter` sized from an estimate; bodies far past it (long
    /// ids and labels, escapes) grow it and come out as the same bytes an Array would hold.
    func testResponsesPastTheSizeEstimateGrowTheBuffer() throws {
        let id = String(repeating: "q\"\\\n\u{1}é", count: 3000)
        let labels = (0..<500).map { "label-\($0)-\(String(repeating: "x", count: $0 % 40))" }
        let response = InferenceResponse(
            modelName: "m", modelVersion: "1", id: id, parameters: [("k", .string(id))],
            outputs: [
                ResponseOutput(
                    tensor: WireTensor(name: "p", datatype: .fp32, shape: [1, 2], data: .float32([0.25, -0.0])),
                    labels: labels)
            ])
        let body = InferenceResponseEncoder.encode(response).body
        var expected: [UInt8] = []
        expected += Array(#"{"model_name":"m","model_version":"1","id":"#.utf8)
        InferenceResponseEncoder.appendString(id, to: &expected)
        expected += Array(#","parameters":{"k":"#.utf8)
        InferenceResponseEncoder.appendString(id, to: &expected)
        expected += Array(#"},"outputs":[{"name":"p","datatype":"FP32","shape":[1,2],"parameters":"#.utf8)
        InferenceResponseEncoder.appendParameters([], labels: labels, to: &expected)
        expected += Array(#","data":[0.25,-0]}]}"#.utf8)
        XCTAssertEqual(body, expected)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        XCTAssertEqual(json["id"] as? String, id)

        var writer = ByteWriter(capacity: 1)
        var array: [UInt8] = []
        for i in 0..<5000 {
            let byte = UInt8(truncatingIfNeeded: i)
            writer.appendByte(byte)
            array.append(byte)
            let run = [UInt8](repeating: byte, count: i % 37)
            run.withUnsafeBufferPointer { writer.appendBytes($0) }
            array += run
        }
        XCTAssertEqual(writer.count, array.count)
        XCTAssertEqual(writer.finish(), array)
    }

    func testNonFiniteFloatsUsePythonJSONSpelling() {
        var out: [UInt8] = []
        InferenceResponseEncoder.appendData(.float32([.nan, .infinity, -.infinity, -0.0]), to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "[NaN,Infinity,-Infinity,-0]")
    }

    func testBinaryOutputsFollowTheJSONWithItsLength() throws {
        let response = InferenceResponse(
            modelName: "m",
            outputs: [
                ResponseOutput(
                    tensor: WireTensor(name: "a", datatype: .fp32, shape: [2], data: .float32([1, 2])), binary: true),
                ResponseOutput(tensor: WireTensor(name: "b", datatype: .int64, shape: [1], data: .int64([5]))),
                ResponseOutput(
                    tensor: WireTensor(name: "c", datatype: .int32, shape: [1], data: .int64([-2])), binary: true),
            ])
        let encoded = InferenceResponseEncoder.encode(response)
        let length = try XCTUnwrap(encoded.jsonLength)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(encoded.body[0..<length])) as? [String: Any])
        let outputs = try XCTUnwrap(json["outputs"] as? [[String: Any]])
        XCTAssertEqual((outputs[0]["parameters"] as? [String: Any])?["binary_data_size"] as? Int, 8)
        XCTAssertNil(outputs[0]["data"])
        XCTAssertEqual(outputs[1]["data"] as? [Int], [5])
        XCTAssertEqual((outputs[2]["parameters"] as? [String: Any])?["binary_data_size"] as? Int, 4)
        let tail = Array(encoded.body[length...])
        XCTAssertEqual(tail, [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0xFE, 0xFF, 0xFF, 0xFF])
    }

    func testBinaryCodecRoundTripsEveryDatatype() throws {
        let table: [(OIPDatatype, TensorData)] = [
            (.fp32, .float32([1.5, -0.25])), (.fp16, .float32([1.5, -0.25])), (.fp64, .float64([1e300, -1])),
            (.int8, .int64([-128, 127])), (.int16, .int64([-300, 300])), (.int32, .int64([-70000, 70000])),
            (.int64, .int64([Int64.min, Int64.max])), (.uint8, .int64([0, 255])), (.uint16, .int64([0, 65535])),
            (.uint32, .int64([0, 4_294_967_295])), (.uint64, .uint64([0, UInt64.max])), (.bool, .bool([true, false])),
            (.bytes, .bytes([[1, 2, 3], []])),
        ]
        for (datatype, data) in table {
            var bytes: [UInt8] = []
            BinaryTensorCodec.encode(data, as: datatype, into: &bytes)
            XCTAssertEqual(bytes.count, BinaryTensorCodec.encodedSize(data, as: datatype))
            let decoded = try bytes.withUnsafeBufferPointer {
                try BinaryTensorCodec.decode($0, datatype: datatype, count: 2, name: "x")
            }
            XCTAssertEqual(decoded, data, "\(datatype)")
        }
    }
}
