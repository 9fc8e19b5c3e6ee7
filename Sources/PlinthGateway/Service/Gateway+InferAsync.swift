import PlinthCore
import PlinthHTTP

extension Gateway {
    /// `infer` on the event loop, nginx-style: auth from the cache (or the in-memory directory),
    /// routing, admission (a queued request resumes on its loop), least-outstanding pick, forward
    /// through the loop's non-blocking upstream client, meter, answer — no thread hop. A Basic
    /// credential that misses the cache (a PBKDF2 hash) runs the blocking `infer` on the handler
    /// pool; without a loop (`Router.handle`) the blocking path runs inline.
    func inferAsync(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard let loop = request.eventLoop, loop.inEventLoop else {
            responder.complete(infer(request))
            return
        }
        let start = GatewayClock.now()
        let name = request.pathParameters["deployment"] ?? ""
        let principal: GatewayPrincipal
        let route: DeploymentRoute
        do throws(HTTPError) {
            guard let known = try authenticate(request, mayBlock: false) else {
                loop.offload { [self] in responder.complete(infer(request)) }
                return
            }
            principal = known
            if Gateway.isReadOnly(principal.role) {
                throw HTTPError(403, "role '\(principal.role)' may not invoke deployments")
            }
            route = try resolve(principal, name)
        } catch {
            metrics.rejectedBeforeRouting(status: error.status)
            responder.complete(Gateway.response(error, requestID: request.requestID))
            return
        }
        let call = InferCall(
            request: request, principal: principal, route: route, responder: responder, loop: loop,
            meter: UsageMeter(
                principal: principal, deployment: route.name, start: start, bytesIn: request.body.count,
                requestID: request.requestID),
            series: metrics.series(tenant: principal.tenantName, deployment: route.name))
        let plan: InferPlan
        do throws(HTTPError) {
            plan = try self.plan(request, principal, route, call.series, &call.meter)
        } catch {
            call.finish(self, Gateway.response(error, requestID: request.requestID))
            return
        }
        call.plan = plan
        let queueGauge = call.series.queueDepth
        // Counted as queued before asking: a queued request's callback may run on another thread
        // before `admit` returns here.
        queueGauge.inc()
        let decision = plan.state.admission.admit(affinity: loop.index) { [self] outcome in
            // Runs on whichever thread freed the slot: continue on the request's own loop.
            queueGauge.dec()
            loop.execute { [self] in admitted(call, outcome) }
        }
        switch decision {
        case .started(let permit):
            queueGauge.dec()
            forward(call, permit)
        case .rejected(let retryAfter):
            queueGauge.dec()
            call.finish(
                self,
                Gateway.response(
                    overloaded(route, call.series, retryAfter: retryAfter),
                    requestID: request.requestID))
        case .queued: break
        }
    }

    /// A queued request's turn came (or its wait ran out), back on its loop.
    private func admitted(_ call: InferCall, _ outcome: AdmissionOutcome) {
        switch outcome {
        case .started(let permit):
            let deadline = call.meter.start + GatewayClock.nanoseconds(call.route.requestTimeout)
            if GatewayClock.now() >= deadline {
                // Waited past this request's own timeout: give the slot straight back.
                call.plan?.state.admission.release(permit, affinity: call.loop.index)
                call.finish(self, overloadedResponse(call, retryAfter: 1))
                return
            }
            forward(call, permit)
        case .timedOut(let retryAfter):
            call.finish(self, overloadedResponse(call, retryAfter: retryAfter))
        }
    }

    private func overloadedResponse(_ call: InferCall, retryAfter: Int) -> HTTPResponse {
        Gateway.response(overloaded(call.route, call.series, retryAfter: retryAfter), requestID: call.request.requestID)
    }

    /// Holds a slot: forward on the loop, then release, meter and answer.
    private func forward(_ call: InferCall, _ permit: AdmissionPermit) {
        guard let plan = call.plan else { return }
        call.meter.gatewayQueueMicros = Int64(permit.queuedNanos / 1_000)
        // `call.request` throughout, not a local copy: a copy retains every field of the request
        // and the completion would box another.
        let forwarded = ForwardedRequest.make(from: call.request, version: plan.version, body: call.request.body)
        call.series.inFlight.inc()
        forward(
            forwarded, to: plan.state.versions[plan.versionIndex], loop: call.loop, timeout: call.route.requestTimeout
        ) { [self] result in
            call.series.inFlight.dec()
            plan.state.admission.release(permit, affinity: call.loop.index)
            let response: HTTPResponse
            switch result {
            case .success(let upstream):
                response = answer(upstream, call.request, call.principal, call.route, plan, &call.meter)
            case .failure(let error):
                response = Gateway.response(error, requestID: call.request.requestID)
            }
            // Moved explicitly: passed implicitly, the fields were still shared and the server's
            // X-Request-Id copied them (callgrind).
            call.finish(self, consume response)
        }
    }
}

/// One prediction request in flight on an event loop.
///
/// `@unchecked Sendable` because it crosses threads only through hand-overs that order the
/// accesses: the admission controller's lock (a queued request's callback) and the loop's
/// mailbox (`execute`). At any time one thread — normally the request's own loop — touches it.
final class InferCall: @unchecked Sendable {
    let request: HTTPRequest
    let principal: GatewayPrincipal
    let route: DeploymentRoute
    let responder: HTTPResponder
    let loop: HTTPEventLoop
    let series: GatewayMetrics.DeploymentSeries
    var meter: UsageMeter
    var plan: Gateway.InferPlan?

    init(
        request: HTTPRequest, principal: GatewayPrincipal, route: DeploymentRoute, responder: HTTPResponder,
        loop: HTTPEventLoop, meter: UsageMeter, series: GatewayMetrics.DeploymentSeries
    ) {
        self.request = request
        self.principal = principal
        self.route = route
        self.responder = responder
        self.loop = loop
        self.meter = meter
        self.series = series
    }

    /// Meters (journal, then metrics) and answers.
    func finish(_ gateway: Gateway, _ response: consuming HTTPResponse) {
        responder.complete(gateway.finish(response, series, &meter))
    }
}
