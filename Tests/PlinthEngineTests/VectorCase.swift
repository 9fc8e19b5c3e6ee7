import Foundation
import PlinthEngine
import XCTest

/// One case of Vectors/manifest.json: a model, its inputs, and onnxruntime's outputs.
struct VectorCase {
    struct Entry {
        let name: String
        let tensor: Tensor
        let labels: [String]?
    }
    let name: String
    let modelPath: String
    let inputs: [Entry]
    let outputs: [Entry]

    static var directory: String {
        Bundle.module.url(forResource: "Vectors", withExtension: nil)!.path
    }

    static func all() throws -> [VectorCase] {
        let dir = directory
        let manifest =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json")))
            as! [String: Any]
        return try (manifest["cases"] as! [[String: Any]]).map { c in
            let blob = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + (c["blob"] as! String)))
            func entries(_ key: String) -> [Entry] {
                (c[key] as! [[String: Any]]).map { e in
                    Entry(name: e["name"] as! String, tensor: decode(e, blob), labels: e["labels"] as? [String])
                }
            }
            return VectorCase(
                name: c["name"] as! String, modelPath: dir + "/" + (c["model"] as! String),
                inputs: entries("inputs"), outputs: entries("outputs"))
        }
    }

    static func decode(_ e: [String: Any], _ blob: Data) -> Tensor {
        let shape = e["shape"] as! [Int]
        if let strings = e["strings"] as? [String] { return Tensor(shape: shape, strings: strings) }
        let offset = e["offset"] as! Int
        let count = e["bytes"] as! Int
        let bytes = [UInt8](blob[blob.startIndex + offset..<blob.startIndex + offset + count])
        func load<T>(_: T.Type) -> [T] {
            bytes.withUnsafeBytes { raw in
                (0..<(count / MemoryLayout<T>.size)).map {
                    raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)
                }
            }
        }
        switch e["datatype"] as! String {
        case "FP32": return Tensor(shape: shape, floats: load(Float.self))
        case "FP64": return Tensor(shape: shape, doubles: load(Double.self))
        case "INT64": return Tensor(shape: shape, int64s: load(Int64.self))
        case "INT32": return Tensor(shape: shape, int32s: load(Int32.self))
        case "BOOL": return Tensor(shape: shape, bools: bytes.map { $0 != 0 })
        default: fatalError("unknown datatype in manifest")
        }
    }

    /// Nil when `got` matches `want` (1e-4 relative + 1e-5 absolute for floats, exact otherwise).
    static func mismatch(_ got: Tensor, _ want: Tensor) -> String? {
        guard got.shape == want.shape else { return "shape \(got.shape) != \(want.shape)" }
        func close(_ a: Double, _ b: Double) -> Bool {
            if a.isNaN && b.isNaN { return true }
            if a.isInfinite || b.isInfinite { return a == b }
            return abs(a - b) <= 1e-5 + 1e-4 * abs(b)
        }
        switch (got.storage, want.storage) {
        case (.float32(let a), .float32(let b)):
            for i in 0..<a.count where !close(Double(a[i]), Double(b[i])) { return "element \(i): \(a[i]) != \(b[i])" }
            return nil
        case (.float64(let a), .float64(let b)):
            for i in 0..<a.count where !close(a[i], b[i]) { return "element \(i): \(a[i]) != \(b[i])" }
            return nil
        default:
            return got.storage == want.storage ? nil : "values differ: \(got.storage) vs \(want.storage)"
        }
    }
}
