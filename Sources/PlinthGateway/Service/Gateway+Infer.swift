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
            if Gateway.isReadOnly(principal.role) {
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
        let series = metrics.series(tenant: principal.tenantName, deployment: route.name)
        let response: HTTPResponse
        do throws(HTTPError) {
            response = try serve(request, principal, route, series, &meter)
        } catch {
            response = Gateway.response(error, requestID: request.requestID)
        }
        return finish(response, series, &meter)
    }

    /// The version that serves a routed request, after rate limits and payload checks.
    struct InferPlan {
        let state: DeploymentState
        let versionIndex: Int
        let version: VersionRoute
    }

    /// Everything after routing; throws the error answer, which is still metered.
    private func serve(
        _ request: HTTPRequest, _ principal: GatewayPrincipal, _ route: DeploymentRoute,
        _ series: GatewayMetrics.DeploymentSeries, _ meter: inout UsageMeter
    ) throws(HTTPError) -> HTTPResponse {
        let plan = try self.plan(request, principal, route, series, &meter)
        let state = plan.state

        // Admission: the deployment's concurrency cap, then its bounded queue.
        let deadline = meter.start + GatewayClock.nanoseconds(route.requestTimeout)
        let admission = BlockingAdmission.admit(state.admission, deadline: deadline, queueGauge: series.queueDepth)
        let permit: AdmissionPermit
        switch admission {
        case .overloaded(let retryAfter):
            throw overloaded(route, series, retryAfter: retryAfter)
        case .admitted(let p):
            permit = p
        }
        defer { state.admission.release(permit) }
        meter.gatewayQueueMicros = Int64(permit.queuedNanos / 1_000)

        let forwarded = ForwardedRequest.make(from: request, version: plan.version, body: request.body)
        series.inFlight.inc()
        defer { series.inFlight.dec() }
        let upstream = try forward(forwarded, to: state.versions[plan.versionIndex], clients: state.clients)
        return answer(upstream, request, principal, route, plan, &meter)
    }

    /// Rate limits, payload checks and the version choice (weighted, or the one named in the path).
    func plan(
        _ request: HTTPRequest, _ principal: GatewayPrincipal, _ route: DeploymentRoute,
        _ series: GatewayMetrics.DeploymentSeries, _ meter: inout UsageMeter
    ) throws(HTTPError) -> InferPlan {
        try checkRateLimits(principal, series)
        try checkPayload(request, limit: route.maxPayloadBytes)

        let state = deployments.state(tenantID: principal.tenantID, route: route)
        let versionIndex: Int
        if let wanted = request.pathParameters["version"] {
            versionIndex = try self.versionIndex(route, named: wanted)
        } else {
            guard let index = state.chooseVersion(routingKey: request.headers["Plinth-Routing-Key"]) else {
                throw HTTPError(503, "deployment '\(route.name)' has no version receiving traffic")
            }
            versionIndex = index
        }
        let version = route.versions[versionIndex]
        meter.version = version.version
        return InferPlan(state: state, versionIndex: versionIndex, version: version)
    }

    /// The 503 for a full queue or a queue wait past the deadline.
    func overloaded(_ route: DeploymentRoute, _ series: GatewayMetrics.DeploymentSeries, retryAfter: Int)
        -> HTTPError
    {
        series.overloaded.inc()
        return HTTPError(
            503, "deployment '\(route.name)' is overloaded, retry later", headers: ["Retry-After": String(retryAfter)])
    }

    /// The runtime answered: take its usage headers, mirror to the shadow (off this path), and
    /// build the caller's response.
    func answer(
        _ upstream: HTTPClientResponse, _ request: HTTPRequest, _ principal: GatewayPrincipal,
        _ route: DeploymentRoute, _ plan: InferPlan, _ meter: inout UsageMeter
    ) -> HTTPResponse {
        meter.absorbRuntimeHeaders(upstream.headers)
        if let shadow = route.shadow, let shadowBalancer = plan.state.shadow,
            RequestSample.keeps(request.requestID, fraction: route.shadowPercent / 100, salt: RequestSample.shadowSalt)
        {
            let accepted = shadows.offer(
                ShadowJob(
                    request: ForwardedRequest.make(from: request, version: shadow, body: request.body),
                    tenantID: principal.tenantID, tenantName: principal.tenantName, apiKeyID: principal.keyID ?? "",
                    deployment: route.name, balancer: shadowBalancer, timeout: route.requestTimeout,
                    primaryStatus: upstream.status,
                    requestID: request.requestID, bytesIn: request.body.count))
            if !accepted { metrics.shadow("dropped") }
        }
        if let policy = route.payloadLogging, let payloads,
            RequestSample.keeps(request.requestID, fraction: policy.sampleRate, salt: RequestSample.payloadSalt)
        {
            payloads.offer(
                PayloadRecord(
                    requestID: request.requestID, tenant: principal.tenantName, deployment: route.name,
                    version: plan.version.version, timestampMicros: GatewayClock.wallMicros(), status: upstream.status,
                    requestBody: request.body, requestContentType: request.headers["Content-Type"],
                    requestIsBinary: request.headers["Inference-Header-Content-Length"] != nil,
                    responseBody: upstream.body, responseContentType: upstream.headers["Content-Type"],
                    responseIsBinary: upstream.headers["Inference-Header-Content-Length"] != nil, policy: policy))
        }
        return Gateway.callerResponse(upstream, version: plan.version.version)
    }

    /// The runtime's answer as the caller gets it: status and body untouched, only the content
    /// headers passed through, plus the version that served it.
    static func callerResponse(_ upstream: HTTPClientResponse, version: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.reserveCapacity(4)  // the server adds X-Request-Id
        if let type = upstream.headers["Content-Type"] { headers.add("Content-Type", type) }
        if let length = upstream.headers["Inference-Header-Content-Length"] {
            headers.add("Inference-Header-Content-Length", length)
        }
        headers.add("Plinth-Model-Version", version)
        return HTTPResponse(status: upstream.status, headers: headers, body: .bytes(upstream.body))
    }

    /// Per-key and per-tenant token buckets, charged together → 429 with Retry-After.
    private func checkRateLimits(_ principal: GatewayPrincipal, _ series: GatewayMetrics.DeploymentSeries)
        throws(HTTPError)
    {
        let keyLimit = principal.keyID == nil ? nil : Gateway.rateLimit(principal.keyRequestsPerSecond)
        let tenantLimit = Gateway.rateLimit(principal.tenantRequestsPerSecond)
        guard keyLimit != nil || tenantLimit != nil else { return }
        let decision = rateLimiter.check(
            apiKey: principal.keyID ?? "", keyLimit: keyLimit, tenant: principal.tenantID, tenantLimit: tenantLimit)
        if let retryAfter = decision.retryAfterSeconds {
            series.rateLimited.inc()
            throw HTTPError(429, "rate limit exceeded", headers: ["Retry-After": String(retryAfter)])
        }
    }

    /// A positive, finite rate as a bucket with one second's burst (at least 1); else unlimited.
    static func rateLimit(_ perSecond: Double?) -> RateLimit? {
        guard let perSecond, perSecond > 0, perSecond.isFinite else { return nil }
        return RateLimit(ratePerSecond: perSecond, burst: max(1, perSecond))
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
    /// The usage record is appended pending; the HTTP server's delivery reports settle it as
    /// delivered (billed) or abandoned, so a crash between the two never bills an unsent answer.
    func finish(
        _ response: consuming HTTPResponse, _ series: GatewayMetrics.DeploymentSeries, _ meter: inout UsageMeter
    ) -> HTTPResponse {
        let end = GatewayClock.now()
        let bytesOut: Int
        if case .bytes(let body) = response.body { bytesOut = body.count } else { bytesOut = 0 }
        let event = meter.event(status: response.status, end: end, bytesOut: bytesOut)
        if let journal {
            do {
                let ticket = try journal.appendPending(event)
                response.delivery = { ticket.record($0) }
            } catch {
                // Unmetered work must not be handed out: answer 503 instead.
                logger.error("usage journal append failed", ["error": .string(String(describing: error))])
                response = Gateway.response(
                    HTTPError(503, "usage metering unavailable, retry later", headers: ["Retry-After": "1"]),
                    requestID: meter.requestID)
            }
        }
        metrics.requestFinished(meter: meter, series: series, status: response.status, end: end)
        return response
    }
}

extension UsageTicket {
    /// Follows the HTTP server's reports: "sent" is recorded before the send that may complete
    /// the response (a kill during the system call still completes it), taken back if the send
    /// fell short.
    func record(_ progress: HTTPDelivery) {
        switch progress {
        case .sending: mark(.sending)
        case .incomplete: mark(.pending)
        case .delivered: mark(.delivered)
        case .failed: mark(.abandoned)
        }
    }
}
