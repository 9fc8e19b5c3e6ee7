import Foundation
import PlinthCore
import PlinthHTTP
import Synchronization

/// A mirrored request waiting to be sent to a deployment's shadow version.
struct ShadowJob: Sendable {
    var request: HTTPClientRequest
    var tenantID: String
    var tenantName: String
    var apiKeyID: String
    var deployment: String
    var balancer: VersionBalancer
    var timeout: Duration
    var primaryStatus: Int
    var requestID: String
    var bytesIn: Int
}

/// Sends shadow copies off the caller's path: a bounded queue (a full queue drops the copy and
/// counts it) served by a few threads. The shadow's answer is discarded; only whether its status
/// agreed with the primary's is recorded, plus a usage event flagged `shadow`.
final class ShadowMirror: Sendable {
    private struct State: Sendable {
        var jobs: [ShadowJob] = []
        var head = 0
        var stopped = false
        var started = false
        var queued: Int { jobs.count - head }
    }

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)
    private let capacity: Int
    private let workers: Int
    /// Counts jobs finished (sent or failed), for tests that wait on the mirror.
    private let finished = Atomic<Int>(0)

    init(capacity: Int, workers: Int) {
        self.capacity = max(0, capacity)
        self.workers = max(1, workers)
    }

    /// Starts the worker threads once.
    func start(_ gateway: Gateway) {
        let first = state.withLock { s -> Bool in
            defer { s.started = true }
            return !s.started
        }
        guard first, capacity > 0 else { return }
        for index in 0..<workers {
            let thread = Thread { [gateway, self] in
                while let job = self.next() {
                    gateway.sendShadow(job)
                    self.finished.wrappingAdd(1, ordering: .relaxed)
                }
            }
            thread.name = "plinth-shadow-\(index)"
            thread.start()
        }
    }

    /// Queues a copy; never blocks. Returns false when it was dropped.
    @discardableResult
    func offer(_ job: ShadowJob) -> Bool {
        let accepted = state.withLock { s -> Bool in
            guard !s.stopped, s.queued < capacity else { return false }
            if s.head > 64, s.head * 2 > s.jobs.count {
                s.jobs.removeFirst(s.head)
                s.head = 0
            }
            s.jobs.append(job)
            return true
        }
        if accepted { available.signal() }
        return accepted
    }

    func stop() {
        let wake = state.withLock { s -> Bool in
            defer { s.stopped = true }
            return !s.stopped
        }
        if wake { for _ in 0..<workers { available.signal() } }
    }

    var completedCount: Int { finished.load(ordering: .relaxed) }

    private func next() -> ShadowJob? {
        while true {
            available.wait()
            let job = state.withLock { s -> ShadowJob?? in
                if s.stopped { return .some(nil) }
                guard s.queued > 0 else { return nil }
                let job = s.jobs[s.head]
                s.head += 1
                return .some(job)
            }
            if let job { return job }
        }
    }
}

extension Gateway {
    /// Sends one shadow copy and records its agreement and usage. Never touches the caller.
    func sendShadow(_ job: ShadowJob) {
        let start = GatewayClock.now()
        let principal = GatewayPrincipal(
            tenantID: job.tenantID, tenantName: job.tenantName, keyID: job.apiKeyID.isEmpty ? nil : job.apiKeyID,
            subject: "", role: "")
        var meter = UsageMeter(
            principal: principal, deployment: job.deployment, start: start, bytesIn: job.bytesIn,
            requestID: job.requestID)
        meter.version = job.balancer.version
        var status = 503
        var bytesOut = 0
        let balancer = job.balancer
        if let replica = balancer.acquire(excluding: nil) {
            status = 502
            var refused = false
            do {
                let response = try clients.client(timeout: job.timeout).send(
                    replica.addressing(job.request), to: replica.endpoint)
                status = response.status
                bytesOut = response.body.count
                meter.absorbRuntimeHeaders(response.headers)
            } catch HTTPClientError.connectFailed {
                refused = true
            } catch HTTPClientError.timedOut {
                status = 504
            } catch {}
            balancer.finish(replica.id, refused: refused)
        }
        let agree = (status / 100) == (job.primaryStatus / 100)
        metrics.shadow(
            status >= 502 && status <= 504 && job.primaryStatus < 500 ? "failed" : agree ? "agree" : "disagree")
        if let journal {
            do {
                _ = try journal.append(
                    meter.event(status: status, end: GatewayClock.now(), bytesOut: bytesOut, shadow: true))
            } catch {
                logger.error("usage journal append failed (shadow)", ["error": .string(String(describing: error))])
            }
        }
    }
}
