import Dispatch
import PlinthEngine

/// Times the native engine on one model: latency of a single run at batch 1 and throughput at
/// batch 64, on random inputs matching the model's signature, on the calling thread.
public enum EngineBenchmark {
    /// Runs the benchmark and returns a human-readable report ending in one machine-readable
    /// `RESULT engine=plinth model=… p50_us=… rows_per_s=…` line (bench/engine/run.sh parses it).
    public static func run(modelPath: String, iterations: Int) throws -> String {
        let iterations = max(10, iterations)
        let model = try InferenceModel(path: modelPath)
        let name = modelPath.split(separator: "/").last.map(String.init) ?? modelPath
        var generator = SplitMix64(seed: 1)
        var report = ""

        let single = try randomInputs(model.inputs, batch: 1, &generator)!
        for _ in 0..<min(200, iterations) { _ = try model.run(single) }
        var times: [Double] = []
        times.reserveCapacity(iterations)
        for _ in 0..<iterations {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try model.run(single)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
        }
        times.sort()
        let p50 = times[times.count / 2]
        let p90 = times[times.count * 9 / 10]
        let p99 = times[times.count * 99 / 100]
        report += "plinth \(name): batch 1 p50 \(format(p50)) us, p90 \(format(p90)) us, p99 \(format(p99)) us"
        report += " (kernels: \(KernelDispatch.implementation.rawValue))\n"

        var rowsPerSecond = 0.0
        if let batch = try randomInputs(model.inputs, batch: 64, &generator) {
            let runs = max(20, iterations / 8)
            for _ in 0..<5 { _ = try model.run(batch) }
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<runs { _ = try model.run(batch) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            rowsPerSecond = Double(64 * runs) / seconds
            report += "plinth \(name): batch 64 \(format(seconds / Double(runs) * 1e6)) us per run, "
            report += "\(Int(rowsPerSecond)) rows/s\n"
        } else {
            report += "plinth \(name): batch 64 n/a (fixed batch dimension)\n"
        }
        report += "RESULT engine=plinth model=\(name) p50_us=\(format(p50)) rows_per_s=\(Int(rowsPerSecond))\n"
        return report
    }

    private static func format(_ value: Double) -> String {
        let scaled = (value * 100).rounded() / 100
        return String(scaled)
    }

    /// Random tensors for `signatures`; dynamic dimensions are `batch` (first) or 1. Nil when a
    /// fixed first dimension rules out `batch`.
    static func randomInputs(_ signatures: [TensorSignature], batch: Int, _ generator: inout SplitMix64) throws
        -> [String: Tensor]?
    {
        var inputs: [String: Tensor] = [:]
        for signature in signatures {
            let shape = signature.shape.enumerated().map { index, dim in dim >= 0 ? dim : (index == 0 ? batch : 1) }
            if batch != 1, shape.first != batch { return nil }
            let count = shape.reduce(1, *)
            let storage: TensorStorage
            switch signature.type {
            case .float32: storage = .float32((0..<count).map { _ in Float(generator.unit()) })
            case .float64: storage = .float64((0..<count).map { _ in generator.unit() })
            case .int64: storage = .int64((0..<count).map { _ in Int64(generator.next() % 10) })
            case .int32: storage = .int32((0..<count).map { _ in Int32(generator.next() % 10) })
            case .bool: storage = .bool((0..<count).map { _ in generator.next() & 1 == 1 })
            case .string: storage = .string((0..<count).map { _ in "a" })
            }
            inputs[signature.name] = Tensor(shape: shape, storage: storage)
        }
        return inputs
    }
}

/// Small deterministic generator so runs are repeatable.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
