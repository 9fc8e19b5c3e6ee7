/// A bounds-checked reader of the protobuf wire format over one byte array.
///
/// Every length is checked against the bytes that remain, so a garbled file can only
/// produce `EngineError.malformed`, never an out-of-range read or an oversized allocation.
struct ProtoReader {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.position = 0
        self.end = bytes.count
    }

    private init(bytes: [UInt8], position: Int, end: Int) {
        self.bytes = bytes
        self.position = position
        self.end = end
    }

    var isAtEnd: Bool { position >= end }
    var remaining: Int { end - position }

    mutating func varint() throws(EngineError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw .malformed("truncated varint at byte \(position)") }
            let byte = bytes[position]
            position += 1
            if shift == 63 && byte > 1 { throw .malformed("varint too long at byte \(position)") }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { throw .malformed("varint too long at byte \(position)") }
        }
    }

    /// Reads a field key; returns nil at the end of the message.
    mutating func nextField() throws(EngineError) -> (number: Int, wire: Int)? {
        if isAtEnd { return nil }
        let key = try varint()
        let number = Int(truncatingIfNeeded: key >> 3)
        guard number > 0 else { throw .malformed("field number 0 at byte \(position)") }
        return (number, Int(key & 7))
    }

    mutating func int64() throws(EngineError) -> Int64 { Int64(bitPattern: try varint()) }

    /// An int64 that must fit a platform Int used as a count or dimension.
    mutating func int() throws(EngineError) -> Int { Int(truncatingIfNeeded: try int64()) }

    mutating func fixed32() throws(EngineError) -> UInt32 {
        guard remaining >= 4 else { throw .malformed("truncated fixed32 at byte \(position)") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return v
    }

    mutating func fixed64() throws(EngineError) -> UInt64 {
        guard remaining >= 8 else { throw .malformed("truncated fixed64 at byte \(position)") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return v
    }

    mutating func float() throws(EngineError) -> Float { Float(bitPattern: try fixed32()) }
    mutating func double() throws(EngineError) -> Double { Double(bitPattern: try fixed64()) }

    /// The byte range of a length-delimited field, bounded by the enclosing message.
    mutating func lengthDelimited() throws(EngineError) -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(remaining) else {
            throw .malformed("length \(length) at byte \(position) runs past the end (\(remaining) left)")
        }
        let start = position
        position += Int(length)
        return start..<position
    }

    mutating func message() throws(EngineError) -> ProtoReader {
        let range = try lengthDelimited()
        return ProtoReader(bytes: bytes, position: range.lowerBound, end: range.upperBound)
    }

    mutating func string() throws(EngineError) -> String {
        let range = try lengthDelimited()
        return String(decoding: bytes[range], as: UTF8.self)
    }

    mutating func rawBytes() throws(EngineError) -> ArraySlice<UInt8> {
        let range = try lengthDelimited()
        return bytes[range]
    }

    mutating func skip(wire: Int) throws(EngineError) {
        switch wire {
        case 0: _ = try varint()
        case 1: _ = try fixed64()
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed32()
        default: throw .malformed("unsupported wire type \(wire) at byte \(position)")
        }
    }

    // Repeated scalars arrive packed (wire 2) or one tag per element; accept both.

    mutating func appendInt64s(wire: Int, to values: inout [Int64]) throws(EngineError) {
        if wire == 0 {
            values.append(try int64())
        } else if wire == 2 {
            var inner = try message()
            while !inner.isAtEnd { values.append(try inner.int64()) }
        } else {
            throw .malformed("repeated int field with wire type \(wire)")
        }
    }

    mutating func appendFloats(wire: Int, to values: inout [Float]) throws(EngineError) {
        if wire == 5 {
            values.append(try float())
        } else if wire == 2 {
            var inner = try message()
            guard inner.remaining % 4 == 0 else { throw .malformed("packed floats of odd length") }
            values.reserveCapacity(values.count + inner.remaining / 4)
            while !inner.isAtEnd { values.append(try inner.float()) }
        } else {
            throw .malformed("repeated float field with wire type \(wire)")
        }
    }

    mutating func appendDoubles(wire: Int, to values: inout [Double]) throws(EngineError) {
        if wire == 1 {
            values.append(try double())
        } else if wire == 2 {
            var inner = try message()
            guard inner.remaining % 8 == 0 else { throw .malformed("packed doubles of odd length") }
            values.reserveCapacity(values.count + inner.remaining / 8)
            while !inner.isAtEnd { values.append(try inner.double()) }
        } else {
            throw .malformed("repeated double field with wire type \(wire)")
        }
    }
}
