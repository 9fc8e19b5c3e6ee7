/// One output of an inference response.
public struct ResponseOutput: Sendable, Equatable {
    public var tensor: WireTensor
    /// Sent as raw bytes after the JSON (binary tensor extension) instead of `data`.
    public var binary: Bool
    /// Class labels of a classifier's probability output (column order), sent in `parameters`.
    public var labels: [String]?

    public init(tensor: WireTensor, binary: Bool = false, labels: [String]? = nil) {
        self.tensor = tensor
        self.binary = binary
        self.labels = labels
    }
}

/// A decoded-or-to-be-encoded OIP v2 inference response.
public struct InferenceResponse: Sendable, Equatable {
    public var modelName: String
    public var modelVersion: String?
    public var id: String?
    public var parameters: [(key: String, value: ParameterValue)]
    public var outputs: [ResponseOutput]

    public init(
        modelName: String, modelVersion: String? = nil, id: String? = nil,
        parameters: [(key: String, value: ParameterValue)] = [], outputs: [ResponseOutput]
    ) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.id = id
        self.parameters = parameters
        self.outputs = outputs
    }

    public static func == (lhs: InferenceResponse, rhs: InferenceResponse) -> Bool {
        lhs.modelName == rhs.modelName && lhs.modelVersion == rhs.modelVersion && lhs.id == rhs.id
            && lhs.outputs == rhs.outputs && lhs.parameters.map(\.key) == rhs.parameters.map(\.key)
            && lhs.parameters.map(\.value) == rhs.parameters.map(\.value)
    }
}
