/// Reads one element of a tensor's `data` array.
protocol JSONElementReader {
    associatedtype Value
    static func read(_ reader: inout JSONReader, _ datatype: OIPDatatype) throws(InferenceError) -> Value
}

enum FloatElementReader: JSONElementReader {
    static func read(_ reader: inout JSONReader, _ datatype: OIPDatatype) throws(InferenceError) -> Float {
        try reader.readFloat()
    }
}

enum DoubleElementReader: JSONElementReader {
    static func read(_ reader: inout JSONReader, _ datatype: OIPDatatype) throws(InferenceError) -> Double {
        try reader.readDouble()
    }
}

enum IntegerElementReader: JSONElementReader {
    static func read(_ reader: inout JSONReader, _ datatype: OIPDatatype) throws(InferenceError) -> Int64 {
        try reader.readInteger(in: datatype.integerRange ?? Int64.min...Int64.max, datatype.rawValue)
    }
}

enum UInt64ElementReader: JSONElementReader {
    static func read(_ reader: inout JSONReader, _ datatype: OIPDatatype) throws(InferenceError) -> UInt64 {
        try reader.readUInt64()
    }
}

enum BoolElementReader: JSONElementReader {
    static func read(_ reader: inout JSONReader, _ datatype: OIPDatatype) throws(InferenceError) -> Bool {
        try reader.readBool()
    }
}

enum BytesElementReader: JSONElementReader {
    static func read(_ reader: inout JSONReader, _ datatype: OIPDatatype) throws(InferenceError) -> [UInt8] {
        guard reader.peek() == UInt8(ascii: "\"") else { throw reader.error("expected a string for BYTES") }
        return try reader.readStringBytes()
    }
}

/// A `data` array of `datatype` elements, flat or nested (row-major), flattened.
func readTensorData(_ reader: inout JSONReader, datatype: OIPDatatype, capacity: Int) throws(InferenceError)
    -> TensorData
{
    switch datatype {
    case .fp32, .fp16:
        return .float32(try reader.readFloatData(capacity: capacity))
    case .fp64:
        return .float64(try reader.readFlattened(DoubleElementReader.self, datatype, capacity: capacity))
    case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32:
        return .int64(try reader.readFlattened(IntegerElementReader.self, datatype, capacity: capacity))
    case .uint64:
        return .uint64(try reader.readFlattened(UInt64ElementReader.self, datatype, capacity: capacity))
    case .bool:
        return .bool(try reader.readFlattened(BoolElementReader.self, datatype, capacity: capacity))
    case .bytes:
        return .bytes(try reader.readFlattened(BytesElementReader.self, datatype, capacity: capacity))
    }
}

extension JSONReader {
    /// FP32 `data`, as `readFlattened` reads it. A flat array is read by `readFloatElements`, one
    /// loop that keeps its place in a local and stores straight into the result; an element it
    /// does not take (anything but a plain decimal, see `plainDecimal`) goes to `readFloat` and
    /// the loop carries on from there. Nested arrays go to `readFlattened`.
    mutating func readFloatData(capacity: Int) throws(InferenceError) -> [Float] {
        guard peek() == UInt8(ascii: "["), depth < Self.maxDepth else {
            return try readFlattened(FloatElementReader.self, .fp32, capacity: capacity)
        }
        let open = position
        position += 1
        let first = peek()
        position = open
        guard let first, first != UInt8(ascii: "["), first != UInt8(ascii: "]") else {
            return try readFlattened(FloatElementReader.self, .fp32, capacity: capacity)
        }
        try enter(UInt8(ascii: "["))
        var closed = false
        var out = try [Float](unsafeUninitializedCapacity: capacity) { (buffer, count) throws(InferenceError) in
            closed = try readFloatElements(into: buffer, count: &count)
        }
        // More elements than the shape declares (the decoder then reports the mismatch).
        while !closed {
            out.append(try readFloat())
            if consume(UInt8(ascii: ",")) { continue }
            guard consume(UInt8(ascii: "]")) else { throw error("expected ',' or ']'") }
            leave()
            closed = true
        }
        return out
    }

    /// `readFloatData`'s loop: elements into `buffer` (stores, where an append re-read the
    /// array's count and capacity), true after the closing bracket; false, at the next element,
    /// when `buffer` is full.
    private mutating func readFloatElements(into buffer: UnsafeMutableBufferPointer<Float>, count: inout Int)
        throws(InferenceError) -> Bool
    {
        let base = self.base
        let end = self.end
        let out = buffer.baseAddress
        var n = 0
        defer { count = n }
        var p = position
        while true {
            guard n < buffer.count, let out else {
                position = p
                return false
            }
            // Whitespace before an element is rare: one compare when there is none.
            if p < end && base[p] <= 0x20 {
                position = p
                skipWhitespace()
                p = position
            }
            let element = p
            if let (d, negative) = Self.plainDecimal(base, at: &p, end: end, forFloat: true), Self.roundsToFloat(d) {
                let f = Float(d)
                out[n] = negative ? -f : f
            } else {
                position = element
                out[n] = try readFloat()
                p = position
            }
            n &+= 1
            // A comma right after the number is the common case: no whitespace to skip.
            if p < end && base[p] == UInt8(ascii: ",") {
                p &+= 1
                continue
            }
            position = p
            if consume(UInt8(ascii: ",")) {
                p = position
                continue
            }
            guard consume(UInt8(ascii: "]")) else { throw error("expected ',' or ']'") }
            leave()
            return true
        }
    }

    mutating func readFlattened<E: JSONElementReader>(_ element: E.Type, _ datatype: OIPDatatype, capacity: Int)
        throws(InferenceError) -> [E.Value]
    {
        var out: [E.Value] = []
        out.reserveCapacity(capacity)
        try appendFlattened(element, datatype, into: &out)
        return out
    }

    private mutating func appendFlattened<E: JSONElementReader>(
        _ element: E.Type, _ datatype: OIPDatatype, into out: inout [E.Value]
    ) throws(InferenceError) {
        try enter(UInt8(ascii: "["))
        if consume(UInt8(ascii: "]")) {
            leave()
            return
        }
        let nested = peek() == UInt8(ascii: "[")
        while true {
            if nested {
                try appendFlattened(element, datatype, into: &out)
            } else {
                out.append(try E.read(&self, datatype))
            }
            if consume(UInt8(ascii: ",")) { continue }
            guard consume(UInt8(ascii: "]")) else { throw error("expected ',' or ']'") }
            leave()
            return
        }
    }
}
