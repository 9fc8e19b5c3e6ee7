// Field numbers follow onnx.proto (proto2). Unknown fields are skipped.

extension ModelProto {
    init(decoding bytes: [UInt8]) throws(EngineError) {
        var r = ProtoReader(bytes)
        self.init()
        while let (field, wire) = try r.nextField() {
            switch (field, wire) {
            case (1, 0): irVersion = try r.int()
            case (2, 2): producerName = try r.string()
            case (3, 2): producerVersion = try r.string()
            case (7, 2):
                var sub = try r.message()
                graph = try GraphProto(&sub, depth: 1)
                hasGraph = true
            case (8, 2):
                var sub = try r.message()
                var op = OpsetImport(domain: "", version: 0)
                while let (f, w) = try sub.nextField() {
                    switch (f, w) {
                    case (1, 2): op.domain = try sub.string()
                    case (2, 0): op.version = try sub.int()
                    default: try sub.skip(wire: w)
                    }
                }
                opsetImports.append(op)
            default: try r.skip(wire: wire)
            }
        }
    }
}

extension GraphProto {
    init(_ r: inout ProtoReader, depth: Int) throws(EngineError) {
        guard depth <= Limits.maxNestingDepth else {
            throw .malformed("graphs nested deeper than \(Limits.maxNestingDepth)")
        }
        self.init()
        while let (field, wire) = try r.nextField() {
            switch (field, wire) {
            case (1, 2):
                guard nodes.count < Limits.maxNodes else { throw .malformed("more than \(Limits.maxNodes) nodes") }
                var sub = try r.message()
                nodes.append(try NodeProto(&sub, depth: depth))
            case (2, 2): name = try r.string()
            case (5, 2):
                var sub = try r.message()
                initializers.append(try TensorProto(&sub))
            case (11, 2):
                var sub = try r.message()
                inputs.append(try ValueInfoProto(&sub, depth: depth))
            case (12, 2):
                var sub = try r.message()
                outputs.append(try ValueInfoProto(&sub, depth: depth))
            case (15, 2):
                _ = try r.lengthDelimited()
                hasSparseInitializers = true
            default: try r.skip(wire: wire)
            }
        }
    }
}

extension NodeProto {
    init(_ r: inout ProtoReader, depth: Int) throws(EngineError) {
        self.init()
        while let (field, wire) = try r.nextField() {
            switch (field, wire) {
            case (1, 2): inputs.append(try r.string())
            case (2, 2): outputs.append(try r.string())
            case (3, 2): name = try r.string()
            case (4, 2): opType = try r.string()
            case (7, 2): domain = try r.string()
            case (5, 2):
                var sub = try r.message()
                attributes.append(try AttributeProto(&sub, depth: depth))
            default: try r.skip(wire: wire)
            }
        }
    }
}

extension AttributeProto {
    init(_ r: inout ProtoReader, depth: Int) throws(EngineError) {
        self.init()
        var declared: Int?
        while let (field, wire) = try r.nextField() {
            switch (field, wire) {
            case (1, 2): name = try r.string()
            case (20, 0): declared = try r.int()
            case (2, 5): f = try r.float()
            case (3, 0): i = try r.int64()
            case (4, 2): s = Array(try r.rawBytes())
            case (5, 2):
                var sub = try r.message()
                t = try TensorProto(&sub)
            case (6, 2):
                var sub = try r.message()
                g = try GraphProto(&sub, depth: depth + 1)
            case (7, _): try r.appendFloats(wire: wire, to: &floats)
            case (8, _): try r.appendInt64s(wire: wire, to: &ints)
            case (9, 2): strings.append(Array(try r.rawBytes()))
            case (10, 2):
                var sub = try r.message()
                tensors.append(try TensorProto(&sub))
            case (11, 2):
                var sub = try r.message()
                graphs.append(try GraphProto(&sub, depth: depth + 1))
            default: try r.skip(wire: wire)
            }
        }
        if let declared {
            // An unknown kind is kept as undefined; only the attributes an operator reads matter.
            kind = Kind(rawValue: declared) ?? .undefined
        } else {
            // IR < 3 files may omit the type; infer it from the populated field.
            if t != nil {
                kind = .tensor
            } else if g != nil {
                kind = .graph
            } else if !floats.isEmpty {
                kind = .floats
            } else if !ints.isEmpty {
                kind = .ints
            } else if !strings.isEmpty {
                kind = .strings
            } else if !s.isEmpty {
                kind = .string
            } else if f != 0 {
                kind = .float
            } else {
                kind = .int
            }
        }
    }
}

