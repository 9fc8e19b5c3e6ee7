import PlinthCore
import PlinthEngine

/// Validates an uploaded artifact with the native engine: an ONNX file must load (every operator
/// known, graph consistent); its signature is what the registry stores. External runtimes'
/// artifacts are opaque here.
enum EngineArtifactValidator {
    static func validate(path: String, format: String) throws -> ArtifactSignature {
        guard format == "onnx" else { return ArtifactSignature() }
        let model = try InferenceModel(path: path)
        func convert(_ s: PlinthEngine.TensorSignature) -> PlinthCore.TensorSignature {
            PlinthCore.TensorSignature(name: s.name, datatype: s.type.rawValue, shape: s.shape)
        }
        return ArtifactSignature(inputs: model.inputs.map(convert), outputs: model.outputs.map(convert))
    }
}
