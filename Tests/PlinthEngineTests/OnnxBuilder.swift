/// A minimal protobuf writer for building ONNX models in tests (wire format only).
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
    mutating func key(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }
    mutating func int(_ field: Int, _ v: Int64) {
        key(field, 0)
        varint(UInt64(bitPattern: v))
    }
    mutating func bytes(_ field: Int, _ b: [UInt8]) {
        key(field, 2)
        varint(UInt64(b.count))
        bytes += b
    }
    mutating func string(_ field: Int, _ s: String) { bytes(field, Array(s.utf8)) }
    mutating func message(_ field: Int, _ m: ProtoWriter) { bytes(field, m.bytes) }
    mutating func float(_ field: Int, _ f: Float) {
        key(field, 5)
        let b = f.bitPattern
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: b >> (8 * UInt32(i)))) }
    }
    /// Repeated int64, one tag per element (proto2's default) or packed.
    mutating func ints(_ field: Int, _ values: [Int64], packed: Bool) {
        if packed {
            var inner = ProtoWriter()
            for v in values { inner.varint(UInt64(bitPattern: v)) }
            bytes(field, inner.bytes)
        } else {
            for v in values { int(field, v) }
        }
    }
    mutating func floats(_ field: Int, _ values: [Float], packed: Bool) {
        if packed {
            var inner = ProtoWriter()
            for v in values {
                let b = v.bitPattern
                for i in 0..<4 { inner.bytes.append(UInt8(truncatingIfNeeded: b >> (8 * UInt32(i)))) }
            }
            bytes(field, inner.bytes)
        } else {
            for v in values { float(field, v) }
        }
    }
}

/// Builds small ONNX models field by field (numbers from onnx.proto).
enum OnnxBuilder {
    static func node(
        _ op: String, _ inputs: [String], _ outputs: [String], domain: String = "", attributes: [ProtoWriter] = []
    ) -> ProtoWriter {
        var n = ProtoWriter()
        for i in inputs { n.string(1, i) }
        for o in outputs { n.string(2, o) }
        n.string(3, op + "_" + (outputs.first ?? ""))
        n.string(4, op)
        if !domain.isEmpty { n.string(7, domain) }
        for a in attributes { n.message(5, a) }
        return n
    }

    static func intsAttribute(_ name: String, _ values: [Int64], packed: Bool) -> ProtoWriter {
        var a = ProtoWriter()
        a.string(1, name)
        a.int(20, 7)
        a.ints(8, values, packed: packed)
        return a
    }

    static func floatTensor(_ name: String, dims: [Int64], values: [Float], raw: Bool = false, packedDims: Bool = false)
        -> ProtoWriter
    {
        var t = ProtoWriter()
        t.ints(1, dims, packed: packedDims)
        t.int(2, 1)
        t.string(8, name)
        if raw {
            var r: [UInt8] = []
            for v in values {
                let b = v.bitPattern
                for i in 0..<4 { r.append(UInt8(truncatingIfNeeded: b >> (8 * UInt32(i)))) }
            }
            t.bytes(9, r)
        } else {
            t.floats(4, values, packed: true)
        }
        return t
    }

    static func int64Tensor(_ name: String, dims: [Int64], values: [Int64]) -> ProtoWriter {
        var t = ProtoWriter()
        t.ints(1, dims, packed: false)
        t.int(2, 7)
        t.string(8, name)
        t.ints(7, values, packed: true)
        return t
    }

    static func externalTensor(_ name: String, dims: [Int64], location: String, length: Int) -> ProtoWriter {
        var t = ProtoWriter()
        t.ints(1, dims, packed: false)
        t.int(2, 1)
        t.string(8, name)
        for (k, v) in [("location", location), ("offset", "0"), ("length", String(length))] {
            var e = ProtoWriter()
            e.string(1, k)
            e.string(2, v)
            t.message(13, e)
        }
        t.int(14, 1)
        return t
    }

    /// ValueInfo of a float tensor; nil dims = dynamic.
    static func floatValue(_ name: String, _ dims: [Int64?]) -> ProtoWriter {
        var shape = ProtoWriter()
        for d in dims {
            var dim = ProtoWriter()
            if let d { dim.int(1, d) } else { dim.string(2, "N") }
            shape.message(1, dim)
        }
        var tensorType = ProtoWriter()
        tensorType.int(1, 1)
        tensorType.message(2, shape)
        var type = ProtoWriter()
        type.message(1, tensorType)
        var vi = ProtoWriter()
        vi.string(1, name)
        vi.message(2, type)
        return vi
    }

    static func model(
        nodes: [ProtoWriter], inputs: [ProtoWriter], outputs: [ProtoWriter], initializers: [ProtoWriter] = [],
        opsets: [(String, Int64)] = [("", 17)]
    ) -> [UInt8] {
        var g = ProtoWriter()
        for n in nodes { g.message(1, n) }
        g.string(2, "test")
        for t in initializers { g.message(5, t) }
        for i in inputs { g.message(11, i) }
        for o in outputs { g.message(12, o) }
        var m = ProtoWriter()
        m.int(1, 8)
        m.string(2, "plinth-tests")
        m.message(7, g)
        for (d, v) in opsets {
            var o = ProtoWriter()
            o.string(1, d)
            o.int(2, v)
            m.message(8, o)
        }
        return m.bytes
    }
}
