import Foundation
import PlinthHTTP
import PlinthRuntime

/// `plinth runtime`: serves one model file over the Open Inference Protocol v2.
enum RuntimeCommand {
    static let command = Command(
        name: "runtime",
        summary: "Serve one ONNX model over the Open Inference Protocol v2 (the native engine).",
        usageLine:
            "runtime --model FILE --listen unix:PATH|HOST:PORT [--name N] [--version V] [--max-batch B] [--max-delay-us U] [--threads T] [--event-loops L] [--access-log]",
        flags: [
            FlagSpec("model", help: "ONNX model file (default: $PLINTH_MODEL)"),
            FlagSpec("listen", help: "unix:PATH or HOST:PORT (default: $PLINTH_LISTEN)"),
            FlagSpec("name", help: "model name in /v2/models/{name} (default: file name without extension)"),
            FlagSpec("version", help: "version label reported in responses (default 1)"),
            FlagSpec("max-batch", help: "largest dynamic batch (default 64)"),
            FlagSpec("max-delay-us", help: "longest wait to fill a batch, microseconds (default 0)"),
            FlagSpec("threads", help: "compute threads (default 1)"),
            FlagSpec("max-body-bytes", help: "largest request body (default 64 MiB)"),
            FlagSpec("event-loops", help: "HTTP event-loop threads (default: one per core)"),
            FlagSpec("access-log", value: false, help: "log one JSON line per request (with its request id)"),
        ],
        run: { args in
            guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
            let env = ProcessInfo.processInfo.environment
            guard let model = args.value("model") ?? env["PLINTH_MODEL"] else {
                throw UsageError("missing required flag --model")
            }
            guard let listenText = args.value("listen") ?? env["PLINTH_LISTEN"] else {
                throw UsageError("missing required flag --listen")
            }
            let listen: ListenAddress
            do { listen = try ListenAddress.parse(listenText) } catch { throw UsageError("--listen: \(error)") }
            var configuration = RuntimeConfiguration(
                modelPath: model, name: args.value("name"), version: args.value("version") ?? "1", listen: listen,
                maxBatch: try args.int("max-batch", default: 64, range: 1...65536),
                maxDelayMicros: try args.int("max-delay-us", default: 0, range: 0...10_000_000),
                threads: try args.int("threads", default: 1, range: 1...256),
                maxBodyBytes: try args.int("max-body-bytes", default: 64 << 20, range: 1024...(1 << 34)),
                eventLoops: args.value("event-loops") == nil
                    ? nil : try args.int("event-loops", default: 1, range: 1...256))
            configuration.accessLog = args.has("access-log")
            return try RuntimeMain.run(configuration)
        })
}

/// `plinth bench engine MODEL…`: engine latency and throughput, no HTTP.
enum BenchCommand {
    static let command = Command(
        name: "bench",
        summary: "Benchmarks. `plinth bench engine MODEL...` times the native engine (batch-1 latency, batch-64 throughput).",
        usageLine: "bench engine MODEL... [--iterations N]",
        flags: [FlagSpec("iterations", help: "timed runs per measurement (default 2000)")],
        run: { args in
            guard args.positional.first == "engine" else {
                throw UsageError("unknown benchmark '\(args.positional.first ?? "")'; try: plinth bench engine MODEL")
            }
            let models = args.positional.dropFirst()
            guard !models.isEmpty else { throw UsageError("bench engine needs at least one MODEL file") }
            let iterations = try args.int("iterations", default: 2000, range: 1...10_000_000)
            for model in models {
                Console.out(try EngineBenchmark.run(modelPath: model, iterations: iterations))
            }
            return 0
        },
        maxPositional: 64)
}
