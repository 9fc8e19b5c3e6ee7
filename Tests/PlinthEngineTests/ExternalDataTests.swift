import Foundation
import PlinthEngine
import XCTest

/// External weights load from the model's folder and nowhere else.
final class ExternalDataTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "plinth-extdata-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/model", withIntermediateDirectories: true)
        let weights = [Float](repeating: 2, count: 3)
        let data = weights.withUnsafeBytes { Data($0) }
        try data.write(to: URL(fileURLWithPath: folder + "/model/w.bin"))
        try data.write(to: URL(fileURLWithPath: folder + "/outside.bin"))
        try FileManager.default.createSymbolicLink(
            atPath: folder + "/model/link.bin", withDestinationPath: folder + "/outside.bin")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func model(location: String) -> [UInt8] {
        OnnxBuilder.model(
            nodes: [OnnxBuilder.node("Mul", ["x", "w"], ["y"])], inputs: [OnnxBuilder.floatValue("x", [3])],
            outputs: [OnnxBuilder.floatValue("y", [3])],
            initializers: [OnnxBuilder.externalTensor("w", dims: [3], location: location, length: 12)])
    }

    func testExternalDataInsideTheFolderLoads() throws {
        let path = folder + "/model/m.onnx"
        try Data(model(location: "w.bin")).write(to: URL(fileURLWithPath: path))
        let y = try InferenceModel(path: path).run(["x": Tensor(shape: [3], floats: [1, 2, 3])])
        XCTAssertEqual(y["y"]?.floats, [2, 4, 6])
    }

    func testExternalDataEscapingTheFolderIsRejected() throws {
        for location in ["../outside.bin", "/etc/passwd", "sub/../../outside.bin", "link.bin", "missing.bin"] {
            let path = folder + "/model/m.onnx"
            try Data(model(location: location)).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try InferenceModel(path: path), location) { error in
                guard case .externalData? = error as? EngineError else { return XCTFail("\(location): \(error)") }
            }
        }
    }

    func testExternalDataNeedsAFolder() {
        XCTAssertThrowsError(try InferenceModel(bytes: model(location: "w.bin"), directory: nil)) { error in
            guard case .externalData? = error as? EngineError else { return XCTFail("\(error)") }
        }
    }

    func testTorchStyleExternalDataVectorLoads() throws {
        let model = try InferenceModel(path: VectorCase.directory + "/external_data.onnx")
        XCTAssertEqual(model.inputs.first?.shape, [-1, 16])
    }
}
