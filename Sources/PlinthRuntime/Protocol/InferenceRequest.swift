/// A scalar in an OIP `parameters` object.
public enum ParameterValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
}

/// One named tensor as carried by OIP v2 (an input of a request or an output of a response).
public struct WireTensor: Sendable, Equatable {
    public var name: String
    public var datatype: OIPDatatype
    /// Dimensions; their product equals `data.count`.
    public var shape: [Int]
    public var data: TensorData

    public init(name: String, datatype: OIPDatatype, shape: [Int], data: TensorData) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
        self.data = data
    }
}

/// An entry of a request's `outputs`: which output to return and how.
public struct RequestedOutput: Sendable, Equatable {
    public var name: String
    /// `parameters.binary_data`: nil when not given (the request-level default applies).
    public var binaryData: Bool?

    public init(name: String, binaryData: Bool? = nil) {
        self.name = name
        self.binaryData = binaryData
    }
}

/// A decoded OIP v2 inference request, binary inputs already resolved.
public struct InferenceRequest: Sendable, Equatable {
    public var id: String?
    public var parameters: [String: ParameterValue]
    public var inputs: [WireTensor]
    /// Outputs asked for; empty means all of the model's outputs.
    public var outputs: [RequestedOutput]

    public init(
        id: String? = nil, parameters: [String: ParameterValue] = [:], inputs: [WireTensor],
        outputs: [RequestedOutput] = []
    ) {
        self.id = id
        self.parameters = parameters
        self.inputs = inputs
        self.outputs = outputs
    }

    /// Request-level `parameters.binary_data_output` (Triton): all outputs binary by default.
    public var binaryDataOutput: Bool {
        if !parameters.isEmpty, case .bool(let value) = parameters["binary_data_output"] { return value }
        return false
    }
}
