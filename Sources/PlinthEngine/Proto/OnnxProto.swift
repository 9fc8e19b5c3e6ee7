/// The subset of onnx.proto the engine reads, decoded by hand (see OnnxProto+decode.swift).

struct OpsetImport: Sendable, Equatable {
    var domain: String
    var version: Int
}

struct ModelProto: Sendable {
    var irVersion: Int = 0
    var opsetImports: [OpsetImport] = []
    var producerName = ""
    var producerVersion = ""
    var graph = GraphProto()
    var hasGraph = false
}

struct GraphProto: Sendable {
    var name = ""
    var nodes: [NodeProto] = []
    var initializers: [TensorProto] = []
    var inputs: [ValueInfoProto] = []
    var outputs: [ValueInfoProto] = []
    var hasSparseInitializers = false
}

struct NodeProto: Sendable {
    var name = ""
    var opType = ""
    var domain = ""
    var inputs: [String] = []
    var outputs: [String] = []
    var attributes: [AttributeProto] = []
}

struct AttributeProto: Sendable {
    enum Kind: Int, Sendable {
        case undefined = 0
        case float = 1
        case int = 2
        case string = 3
        case tensor = 4
        case graph = 5
        case floats = 6
        case ints = 7
        case strings = 8
        case tensors = 9
        case graphs = 10
        case sparseTensor = 11
        case sparseTensors = 12
        case typeProto = 13
        case typeProtos = 14
    }
    var name = ""
    var kind: Kind = .undefined
    var f: Float = 0
    var i: Int64 = 0
    var s: [UInt8] = []
    var t: TensorProto?
    var g: GraphProto?
    var floats: [Float] = []
    var ints: [Int64] = []
    var strings: [[UInt8]] = []
    var tensors: [TensorProto] = []
    var graphs: [GraphProto] = []
}

struct TensorProto: Sendable {
    var name = ""
    var dims: [Int64] = []
    var dataType = 0
    var floatData: [Float] = []
    var int32Data: [Int64] = []
    var int64Data: [Int64] = []
    var doubleData: [Double] = []
    var uint64Data: [Int64] = []
    var stringData: [[UInt8]] = []
    var rawData: ArraySlice<UInt8>?
    var externalData: [String: String] = [:]
    var isExternal = false
}

/// TypeProto: tensors, and the sequence/map types skl2onnx's ZipMap produces.
indirect enum ValueType: Sendable, Equatable {
    case tensor(elementType: Int, shape: [Dimension]?)
    case sequence(ValueType?)
    case map(keyType: Int, value: ValueType?)
    case other

    enum Dimension: Sendable, Equatable {
        case fixed(Int)
        case symbolic(String)
    }
}

struct ValueInfoProto: Sendable {
    var name = ""
    var type: ValueType?
}

/// ONNX TensorProto.DataType values the engine knows.
enum OnnxDataType {
    static let float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7
    static let string = 8, bool = 9, float16 = 10, double = 11, uint32 = 12, uint64 = 13
}
