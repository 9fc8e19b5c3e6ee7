import PlinthCore
import Synchronization

/// State shared by a server's event loops and handler threads.
final class ServerContext: Sendable {
    let config: HTTPServerConfiguration
    let router: Router
    let pool: HandlerPool
    let parser: RequestHeadParser
    let openConnections = Atomic<Int>(0)
    let shuttingDown = Atomic<Bool>(false)
    let logger = Logger(component: "http")
    let bodyTimeoutMs: Int32

    init(config: HTTPServerConfiguration, router: Router) {
        self.config = config
        self.router = router
        pool = HandlerPool(threads: config.handlerThreadCount)
        parser = RequestHeadParser(maxHeaderBytes: config.maxHeaderBytes, maxHeaderCount: config.maxHeaderCount)
        bodyTimeoutMs = Sys.milliseconds(config.bodyTimeout)
    }

    /// One structured access-log line (when enabled).
    func logAccess(_ info: AccessInfo, status: Int, bytes: Int) {
        guard config.accessLog else { return }
        let micros = Int((Sys.monotonicNanos() &- info.started) / 1000)
        logger.info(
            "request",
            [
                "method": .string(info.method.description), "path": .string(info.path), "status": .int(status),
                "bytes": .int(bytes), "duration_us": .int(micros), "request_id": .string(info.requestID),
                "remote": .string(info.remote),
            ])
    }
}

/// What the access log needs about a request.
struct AccessInfo: Sendable {
    var method: HTTPMethod
    var path: String
    var requestID: String
    var remote: String
    var started: UInt64
}