extension TensorProto {
    init(_ r: inout ProtoReader) throws(EngineError) {
        self.init()
        while let (field, wire) = try r.nextField() {
            switch (field, wire) {
            case (1, _): try r.appendInt64s(wire: wire, to: &dims)
            case (2, 0): dataType = try r.int()
            case (4, _): try r.appendFloats(wire: wire, to: &floatData)
            case (5, _): try r.appendInt64s(wire: wire, to: &int32Data)
            case (6, 2): stringData.append(Array(try r.rawBytes()))
            case (7, _): try r.appendInt64s(wire: wire, to: &int64Data)
            case (8, 2): name = try r.string()
            case (9, 2): rawData = try r.rawBytes()
            case (10, _): try r.appendDoubles(wire: wire, to: &doubleData)
            case (11, _): try r.appendInt64s(wire: wire, to: &uint64Data)
            case (13, 2):
                var sub = try r.message()
                var key = ""
                var value = ""
                while let (f, w) = try sub.nextField() {
                    switch (f, w) {
                    case (1, 2): key = try sub.string()
                    case (2, 2): value = try sub.string()
                    default: try sub.skip(wire: w)
                    }
                }
                externalData[key] = value
            case (14, 0): isExternal = try r.int() == 1
            default: try r.skip(wire: wire)
            }
        }
        guard dims.count <= Limits.maxRank else { throw .malformed("tensor '\(name)' has rank \(dims.count)") }
    }
}

extension ValueInfoProto {
    init(_ r: inout ProtoReader, depth: Int) throws(EngineError) {
        self.init()
        while let (field, wire) = try r.nextField() {
            switch (field, wire) {
            case (1, 2): name = try r.string()
            case (2, 2):
                var sub = try r.message()
                type = try ValueType.decode(&sub, depth: depth + 1)
            default: try r.skip(wire: wire)
            }
        }
    }
}

extension ValueType {
    static func decode(_ r: inout ProtoReader, depth: Int) throws(EngineError) -> ValueType {
        guard depth <= Limits.maxNestingDepth else {
            throw .malformed("types nested deeper than \(Limits.maxNestingDepth)")
        }
        var result = ValueType.other
        while let (field, wire) = try r.nextField() {
            switch (field, wire) {
            case (1, 2):
                var sub = try r.message()
                var elem = 0
                var shape: [Dimension]?
                while let (f, w) = try sub.nextField() {
                    switch (f, w) {
                    case (1, 0): elem = try sub.int()
                    case (2, 2):
                        var shapeReader = try sub.message()
                        var dims: [Dimension] = []
                        while let (sf, sw) = try shapeReader.nextField() {
                            guard sf == 1, sw == 2 else {
                                try shapeReader.skip(wire: sw)
                                continue
                            }
                            guard dims.count < Limits.maxRank else {
                                throw .malformed("declared rank above \(Limits.maxRank)")
                            }
                            var dimReader = try shapeReader.message()
                            var dim = Dimension.symbolic("?")
                            while let (df, dw) = try dimReader.nextField() {
                                switch (df, dw) {
                                case (1, 0): dim = .fixed(try dimReader.int())
                                case (2, 2): dim = .symbolic(try dimReader.string())
                                default: try dimReader.skip(wire: dw)
                                }
                            }
                            dims.append(dim)
                        }
                        shape = dims
                    default: try sub.skip(wire: w)
                    }
                }
                result = .tensor(elementType: elem, shape: shape)
            case (4, 2):
                var sub = try r.message()
                var elem: ValueType?
                while let (f, w) = try sub.nextField() {
                    if f == 1, w == 2 {
                        var inner = try sub.message()
                        elem = try decode(&inner, depth: depth + 1)
                    } else {
                        try sub.skip(wire: w)
                    }
                }
                result = .sequence(elem)
            case (5, 2):
                var sub = try r.message()
                var key = 0
                var value: ValueType?
                while let (f, w) = try sub.nextField() {
                    switch (f, w) {
                    case (1, 0): key = try sub.int()
                    case (2, 2):
                        var inner = try sub.message()
                        value = try decode(&inner, depth: depth + 1)
                    default: try sub.skip(wire: w)
                    }
                }
                result = .map(keyType: key, value: value)
            default: try r.skip(wire: wire)
            }
        }
        return result
    }
}
