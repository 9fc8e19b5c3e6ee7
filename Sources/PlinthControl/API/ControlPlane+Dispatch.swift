import PlinthCore
import PlinthHTTP
import PlinthStore

extension ControlPlane {
    /// Authenticates, authorizes, runs the handler, maps errors, and audits mutating calls.
    func run(_ route: RouteDefinition, _ request: HTTPRequest) throws -> HTTPResponse {
        var context = RequestContext(request: request, principal: nil)
        var response: HTTPResponse
        do {
            if case .anonymous = route.access {
            } else {
                context.principal = try authenticator.authenticate(request, index: try currentState().identity)
            }
            try authorize(route, context)
            response = try route.handler(context)
        } catch {
            let mapped = Self.httpError(for: error)
            if route.isMutating { audit(route, context, status: mapped?.status ?? 500) }
            if let mapped { throw mapped }
            throw error
        }
        if route.isMutating {
            audit(route, context, status: response.status)
            // A login, node tokens and the worker protocol change nothing the identity index or
            // routing snapshot hold.
            if response.status < 400, route.operationID != "createToken", !route.pattern.hasPrefix("/v1/workers") {
                bumpGeneration()
            }
        }
        return response
    }

    /// The one place errors become HTTP statuses; nil means an internal error (500).
    static func httpError(for error: any Error) -> HTTPError? {
        switch error {
        case let error as ControlError: return error.httpError
        case let error as HTTPError: return error
        case let error as StoreError where error.isUniqueViolation: return HTTPError(409, "already exists")
        case let error as HTTPBodyError:
            switch error {
            case .tooLarge(let limit): return HTTPError(413, "body larger than \(limit) bytes")
            case .timedOut: return HTTPError(408, "request body timed out")
            case .malformed(let message): return HTTPError(400, "malformed body: \(message)")
            case .disconnected: return HTTPError(400, "client disconnected")
            }
        default: return nil
        }
    }

    private func authorize(_ route: RouteDefinition, _ context: RequestContext) throws {
        guard let principal = context.principal else { return }
        switch route.access {
        case .anonymous, .authenticated:
            return
        case .admin:
            guard principal.isAdmin else { throw ControlError.forbidden("platform admin role required") }
        case .tenant(let roles):
            let tenant = try context.parameter("tenant")
            if principal.isAdmin {
                guard try tenantExists(tenant) else { throw ControlError.notFound("tenant not found") }
            } else {
                guard principal.tenant == tenant else { throw ControlError.notFound("tenant not found") }
                guard roles.contains(principal.role) else {
                    throw ControlError.forbidden("role \(principal.role.rawValue) may not \(route.operationID)")
                }
            }
            if let scope = principal.deployments {
                guard let deployment = context.request.pathParameters["deployment"], scope.contains(deployment) else {
                    throw ControlError.forbidden("API key is limited to deployments \(scope.joined(separator: ","))")
                }
            }
        }
    }

    func tenantExists(_ name: String) throws -> Bool {
        try store.read { db in try db.queryOne("SELECT 1 AS one FROM tenants WHERE name = ?", name) != nil }
    }
}
