/// Triton's binary tensor extension: raw little-endian elements; BYTES as a 4-byte
/// little-endian length before each element; BOOL one byte (0 or 1).
public enum BinaryTensorCodec {
    /// Decodes `count` elements of `datatype` from exactly `bytes`.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, datatype: OIPDatatype, count: Int, name: String)
        throws(InferenceError) -> TensorData
    {
        if datatype == .bytes { return try decodeBytes(bytes, count: count, name: name) }
        guard let size = datatype.elementSize, bytes.count == count * size else {
            throw .invalidBinaryData(
                "input '\(name)': \(count) \(datatype) elements need \(count * (datatype.elementSize ?? 0)) bytes, got \(bytes.count)"
            )
        }
        let raw = UnsafeRawBufferPointer(bytes)
        func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
            T(littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
        }
        switch datatype {
        case .fp32:
            return .float32((0..<count).map { Float(bitPattern: load(UInt32.self, $0)) })
        case .fp16:
            return .float32((0..<count).map { Float(halfBits: load(UInt16.self, $0)) })
        case .fp64:
            return .float64((0..<count).map { Double(bitPattern: load(UInt64.self, $0)) })
        case .int8: return .int64((0..<count).map { Int64(load(Int8.self, $0)) })
        case .int16: return .int64((0..<count).map { Int64(load(Int16.self, $0)) })
        case .int32: return .int64((0..<count).map { Int64(load(Int32.self, $0)) })
        case .int64: return .int64((0..<count).map { load(Int64.self, $0) })
        case .uint8: return .int64((0..<count).map { Int64(load(UInt8.self, $0)) })
        case .uint16: return .int64((0..<count).map { Int64(load(UInt16.self, $0)) })
        case .uint32: return .int64((0..<count).map { Int64(load(UInt32.self, $0)) })
        case .uint64: return .uint64((0..<count).map { load(UInt64.self, $0) })
        case .bool:
            var values = [Bool]()
            values.reserveCapacity(count)
            for byte in bytes {
                guard byte <= 1 else { throw .invalidBinaryData("input '\(name)': BOOL byte \(byte) is not 0 or 1") }
                values.append(byte == 1)
            }
            return .bool(values)
        case .bytes:
            return try decodeBytes(bytes, count: count, name: name)
        }
    }

    private static func decodeBytes(_ bytes: UnsafeBufferPointer<UInt8>, count: Int, name: String)
        throws(InferenceError) -> TensorData
    {
        var values = [[UInt8]]()
        values.reserveCapacity(min(count, bytes.count / 4))
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 4 else { throw .invalidBinaryData("input '\(name)': truncated BYTES length") }
            let length = Int(
                UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
                    | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24)
            offset += 4
            guard length <= bytes.count - offset else {
                throw .invalidBinaryData("input '\(name)': BYTES element of \(length) bytes overruns the data")
            }
            values.append(Array(bytes[offset..<offset + length]))
            offset += length
        }
        guard values.count == count else {
            throw .invalidBinaryData("input '\(name)': expected \(count) BYTES elements, got \(values.count)")
        }
        return .bytes(values)
    }

    /// Bytes `encode` appends for `data`.
    public static func encodedSize(_ data: TensorData, as datatype: OIPDatatype) -> Int {
        if case .bytes(let values) = data { return values.reduce(0) { $0 + 4 + $1.count } }
        return data.count * (datatype.elementSize ?? 0)
    }

    /// Appends `data` as `datatype` in the binary layout.
    public static func encode(_ data: TensorData, as datatype: OIPDatatype, into out: inout [UInt8]) {
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
        }
        switch data {
        case .float32(let values):
            if datatype == .fp16 {
                for v in values { append(v.halfBits) }
            } else {
                out.reserveCapacity(out.count + values.count * 4)
                values.withUnsafeBytes { out.append(contentsOf: $0) }  // x86-64 and arm64 are little-endian
            }
        case .float64(let values):
            values.withUnsafeBytes { out.append(contentsOf: $0) }
        case .int64(let values):
            switch datatype {
            case .int8, .uint8: for v in values { out.append(UInt8(truncatingIfNeeded: v)) }
            case .int16, .uint16: for v in values { append(UInt16(truncatingIfNeeded: v)) }
            case .int32, .uint32: for v in values { append(UInt32(truncatingIfNeeded: v)) }
            default: values.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        case .uint64(let values):
            values.withUnsafeBytes { out.append(contentsOf: $0) }
        case .bool(let values):
            for v in values { out.append(v ? 1 : 0) }
        case .bytes(let values):
            for v in values {
                append(UInt32(truncatingIfNeeded: v.count))
                out.append(contentsOf: v)
            }
        }
    }
}

extension Float {
    /// IEEE 754 half precision bits widened to Float (exact).
    init(halfBits h: UInt16) {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        let fraction = UInt32(h & 0x3FF)
        if exponent == 0x1F {
            self = Float(bitPattern: sign | 0x7F80_0000 | fraction << 13)
        } else if exponent == 0 {
            let magnitude = Float(fraction) * 0x1p-24
            self = sign != 0 ? -magnitude : magnitude
        } else {
            self = Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | fraction << 13)
        }
    }

    /// Rounded (to nearest even) to IEEE 754 half precision bits.
    var halfBits: UInt16 {
        let bits = bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        if isNaN { return sign | 0x7E00 }
        let magnitude = abs(self)
        if magnitude >= 65520 { return sign | 0x7C00 }
        if magnitude < 0x1p-14 {
            // Subnormal half: units of 2^-24, rounded to nearest even by Float's own rounding.
            return sign | UInt16((magnitude * 0x1p24).rounded(.toNearestOrEven))
        }
        let exponent = Int((bits >> 23) & 0xFF) - 127 + 15
        var fraction = bits & 0x7F_FFFF
        var half = UInt32(exponent) << 10 | fraction >> 13
        fraction &= 0x1FFF
        if fraction > 0x1000 || (fraction == 0x1000 && half & 1 == 1) { half += 1 }
        return sign | UInt16(half)
    }
}
