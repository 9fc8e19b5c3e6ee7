import PlinthHTTP

/// Liveness and readiness routes answered on the event loop (no thread hop).
enum HealthRoutes {
    static let okBody = Array(#"{"status":"ok"}"#.utf8)

    static func register(on router: Router) {
        let onLoop = RouteOptions(runsOnEventLoop: true)
        router.add(.GET, "/healthz", options: onLoop) { _ in .jsonBytes(okBody) }
        router.add(.GET, "/v2/health/live", options: onLoop) { _ in .jsonBytes(#"{"live":true}"#.utf8.map { $0 }) }
        router.add(.GET, "/v2/health/ready", options: onLoop) { _ in .jsonBytes(#"{"ready":true}"#.utf8.map { $0 }) }
    }
}
