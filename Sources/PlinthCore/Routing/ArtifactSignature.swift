/// One named tensor of a model's interface, as the engine reported it at upload.
public struct TensorSignature: Sendable, Codable, Hashable {
    public var name: String
    /// OIP datatype name: "FP32", "INT64", "BYTES", ...
    public var datatype: String
    /// Dimensions; -1 marks a dynamic dimension.
    public var shape: [Int]

    public init(name: String, datatype: String, shape: [Int]) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
    }
}

/// The inputs and outputs of an uploaded artifact, produced by the artifact validator.
public struct ArtifactSignature: Sendable, Codable, Hashable {
    public var inputs: [TensorSignature]
    public var outputs: [TensorSignature]

    public init(inputs: [TensorSignature] = [], outputs: [TensorSignature] = []) {
        self.inputs = inputs
        self.outputs = outputs
    }
}
