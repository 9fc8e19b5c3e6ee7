import PlinthCore
import PlinthHTTP

extension Gateway {
    /// `POST /v2/models/{deployment}[/versions/{version}]/infer`.
    func infer(_ request: HTTPRequest) -> HTTPResponse {
        let start = GatewayClock.now()
        let name = request.pathParameters["deployment"] ?? ""
        let principal: GatewayPrincipal
        let route: DeploymentRoute
        do throws(HTTPError) {
            principal = try authenticate(request)
            if Gateway.readOnlyRoles.contains(principal.role) {
                throw HTTPError(403, "role '\(principal.role)' may not invoke deployments")
            }
            route = try resolve(principal, name)
        } catch {
            // Not metered: there is no tenant (or no deployment of it) to bill.
            metrics.rejectedBeforeRouting(status: error.status)
            return Gateway.response(error, requestID: request.requestID)
        }
        var meter = UsageMeter(
            principal: principal, deployment: route.name, start: start, bytesIn: request.body.count,
            requestID: request.requestID)
        let response: HTTPResponse
        do throws(HTTPError) {
            response = try serve(request, principal, route, &meter)
        } catch {
            response = Gateway.response(error, requestID: request.requestID)
        }
        return finish(response, &meter)
    }

    /// Everything after routing; throws the error answer, which is still metered.
    private func serve(
        _ request: HTTPRequest, _ principal: GatewayPrincipal, _ route: DeploymentRoute, _ meter: inout UsageMeter
    ) throws(HTTPError) -> HTTPResponse {
        try checkRateLimits(principal, deployment: route.name)
        try checkPayload(request, limit: route.maxPayloadBytes)

        let state = deployments.state(tenantID: principal.tenantID, route: route)
        let versionIndex: Int
        if let wanted = request.pathParameters["version"] {
            guard let index = route.versions.firstIndex(where: { $0.version == wanted }) else {
                throw HTTPError(404, "version '\(wanted)' of deployment '\(route.name)' not found")
            }
            versionIndex = index
        } else {
            guard let index = state.chooseVersion(routingKey: request.headers["Plinth-Routing-Key"]) else {
                throw HTTPError(503, "deployment '\(route.name)' has no version receiving traffic")
            }
            versionIndex = index
        }
        let version = route.versions[versionIndex]
        meter.version = version.version

        // Admission: the deployment's concurrency cap, then its bounded queue.
        let deadline = start(meter) + GatewayClock.nanoseconds(route.requestTimeout)
        metrics.queueEntered(principal.tenantName, route.name)
        let admission = state.gate.admit(deadline: deadline)
        metrics.queueLeft(principal.tenantName, route.name)
        switch admission {
        case .full:
            metrics.overloaded(principal.tenantName, route.name)
            throw HTTPError(
                503, "deployment '\(route.name)' is overloaded, retry later",
                headers: ["Retry-After": String(configuration.overloadRetryAfterSeconds)])
        case .timedOut:
            throw HTTPError(504, "deployment '\(route.name)' did not answer within its request timeout")
        case .admitted:
            break
        }
        defer { state.gate.release() }
        let admitted = GatewayClock.now()
        meter.gatewayQueueMicros = Int64((admitted - meter.start) / 1_000)

        let forwarded = ForwardedRequest.make(from: request, modelName: version.modelName, body: request.body)
        metrics.inFlight(principal.tenantName, route.name, delta: 1)
        defer { metrics.inFlight(principal.tenantName, route.name, delta: -1) }
        let upstream = try forward(
            forwarded, state: state, versionIndex: versionIndex, replicas: version.replicas,
            timeout: route.requestTimeout)
        meter.absorbRuntimeHeaders(upstream.headers)

        if let shadow = route.shadow {
            let accepted = shadows.offer(
                ShadowJob(
                    request: ForwardedRequest.make(from: request, modelName: shadow.modelName, body: request.body),
                    tenantID: principal.tenantID, tenantName: principal.tenantName, apiKeyID: principal.keyID ?? "",
                    deployment: route.name, deploymentKey: DeploymentTable.key(principal.tenantID, route.name),
                    shadow: shadow, timeout: route.requestTimeout, primaryStatus: upstream.status,
                    requestID: request.requestID, bytesIn: request.body.count))
            if !accepted { metrics.shadow("dropped") }
        }
        return Gateway.callerResponse(upstream, version: version.version)
    }

    private func start(_ meter: UsageMeter) -> UInt64 { meter.start }

    /// The runtime's answer as the caller gets it: status and body untouched, only the content
    /// headers passed through, plus the version that served it.
    static func callerResponse(_ upstream: HTTPClientResponse, version: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        if let type = upstream.headers["Content-Type"] { headers.add("Content-Type", type) }
        if let length = upstream.headers["Inference-Header-Content-Length"] {
            headers.add("Inference-Header-Content-Length", length)
        }
        headers.add("Plinth-Model-Version", version)
        return HTTPResponse(status: upstream.status, headers: headers, body: .bytes(upstream.body))
    }

    /// Per-key then per-tenant token buckets → 429 with Retry-After.
    private func checkRateLimits(_ principal: GatewayPrincipal, deployment: String) throws(HTTPError) {
        if let keyID = principal.keyID, let rate = principal.keyRequestsPerSecond,
            let wait = rateLimits.take(scope: "key:" + keyID, rate: rate)
        {
            metrics.rateLimited(principal.tenantName, deployment, scope: "key")
            throw HTTPError(429, "API key rate limit exceeded", headers: ["Retry-After": String(wait)])
        }
        if let rate = principal.tenantRequestsPerSecond,
            let wait = rateLimits.take(scope: "tenant:" + principal.tenantID, rate: rate)
        {
            metrics.rateLimited(principal.tenantName, deployment, scope: "tenant")
            throw HTTPError(429, "tenant rate limit exceeded", headers: ["Retry-After": String(wait)])
        }
    }

    /// Content-Length (what the caller declared) and the body against the deployment's limit;
    /// a binary-extension header length must fit in the body.
    private func checkPayload(_ request: HTTPRequest, limit: Int) throws(HTTPError) {
        let declared = request.headers["Content-Length"].flatMap { Int($0) } ?? request.body.count
        if declared > limit || request.body.count > limit {
            throw HTTPError(413, "request body exceeds this deployment's limit of \(limit) bytes")
        }
        if let text = request.headers["Inference-Header-Content-Length"] {
            guard let length = Int(text), length >= 0, length <= request.body.count else {
                throw HTTPError(400, "Inference-Header-Content-Length must be a byte count within the body")
            }
        }
    }

    /// Meters the request (journal first, then metrics) and returns the response to hand back.
    func finish(_ response: HTTPResponse, _ meter: inout UsageMeter) -> HTTPResponse {
        var response = response
        let end = GatewayClock.now()
        let bytesOut: Int
        if case .bytes(let body) = response.body { bytesOut = body.count } else { bytesOut = 0 }
        let event = meter.event(status: response.status, end: end, bytesOut: bytesOut)
        if let journal {
            do {
                _ = try journal.append(event)
            } catch {
                // Unmetered work must not be handed out: answer 503 instead.
                logger.error("usage journal append failed", ["error": .string(String(describing: error))])
                response = Gateway.response(
                    HTTPError(503, "usage metering unavailable, retry later", headers: ["Retry-After": "1"]),
                    requestID: meter.requestID)
            }
        }
        metrics.requestFinished(meter: meter, status: response.status, end: end)
        return response
    }
}
