import PlinthCore
import PlinthHTTP

/// The OIP v2 REST surface of a runtime serving one model.
enum RuntimeRoutes {
    /// Largest inference body accepted (JSON plus binary tensors).
    static let defaultMaxBodyBytes = 64 << 20

    static func install(
        on router: Router, service: InferenceService, isReady: @escaping @Sendable () -> Bool,
        maxBodyBytes: Int = defaultMaxBodyBytes, eventLoops: Int = 1
    ) {
        let light = RouteOptions(runsOnEventLoop: true)
        router.add(.GET, "/v2/health/live", options: light) { _ in .jsonBytes(Array("{\"live\":true}".utf8)) }
        router.add(.GET, "/v2/health/ready", options: light) { _ in
            isReady()
                ? .jsonBytes(Array("{\"ready\":true}".utf8)) : .jsonBytes(Array("{\"ready\":false}".utf8), status: 503)
        }
        router.add(.GET, "/v2", options: light) { _ in
            .jsonBytes(
                Array(
                    ("{\"name\":\"plinth\",\"version\":\"\(PlinthVersion.current)\","
                        + "\"extensions\":[\"binary_tensor_data\"]}").utf8))
        }
        let metadata = service.metadata()
        let modelReady: HTTPHandler = { request in
            try check(request, service)
            let ready = isReady()
            var body: [UInt8] = Array("{\"name\":".utf8)
            InferenceResponseEncoder.appendString(service.name, to: &body)
            body += Array(",\"ready\":\(ready)}".utf8)
            return .jsonBytes(body, status: ready ? 200 : 503)
        }
        let modelMetadata: HTTPHandler = { request in
            try check(request, service)
            return .jsonBytes(metadata)
        }
        // On the event loop: a small request to a fast model whose batcher is idle is computed
        // right there (no hop to a handler thread and back); anything else is decoded there and
        // queued for the batcher, whose worker answers it.
        // The common infer path, compared whole before looking up path parameters (a name with
        // '%' could match its own percent-encoding, so such names always take the lookup).
        let inferPath = service.name.contains("%") ? nil : "/v2/models/\(service.name)/infer"
        let rounds = (0..<max(1, eventLoops)).map { _ in RoundBatch() }
        let infer: HTTPAsyncHandler = { request, responder in
            if request.path != inferPath { try check(request, service) }
            guard let loop = request.eventLoop, loop.inEventLoop else {
                responder.complete(inferResponse(request, service))
                return
            }
            guard request.body.count <= inlineMaxBodyBytes else {
                // Decoding a large body (and waiting for the batcher) must not hold the loop.
                loop.offload { responder.complete(inferResponse(request, service)) }
                return
            }
            let prepared: InferenceService.Prepared
            do throws(InferenceError) {
                prepared = try service.prepare(body: request.body, jsonLength: try jsonLength(request))
            } catch {
                responder.complete(.error(error.status, error.description))
                return
            }
            if service.executor.latestComputeMicros <= inlineMaxComputeMicros, loop.index < rounds.count {
                rounds[loop.index].add(prepared, request.requestID, responder, loop: loop, service: service)
                return
            }
            // Busy or slow: queue it for the batcher without parking a pool thread on it; the
            // batch's thread answers (the responder posts the response back to this loop).
            service.submit(prepared) { result in
                responder.complete(
                    respond(request.requestID) { () throws(InferenceError) in try result.get() }
                        ?? .error(503, "unavailable"))
            }
        }
        let inferOptions = RouteOptions(maxBodyBytes: maxBodyBytes)
        for prefix in ["/v2/models/{model}", "/v2/models/{model}/versions/{version}"] {
            router.add(.GET, prefix, options: light, modelMetadata)
            router.add(.GET, prefix + "/ready", options: light, modelReady)
            router.addAsync(.POST, prefix + "/infer", options: inferOptions, infer)
        }
    }

    /// 404 unless the path names this model (and this version, when it names one).
    static func check(_ request: HTTPRequest, _ service: InferenceService) throws {
        let model = request.pathParameters["model"] ?? ""
        guard model == service.name else {
            throw HTTPError(404, "model '\(model)' not found; this runtime serves '\(service.name)'")
        }
        if let version = request.pathParameters["version"], version != service.version {
            throw HTTPError(
                404,
                "version '\(version)' of model '\(model)' not found; this runtime serves version '\(service.version)'")
        }
    }

