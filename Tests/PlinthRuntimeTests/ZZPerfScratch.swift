import XCTest
import Foundation
import PlinthRuntime
final class ZZPerfScratch: XCTestCase {
    func testEngineBench() throws {
        let v = "/work/wt-kernels/Tests/PlinthEngineTests/Vectors/"
        for m in [v + "mlp_784_256_128_10.onnx", v + "logreg_30.onnx", v + "lenet_cnn.onnx", "/tmp/kb/models/forest_100.onnx", "/tmp/kb/models/gbm_100.onnx"] {
            do { print(try EngineBenchmark.run(modelPath: m, iterations: 2000)) } catch { print("ERR \(m): \(error)") }
        }
    }
}
