import PlinthHTTP

/// Settings of `plinth runtime`: one model served over OIP v2.
public struct RuntimeConfiguration: Sendable {
    /// The ONNX file to serve.
    public var modelPath: String
    /// Model name in OIP paths (`/v2/models/{name}`); defaults to the file name without extension.
    public var name: String
    /// Version reported in metadata and accepted in `/versions/{v}` paths.
    public var version: String
    /// Where to listen: `unix:PATH` or `HOST:PORT`.
    public var listen: ListenAddress
    /// Most rows (dimension 0) merged into one model run. 1 turns batching off.
    public var maxBatch: Int
    /// How long the oldest queued request may wait for others to join its batch, in µs.
    /// 0: a batch starts as soon as a worker is free (requests that queued meanwhile still merge).
    public var maxDelayMicros: Int
    /// Batches that may run at once, each on its own thread.
    public var threads: Int
    /// Largest inference request body (JSON plus binary tensors).
    public var maxBodyBytes: Int
    /// HTTP event-loop threads; nil: one per core.
    public var eventLoops: Int?
    /// One JSON line per request (with the caller's `X-Request-Id`) on stderr.
    public var accessLog = false

    public init(
        modelPath: String, name: String? = nil, version: String = "1", listen: ListenAddress,
        maxBatch: Int = 64, maxDelayMicros: Int = 0, threads: Int = 1, maxBodyBytes: Int = 64 << 20,
        eventLoops: Int? = nil
    ) {
        self.eventLoops = eventLoops.map { max(1, $0) }
        self.modelPath = modelPath
        self.name = name ?? Self.defaultName(forModelAt: modelPath)
        self.version = version
        self.listen = listen
        self.maxBatch = max(1, maxBatch)
        self.maxDelayMicros = max(0, maxDelayMicros)
        self.threads = max(1, threads)
        self.maxBodyBytes = max(1024, maxBodyBytes)
    }

    /// "models/mlp.onnx" → "mlp".
    public static func defaultName(forModelAt path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        if let dot = file.lastIndex(of: "."), dot != file.startIndex { return String(file[..<dot]) }
        return file.isEmpty ? "model" : file
    }
}