    /// The small requests one event loop decoded during one round of its events, run together
    /// (merged into batches) by a job that runs when the round ends: with many connections the
    /// model runs once per round instead of once per request, and with one request in the round
    /// it runs just as soon as before. Only its own loop's thread touches it.
    final class RoundBatch: @unchecked Sendable {
        private var prepared: [InferenceService.Prepared] = []
        private var waiting: [(requestID: String, responder: HTTPResponder, arrival: UInt64)] = []

        func add(
            _ request: InferenceService.Prepared, _ requestID: String, _ responder: HTTPResponder,
            loop: HTTPEventLoop, service: InferenceService
        ) {
            prepared.append(request)
            waiting.append((requestID, responder, BatchingExecutor.nowMicros()))
            if waiting.count == 1 { loop.execute { self.run(service) } }
        }

        private func run(_ service: InferenceService) {
            let requests = prepared
            let callers = waiting
            prepared.removeAll(keepingCapacity: true)
            waiting.removeAll(keepingCapacity: true)
            guard
                let answers = service.runAll(requests, arrivals: callers.map(\.arrival))
            else {
                // Busy (a batch from the queue is running): queue them for the batcher.
                for (request, caller) in zip(requests, callers) {
                    service.submit(request) { result in
                        caller.responder.complete(
                            respond(caller.requestID) { () throws(InferenceError) in try result.get() }
                                ?? .error(503, "unavailable"))
                    }
                }
                return
            }
            for (answer, caller) in zip(answers, callers) {
                caller.responder.complete(
                    respond(caller.requestID) { () throws(InferenceError) in try answer.get() }
                        ?? .error(503, "unavailable"))
            }
        }
    }

    /// Largest body decoded on the event loop, and slowest model run there (µs, latest batch).
    static let inlineMaxBodyBytes = 64 << 10
    static let inlineMaxComputeMicros: UInt64 = 500

    private static func jsonLength(_ request: HTTPRequest) throws(InferenceError) -> Int? {
        guard let text = request.headers["Inference-Header-Content-Length"] else { return nil }
        guard let value = Int(text), value >= 0 else {
            throw .invalidRequest("invalid Inference-Header-Content-Length '\(text)'")
        }
        return value
    }

    private static func inferResponse(_ request: HTTPRequest, _ service: InferenceService) -> HTTPResponse {
        respond(request.requestID) { () throws(InferenceError) in
            try service.infer(body: request.body, jsonLength: try jsonLength(request))
        } ?? .error(503, "unavailable")
    }

    static let logger = Logger(component: "runtime")

    /// The answer as a response (errors as JSON); nil when `run` gave none. A server-side failure
    /// is logged with the gateway's request id, so one id finds both sides' lines.
    private static func respond(_ requestID: String, _ run: () throws(InferenceError) -> InferenceService.Answer?)
        -> HTTPResponse?
    {
        do {
            guard let answer = try run() else { return nil }
            var headers = HTTPHeaders()
            headers.reserveCapacity(8)  // these, X-Request-Id and what the server adds
            if let length = answer.encoded.jsonLength {
                headers.add("Content-Type", "application/octet-stream")
                headers.add("Inference-Header-Content-Length", String(length))
            } else {
                headers.add("Content-Type", "application/json")
            }
            headers.add("Plinth-Queue-Us", String(answer.queueMicros))
            headers.add("Plinth-Compute-Us", String(answer.computeMicros))
            headers.add("Plinth-Batch-Size", String(answer.batchRows))
            headers.add("Plinth-Request-Rows", String(answer.requestRows))
            return HTTPResponse(status: 200, headers: headers, body: .bytes(answer.encoded.body))
        } catch {
            if error.status >= 500 {
                logger.error(
                    "inference failed",
                    [
                        "request_id": .string(requestID), "status": .int(error.status),
                        "error": .string(error.description),
                    ])
            }
            return .error(error.status, error.description)
        }
    }
}
