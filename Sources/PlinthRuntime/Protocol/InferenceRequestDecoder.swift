/// Decodes an OIP v2 inference request body: JSON, or JSON followed by binary tensors (Triton's
/// binary tensor extension, `Inference-Header-Content-Length` giving the JSON part's length).
public enum InferenceRequestDecoder {
    /// Largest element count one input may declare (2^31); bodies are bounded before this anyway.
    static let maxElements = 1 << 31

    /// Decodes `body`. `jsonLength` is the `Inference-Header-Content-Length` header's value when
    /// present; without it the whole body is JSON.
    public static func decode(_ body: [UInt8], jsonLength: Int? = nil) throws(InferenceError) -> InferenceRequest {
        let headerLength = jsonLength ?? body.count
        guard headerLength >= 0, headerLength <= body.count else {
            throw .invalidBinaryData(
                "Inference-Header-Content-Length \(headerLength) exceeds the body's \(body.count) bytes")
        }
        var result: Result<InferenceRequest, InferenceError> = .failure(.invalidRequest("empty body"))
        body.withUnsafeBufferPointer { whole in
            let json = UnsafeBufferPointer(rebasing: whole[0..<headerLength])
            let binary = UnsafeBufferPointer(rebasing: whole[headerLength...])
            do throws(InferenceError) {
                result = .success(try decode(json: json, binary: binary))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    /// An input as parsed from JSON, before its data is resolved.
    private struct PendingInput {
        var name: String?
        var shape: [Int]?
        var datatype: OIPDatatype?
        var data: TensorData?
        /// Where `data` began when it came before `datatype` (parsed once the type is known).
        var deferredDataOffset: Int?
        var binaryDataSize: Int?
    }

    static func decode(json: UnsafeBufferPointer<UInt8>, binary: UnsafeBufferPointer<UInt8>) throws(InferenceError)
        -> InferenceRequest
    {
        var reader = JSONReader(json)
        guard reader.peek() == UInt8(ascii: "{") else {
            throw reader.peek() == nil ? .invalidRequest("empty request body") : reader.error("expected a JSON object")
        }
        var request = InferenceRequest(inputs: [])
        var pending: [PendingInput] = []
        var seen = SeenMembers()
        try reader.readObject(known: requestMembers) { (r, index, key) throws(InferenceError) in
            guard let index = try seen.admit(&r, index, key, requestMembers) else { return }
            switch index {
            case 0:  // id
                guard r.peek() == UInt8(ascii: "\"") else { throw r.error("'id' must be a string") }
                request.id = try r.readString()
            case 1:  // parameters
                request.parameters = try readParameters(&r)
            case 2:  // inputs
                try r.readArray { (r) throws(InferenceError) in pending.append(try readInput(&r)) }
            default:  // outputs
                try r.readArray { (r) throws(InferenceError) in request.outputs.append(try readOutput(&r)) }
            }
        }
        try reader.expectEnd()
        guard seen.contains(2) else { throw .invalidRequest("missing 'inputs'") }
        guard !pending.isEmpty else { throw .invalidRequest("'inputs' is empty") }

        var binaryOffset = 0
        var names = MemberNames()
        for var input in pending {
            guard let name = input.name else { throw .invalidRequest("an input has no 'name'") }
            guard pending.count == 1 || names.insert(name) else {
                throw .invalidRequest("input '\(name)' appears twice")
            }
            guard let shape = input.shape else { throw .invalidRequest("input '\(name)' has no 'shape'") }
            guard let datatype = input.datatype else { throw .invalidRequest("input '\(name)' has no 'datatype'") }
            let count = try elementCount(shape, name)
            if let size = input.binaryDataSize {
                guard input.data == nil, input.deferredDataOffset == nil else {
                    throw .invalidRequest("input '\(name)' has both 'data' and 'binary_data_size'")
                }
                guard size <= binary.count - binaryOffset else {
                    throw .invalidBinaryData(
                        "input '\(name)' declares \(size) bytes but only \(binary.count - binaryOffset) remain")
                }
                let slice = UnsafeBufferPointer(rebasing: binary[binaryOffset..<binaryOffset + size])
                input.data = try BinaryTensorCodec.decode(slice, datatype: datatype, count: count, name: name)
                binaryOffset += size
            } else if let offset = input.deferredDataOffset {
                var late = JSONReader(json, position: offset)
                input.data = try readTensorData(&late, datatype: datatype, capacity: min(count, json.count))
            }
            guard let data = input.data else { throw .invalidRequest("input '\(name)' has no 'data'") }
            guard data.count == count else {
                throw .invalidRequest("input '\(name)': shape \(shape) needs \(count) elements, data has \(data.count)")
            }
            request.inputs.append(WireTensor(name: name, datatype: datatype, shape: shape, data: data))
        }
        guard binaryOffset == binary.count else {
            throw .invalidBinaryData("\(binary.count - binaryOffset) bytes after the last binary input")
        }
        return request
    }

    static func elementCount(_ shape: [Int], _ name: String) throws(InferenceError) -> Int {
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard dim >= 0, !overflow, product <= maxElements else {
                throw .invalidRequest("input '\(name)': invalid shape \(shape)")
            }
            count = product
        }
        return count
    }

    /// Members of the request object and of an input, in the order their indices are matched.
    static let requestMembers = KnownNames(["id", "parameters", "inputs", "outputs"])
    static let inputMembers = KnownNames(["name", "shape", "datatype", "parameters", "data"])
    /// `OIPDatatype` raw values, matched on bytes.
    static let datatypes = OIPDatatype.allCases
    static let datatypeNames = KnownNames(datatypes.map(\.staticName))

    private static func readInput(_ r: inout JSONReader) throws(InferenceError) -> PendingInput {
        var input = PendingInput()
        var seen = SeenMembers()
        guard r.peek() == UInt8(ascii: "{") else { throw r.error("each input must be an object") }
        try r.readObject(known: inputMembers) { (r, index, key) throws(InferenceError) in
            guard let index = try seen.admit(&r, index, key, inputMembers) else { return }
            switch index {
            case 0:  // name
                guard r.peek() == UInt8(ascii: "\"") else { throw r.error("'name' must be a string") }
                input.name = try r.readString()
            case 1:  // shape
                var shape: [Int] = []
                shape.reserveCapacity(4)  // one allocation for the usual shapes, not one per growth
                try r.readArray { (r) throws(InferenceError) in
                    shape.append(Int(try r.readInteger(in: 0...Int64(Int32.max), "a shape dimension")))
                }
                input.shape = shape
            case 2:  // datatype
                guard r.peek() == UInt8(ascii: "\"") else { throw r.error("'datatype' must be a string") }
                let offset = r.position
                if let span = r.plainStringSpan(), let known = datatypeNames.index(of: span) {
                    input.datatype = datatypes[known]
                    r.position += span.count + 2
                    return
                }
                let text = try r.readString()
                guard let datatype = OIPDatatype(rawValue: text) else {
                    throw .malformedJSON(offset: offset, reason: "unknown datatype '\(text)'")
                }
                input.datatype = datatype
            case 3:  // parameters
                let parameters = try readParameters(&r)
                if let size = parameters["binary_data_size"] {
                    guard case .int(let bytes) = size, bytes >= 0, bytes <= Int64(Int32.max) else {
                        throw .invalidRequest("'binary_data_size' must be a non-negative integer")
                    }
                    input.binaryDataSize = Int(bytes)
                }
            default:  // data
                guard r.peek() == UInt8(ascii: "[") else { throw r.error("'data' must be an array") }
                if let datatype = input.datatype {
                    let capacity = input.shape.map { $0.reduce(1) { $0 &* max($1, 0) } } ?? 0
                    input.data = try readTensorData(&r, datatype: datatype, capacity: min(capacity, r.end - r.position))
                } else {
                    input.deferredDataOffset = r.position
                    try r.skipValue()
                }
            }
        }
        return input
    }

    private static func readOutput(_ r: inout JSONReader) throws(InferenceError) -> RequestedOutput {
        var name: String?
        var binary: Bool?
        guard r.peek() == UInt8(ascii: "{") else { throw r.error("each output must be an object") }
        try r.readObject { (r, key) throws(InferenceError) in
            switch key {
            case "name":
                guard r.peek() == UInt8(ascii: "\"") else { throw r.error("'name' must be a string") }
                name = try r.readString()
            case "parameters":
                let parameters = try readParameters(&r)
                if let value = parameters["binary_data"] {
                    guard case .bool(let flag) = value else { throw .invalidRequest("'binary_data' must be a boolean") }
                    binary = flag
                }
            default:
                try r.skipValue()
            }
        }
        guard let name else { throw .invalidRequest("an output has no 'name'") }
        return RequestedOutput(name: name, binaryData: binary)
    }

    /// An OIP `parameters` object: scalar values only.
    static func readParameters(_ r: inout JSONReader) throws(InferenceError) -> [String: ParameterValue] {
        guard r.peek() == UInt8(ascii: "{") else { throw r.error("'parameters' must be an object") }
        var parameters: [String: ParameterValue] = [:]
        try r.readObject { (r, key) throws(InferenceError) in
            switch r.peek() ?? 0 {
            case UInt8(ascii: "\""): parameters[key] = .string(try r.readString())
            case UInt8(ascii: "t"), UInt8(ascii: "f"): parameters[key] = .bool(try r.readBool())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let token = try r.scanNumber()
                if token.isInteger, !token.truncated, token.exponent == 0,
                    token.mantissa <= UInt64(Int64.max)
                {
                    parameters[key] = .int(token.negative ? -Int64(token.mantissa) : Int64(token.mantissa))
                } else {
                    parameters[key] = .double(try r.doubleValue(token))
                }
            default:
                throw r.error("parameter '\(key)' must be a string, number or boolean")
            }
        }
        return parameters
    }
}

/// Duplicate-member bookkeeping for an object read with `JSONReader.readObject(known:_:)`: known
/// names in a bit mask, others in a short list.
struct SeenMembers {
    private var known: UInt64 = 0
    private var others = MemberNames()

    /// The member's index in `names`, or nil for an unknown member (its value skipped); throws
    /// on a name seen before.
    mutating func admit(_ r: inout JSONReader, _ index: Int?, _ key: String, _ names: KnownNames)
        throws(InferenceError) -> Int?
    {
        guard let index else {
            guard others.insert(key) else { throw r.error("duplicate member '\(key)'") }
            try r.skipValue()
            return nil
        }
        guard known & (1 << index) == 0 else { throw r.error("duplicate member '\(names[index])'") }
        known |= 1 << index
        return index
    }

    /// Whether the known member at `index` was seen.
    func contains(_ index: Int) -> Bool { known & (1 << index) != 0 }
}
