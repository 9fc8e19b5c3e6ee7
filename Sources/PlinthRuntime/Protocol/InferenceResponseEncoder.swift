/// Encodes an `InferenceResponse` as OIP v2 JSON, binary outputs appended after it.
public enum InferenceResponseEncoder {
    /// The encoded body and, when any output is binary, the JSON part's length (the value of the
    /// `Inference-Header-Content-Length` response header).
    public struct Encoded: Sendable {
        public var body: [UInt8]
        public var jsonLength: Int?
    }

    public static func encode(_ response: InferenceResponse) -> Encoded {
        let estimate = response.outputs.reduce(0) { $0 + ($1.binary ? 0 : $1.tensor.data.count * 12) }
        var out = ByteWriter(capacity: 256 + estimate)
        appendLiteral("{\"model_name\":", to: &out)
        appendString(response.modelName, to: &out)
        if let version = response.modelVersion {
            appendLiteral(",\"model_version\":", to: &out)
            appendString(version, to: &out)
        }
        if let id = response.id {
            appendLiteral(",\"id\":", to: &out)
            appendString(id, to: &out)
        }
        if !response.parameters.isEmpty {
            appendLiteral(",\"parameters\":", to: &out)
            appendParameters(response.parameters, to: &out)
        }
        appendLiteral(",\"outputs\":[", to: &out)
        var binaryParts: [ResponseOutput] = []
        for (index, output) in response.outputs.enumerated() {
            if index > 0 { out.appendByte(UInt8(ascii: ",")) }
            let tensor = output.tensor
            appendLiteral("{\"name\":", to: &out)
            appendString(tensor.name, to: &out)
            appendLiteral(",\"datatype\":\"", to: &out)
            appendBytes(of: tensor.datatype.rawValue, to: &out)
            appendLiteral("\",\"shape\":[", to: &out)
            for (i, dim) in tensor.shape.enumerated() {
                if i > 0 { out.appendByte(UInt8(ascii: ",")) }
                appendInteger(Int64(dim), to: &out)
            }
            out.appendByte(UInt8(ascii: "]"))
            var parameters: [(key: String, value: ParameterValue)] = []
            if output.binary {
                let size = BinaryTensorCodec.encodedSize(tensor.data, as: tensor.datatype)
                parameters.append(("binary_data_size", .int(Int64(size))))
                binaryParts.append(output)
            }
            if !parameters.isEmpty || output.labels != nil {
                appendLiteral(",\"parameters\":", to: &out)
                appendParameters(parameters, labels: output.labels, to: &out)
            }
            if !output.binary {
                appendLiteral(",\"data\":", to: &out)
                appendData(tensor.data, to: &out)
            }
            out.appendByte(UInt8(ascii: "}"))
        }
        appendLiteral("]}", to: &out)
        var body = out.finish()
        guard !binaryParts.isEmpty else { return Encoded(body: body, jsonLength: nil) }
        let jsonLength = body.count
        for output in binaryParts {
            BinaryTensorCodec.encode(output.tensor.data, as: output.tensor.datatype, into: &body)
        }
        return Encoded(body: body, jsonLength: jsonLength)
    }

    static func appendParameters<Out: ByteSink>(
        _ parameters: [(key: String, value: ParameterValue)], labels: [String]? = nil, to out: inout Out
    ) {
        out.appendByte(UInt8(ascii: "{"))
        for (index, parameter) in parameters.enumerated() {
            if index > 0 { out.appendByte(UInt8(ascii: ",")) }
            appendString(parameter.key, to: &out)
            out.appendByte(UInt8(ascii: ":"))
            switch parameter.value {
            case .string(let s): appendString(s, to: &out)
            case .int(let i): appendInteger(i, to: &out)
            case .double(let d): appendDouble(d, to: &out)
            case .bool(let b): appendLiteral(b ? "true" : "false", to: &out)
            }
        }
        if let labels {
            if !parameters.isEmpty { out.appendByte(UInt8(ascii: ",")) }
            appendLiteral("\"labels\":[", to: &out)
            for (index, label) in labels.enumerated() {
                if index > 0 { out.appendByte(UInt8(ascii: ",")) }
                appendString(label, to: &out)
            }
            out.appendByte(UInt8(ascii: "]"))
        }
        out.appendByte(UInt8(ascii: "}"))
    }

    /// Elements as a flat JSON array.
    static func appendData<Out: ByteSink>(_ data: TensorData, to out: inout Out) {
        out.appendByte(UInt8(ascii: "["))
        switch data {
        case .float32(let values):
            for (i, v) in values.enumerated() {
                if i > 0 { out.appendByte(UInt8(ascii: ",")) }
                appendFloat(v, to: &out)
            }
        case .float64(let values):
            for (i, v) in values.enumerated() {
                if i > 0 { out.appendByte(UInt8(ascii: ",")) }
                appendDouble(v, to: &out)
            }
        case .int64(let values):
            for (i, v) in values.enumerated() {
                if i > 0 { out.appendByte(UInt8(ascii: ",")) }
                appendInteger(v, to: &out)
            }
        case .uint64(let values):
            for (i, v) in values.enumerated() {
                if i > 0 { out.appendByte(UInt8(ascii: ",")) }
                appendBytes(of: String(v), to: &out)
            }
        case .bool(let values):
            for (i, v) in values.enumerated() {
                if i > 0 { out.appendByte(UInt8(ascii: ",")) }
                appendLiteral(v ? "true" : "false", to: &out)
            }
        case .bytes(let values):
            for (i, v) in values.enumerated() {
                if i > 0 { out.appendByte(UInt8(ascii: ",")) }
                appendString(String(decoding: v, as: UTF8.self), to: &out)
            }
        }
        out.appendByte(UInt8(ascii: "]"))
    }

