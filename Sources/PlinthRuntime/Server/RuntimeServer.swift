import PlinthCore
import PlinthHTTP
import Synchronization

/// An OIP v2 server for one model: HTTP routes, the dynamic batcher and the model.
public final class RuntimeServer: Sendable {
    public let configuration: RuntimeConfiguration
    private let http: HTTPServer
    private let executor: BatchingExecutor
    private let ready = ReadinessFlag()

    /// Loads the model at `configuration.modelPath` with the native engine.
    public convenience init(configuration: RuntimeConfiguration) throws {
        self.init(configuration: configuration, model: try EngineServedModel(path: configuration.modelPath))
    }

    package init(configuration: RuntimeConfiguration, model: any ServedModel) {
        self.configuration = configuration
        executor = BatchingExecutor(
            model: model, maxBatch: configuration.maxBatch,
            maxDelayMicros: configuration.maxDelayMicros, concurrency: configuration.threads)
        let service = InferenceService(
            name: configuration.name, version: configuration.version, model: model,
            executor: executor)
        let router = Router()
        var httpConfiguration = HTTPServerConfiguration(listen: [configuration.listen])
        if let loops = configuration.eventLoops { httpConfiguration.eventLoopCount = loops }
        httpConfiguration.accessLog = configuration.accessLog
        // A request with a body over the inline limit holds a handler thread while it waits for
        // its batch (smaller ones are queued from the loop without a thread).
        httpConfiguration.handlerThreadCount = max(32, min(512, configuration.maxBatch * configuration.threads * 2))
        http = HTTPServer(configuration: httpConfiguration, router: router)
        RuntimeRoutes.install(
            on: router, service: service, isReady: { [ready] in ready.value.load(ordering: .relaxed) },
            maxBodyBytes: configuration.maxBodyBytes, eventLoops: httpConfiguration.eventLoopCount)
    }

    /// Binds and starts serving; returns the bound addresses.
    public func start() throws -> [ListenAddress] {
        let addresses = try http.start()
        ready.value.store(true, ordering: .relaxed)
        return addresses
    }

    /// Reports not-ready, finishes requests in flight, stops the batcher. Idempotent.
    public func shutdown() {
        ready.value.store(false, ordering: .relaxed)
        http.shutdown()
        executor.shutdown()
    }

    /// Blocks until `shutdown` has completed.
    public func wait() {
        http.wait()
    }
}

/// Whether the server reports ready; shared with the health routes.
private final class ReadinessFlag: Sendable {
    let value = Atomic<Bool>(false)
}
