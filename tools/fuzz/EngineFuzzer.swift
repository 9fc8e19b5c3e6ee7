// libFuzzer entry point: decode, validate and compile arbitrary bytes as an ONNX model, then run
// it once on zero inputs. Any crash, hang or sanitizer report is a bug; errors are fine.
// Built by tools/fuzz/build.sh together with the engine's sources.

@_cdecl("LLVMFuzzerTestOneInput")
public func engineFuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let model = try? InferenceModel(bytes: bytes, directory: nil) else { return 0 }
    var feeds: [String: Tensor] = [:]
    for sig in model.inputs {
        let shape = sig.shape.map { $0 < 0 ? 2 : $0 }
        guard let n = Tensor.count(of: shape), n <= 1 << 16 else { return 0 }
        switch sig.type {
        case .float32: feeds[sig.name] = Tensor(shape: shape, floats: (0..<n).map { Float($0 % 5) - 2 })
        case .int64: feeds[sig.name] = Tensor(shape: shape, int64s: [Int64](repeating: 0, count: n))
        default: return 0
        }
    }
    _ = try? model.run(feeds)
    return 0
}