    /// Shortest text that reads back as the same Float (Swift's `description`, which is
    /// round-trip exact); non-finite values as Python's json writes them (NaN, Infinity).
    @inline(__always)
    static func appendFloat<Out: ByteSink>(_ v: Float, to out: inout Out) {
        guard v.isFinite else {
            appendLiteral(v.isNaN ? "NaN" : v < 0 ? "-Infinity" : "Infinity", to: &out)
            return
        }
        if v == v.rounded(), abs(v) < 1e7 {
            // Integral values: skip the general algorithm ("3" rather than "3.0" is also valid JSON).
            if v == 0 && v.sign == .minus {
                appendLiteral("-0", to: &out)
            } else {
                appendInteger(Int64(v), to: &out)
            }
            return
        }
        appendBytes(of: v.description, to: &out)
    }

    static func appendDouble<Out: ByteSink>(_ v: Double, to out: inout Out) {
        guard v.isFinite else {
            appendLiteral(v.isNaN ? "NaN" : v < 0 ? "-Infinity" : "Infinity", to: &out)
            return
        }
        if v == v.rounded(), abs(v) < 1e15 {
            if v == 0 && v.sign == .minus {
                appendLiteral("-0", to: &out)
            } else {
                appendInteger(Int64(v), to: &out)
            }
            return
        }
        appendBytes(of: v.description, to: &out)
    }

    /// A literal's bytes; cheaper than appending a String's `utf8` view.
    @inline(__always)
    static func appendLiteral<Out: ByteSink>(_ literal: StaticString, to out: inout Out) {
        out.appendBytes(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// A String's UTF-8 bytes in one copy (no escaping).
    @inline(__always)
    static func appendBytes<Out: ByteSink>(of text: String, to out: inout Out) {
        var text = text
        text.withUTF8 { out.appendBytes($0) }
    }

    static func appendInteger<Out: ByteSink>(_ v: Int64, to out: inout Out) {
        if v < 0 { out.appendByte(UInt8(ascii: "-")) }
        var magnitude = v.magnitude
        if magnitude < 10 {
            out.appendByte(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, written backwards
        withUnsafeMutableBytes(of: &digits) { buffer in
            var index = buffer.count
            while magnitude > 0 {
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            out.appendBytes(UnsafeRawBufferPointer(rebasing: buffer[index...]).bindMemory(to: UInt8.self))
        }
    }

    static func appendString<Out: ByteSink>(_ s: String, to out: inout Out) {
        out.appendByte(UInt8(ascii: "\""))
        // Names and versions rarely need escaping: one check and a bulk copy then.
        var s = s
        let plain = s.withUTF8 { bytes in
            for b in bytes where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return false }
            out.appendBytes(bytes)
            return true
        }
        if plain {
            out.appendByte(UInt8(ascii: "\""))
            return
        }
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): appendLiteral("\\\"", to: &out)
            case UInt8(ascii: "\\"): appendLiteral("\\\\", to: &out)
            case 0x0A: appendLiteral("\\n", to: &out)
            case 0x0D: appendLiteral("\\r", to: &out)
            case 0x09: appendLiteral("\\t", to: &out)
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                appendLiteral("\\u00", to: &out)
                out.appendByte(hex[Int(byte >> 4)])
                out.appendByte(hex[Int(byte & 0xF)])
            default: out.appendByte(byte)
            }
        }
        out.appendByte(UInt8(ascii: "\""))
    }
}

/// Where the encoder writes: `[UInt8]` (metadata and small bodies), or a `ByteWriter`.
protocol ByteSink {
    mutating func appendByte(_ byte: UInt8)
    mutating func appendBytes(_ bytes: UnsafeBufferPointer<UInt8>)
}

extension Array: ByteSink where Element == UInt8 {
    @inline(__always)
    mutating func appendByte(_ byte: UInt8) { append(byte) }
    @inline(__always)
    mutating func appendBytes(_ bytes: UnsafeBufferPointer<UInt8>) { append(contentsOf: bytes) }
}

/// A growable byte buffer for building one response: appends are a bounds check and a copy
/// (an Array's cost ~100 instructions per `append(contentsOf:)`); `finish` hands the bytes over
/// as an Array and frees the buffer, and must be called exactly once.
struct ByteWriter: ByteSink {
    private var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    @inline(__always)
    mutating func appendByte(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func appendBytes(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        if count + bytes.count > capacity { grow(to: count + bytes.count) }
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    private mutating func grow(to needed: Int) {
        let larger = max(needed, capacity * 2)
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
        fresh.update(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity = larger
    }

    mutating func finish() -> [UInt8] {
        let bytes = Array(UnsafeBufferPointer(start: base, count: count))
        base.deallocate()
        capacity = 0
        count = 0
        base = UnsafeMutablePointer(bitPattern: 1)!
        return bytes
    }
}
