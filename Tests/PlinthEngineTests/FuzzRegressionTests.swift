import Foundation
import PlinthEngine
import XCTest

/// Inputs that once crashed the engine under tools/fuzz: each must now load or fail cleanly.
final class FuzzRegressionTests: XCTestCase {
    func testSavedCrashersFailCleanly() throws {
        let dir = VectorCase.directory + "/crashers"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".onnx") }.sorted()
        XCTAssertFalse(files.isEmpty)
        for file in files {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/" + file)))
            guard let model = try? InferenceModel(bytes: bytes, directory: nil) else { continue }
            // The same feeds the fuzzer uses: dynamic dimensions 2, small varied values.
            var feeds: [String: Tensor] = [:]
            for sig in model.inputs {
                let shape = sig.shape.map { $0 < 0 ? 2 : $0 }
                let n = shape.reduce(1, *)
                switch sig.type {
                case .float32: feeds[sig.name] = Tensor(shape: shape, floats: (0..<n).map { Float($0 % 5) - 2 })
                case .int64: feeds[sig.name] = Tensor(shape: shape, int64s: [Int64](repeating: 0, count: n))
                default: break
                }
            }
            _ = try? model.run(feeds)
        }
    }
}
