import Foundation
import XCTest

/// Reads the engine's onnxruntime-checked vectors (Tests/PlinthEngineTests/Vectors).
struct EngineVector {
    struct Tensor {
        var name: String
        var datatype: String
        var shape: [Int]
        var bytes: [UInt8]
        var labels: [String]?

        var floats: [Float] {
            bytes.withUnsafeBytes { raw in
                (0..<bytes.count / 4).map {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
                }
            }
        }
        var int64s: [Int64] {
            bytes.withUnsafeBytes { raw in
                (0..<bytes.count / 8).map {
                    Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))
                }
            }
        }
    }

    var modelPath: String
    var inputs: [Tensor]
    var outputs: [Tensor]

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("PlinthEngineTests/Vectors")

    static func load(_ name: String) throws -> EngineVector {
        let manifest = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("manifest.json")))
                as? [String: Any])
        let cases = try XCTUnwrap(manifest.values.first { $0 is [[String: Any]] } as? [[String: Any]])
        let entry = try XCTUnwrap(cases.first { $0["name"] as? String == name }, "no vector \(name)")
        let blob = try [UInt8](
            Data(contentsOf: directory.appendingPathComponent(try XCTUnwrap(entry["blob"] as? String))))
        func tensors(_ key: String) throws -> [Tensor] {
            try XCTUnwrap(entry[key] as? [[String: Any]]).map { t in
                let offset = try XCTUnwrap(t["offset"] as? Int)
                let count = try XCTUnwrap(t["bytes"] as? Int)
                return Tensor(
                    name: try XCTUnwrap(t["name"] as? String), datatype: try XCTUnwrap(t["datatype"] as? String),
                    shape: try XCTUnwrap(t["shape"] as? [Int]), bytes: Array(blob[offset..<offset + count]),
                    labels: t["labels"] as? [String])
            }
        }
        return EngineVector(
            modelPath: directory.appendingPathComponent(try XCTUnwrap(entry["model"] as? String)).path,
            inputs: try tensors("inputs"), outputs: try tensors("outputs"))
    }
}
