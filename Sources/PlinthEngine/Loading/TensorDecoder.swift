#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns TensorProtos (inline, raw or external) into engine tensors.
struct TensorDecoder {
    /// The model's folder, where external data may live; nil when the model came as bytes alone.
    let directory: String?

    func tensor(_ proto: TensorProto) throws(EngineError) -> Tensor {
        guard let type = TensorType(onnxDataType: proto.dataType) else {
            throw .unsupportedFeature("tensor '\(proto.name)' has data type \(proto.dataType)")
        }
        let shape = proto.dims.map { Int(truncatingIfNeeded: $0) }
        guard let count = Tensor.count(of: shape) else {
            throw .malformed("tensor '\(proto.name)' has invalid or oversized dims \(proto.dims)")
        }
        var raw = proto.rawData
        if proto.isExternal || !proto.externalData.isEmpty {
            raw = try ExternalData(directory: directory).read(proto, expectedBytes: count * type.byteWidth)
        }
        let storage: TensorStorage
        if let raw, type != .string {
            guard raw.count == count * type.byteWidth else {
                throw .malformed(
                    "tensor '\(proto.name)' raw_data has \(raw.count) bytes, dims need \(count * type.byteWidth)")
            }
            storage = TensorDecoder.decodeRaw(raw, type: type, count: count)
        } else {
            storage = try typed(proto, type: type)
        }
        guard storage.count == count else {
            throw .malformed("tensor '\(proto.name)' holds \(storage.count) values, dims \(shape) need \(count)")
        }
        return Tensor(shape: shape, storage: storage)
    }

    private func typed(_ p: TensorProto, type: TensorType) throws(EngineError) -> TensorStorage {
        switch type {
        case .float32: return .float32(p.floatData)
        case .float64: return .float64(p.doubleData)
        case .int64: return .int64(p.int64Data)
        case .int32: return .int32(p.int32Data.map { Int32(truncatingIfNeeded: $0) })
        case .bool: return .bool(p.int32Data.map { $0 != 0 })
        case .string: return .string(p.stringData.map { String(decoding: $0, as: UTF8.self) })
        }
    }

    static func decodeRaw(_ raw: ArraySlice<UInt8>, type: TensorType, count: Int) -> TensorStorage {
        raw.withUnsafeBytes { (buf: UnsafeRawBufferPointer) -> TensorStorage in
            switch type {
            case .float32:
                return .float32(
                    (0..<count).map {
                        Float(
                            bitPattern: UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))
                        )
                    })
            case .float64:
                return .float64(
                    (0..<count).map {
                        Double(
                            bitPattern: UInt64(littleEndian: buf.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))
                        )
                    })
            case .int64:
                return .int64(
                    (0..<count).map { Int64(littleEndian: buf.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) })
            case .int32:
                return .int32(
                    (0..<count).map { Int32(littleEndian: buf.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) })
            case .bool:
                return .bool((0..<count).map { buf[$0] != 0 })
            case .string:
                return .string([])
            }
        }
    }
}

extension TensorType {
    /// Bytes per element in raw_data (strings have no fixed width).
    var byteWidth: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .bool: return 1
        case .string: return 0
        }
    }
}

/// Reads external tensor data, only from files inside the model's own folder.
struct ExternalData {
    let directory: String?

    func read(_ proto: TensorProto, expectedBytes: Int) throws(EngineError) -> ArraySlice<UInt8> {
        guard let directory else {
            throw .externalData(
                "tensor '\(proto.name)' keeps its data in a separate file, but the model was given without a folder")
        }
        guard let location = proto.externalData["location"], !location.isEmpty else {
            throw .externalData("tensor '\(proto.name)' has no location")
        }
        guard !location.hasPrefix("/"), !location.split(separator: "/").contains(".."), !location.contains("\0") else {
            throw .externalData("location '\(location)' of tensor '\(proto.name)' leaves the model's folder")
        }
        let offset = Int(proto.externalData["offset"] ?? "0") ?? -1
        let length = proto.externalData["length"].map { Int($0) ?? -1 } ?? expectedBytes
        guard offset >= 0, length >= 0, length == expectedBytes else {
            throw .externalData(
                "tensor '\(proto.name)' has offset/length \(offset)/\(length); dims need \(expectedBytes) bytes")
        }
        guard let root = ExternalData.realPath(directory), let file = ExternalData.realPath(directory + "/" + location)
        else {
            throw .externalData("cannot resolve '\(location)' for tensor '\(proto.name)'")
        }
        // Symlinks are resolved before the check, so a link pointing outside is refused too.
        guard file.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            throw .externalData("location '\(location)' of tensor '\(proto.name)' resolves outside the model's folder")
        }
        let bytes = try FileBytes.read(path: file, offset: offset, length: length)
        return bytes[...]
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// Whole-file and ranged reads through the C library, with errors as EngineError.io.
enum FileBytes {
    static func read(path: String, offset: Int = 0, length: Int? = nil, maxBytes: Int = .max) throws(EngineError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .io(path: path, reason: "not a regular file") }
        let size = Int(st.st_size)
        let want = length ?? (size - offset)
        guard want <= maxBytes else { throw .io(path: path, reason: "\(want) bytes is more than the \(maxBytes)-byte limit") }
        guard offset >= 0, want >= 0, offset <= size, want <= size - offset else {
            throw .io(path: path, reason: "range \(offset)+\(want) is beyond the file's \(size) bytes")
        }
        var bytes = [UInt8](repeating: 0, count: want)
        var done = 0
        while done < want {
            let n = bytes.withUnsafeMutableBytes { buf in
                pread(fd, buf.baseAddress! + done, want - done, off_t(offset + done))
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw .io(path: path, reason: n == 0 ? "unexpected end of file" : String(cString: strerror(errno)))
            }
            done += n
        }
        return bytes
    }
}
