import Foundation
import PlinthGateway
import PlinthHTTP
import Synchronization

/// Test double for the control plane / data plane seam: keys, tokens and routes held in memory,
/// changed by the tests. Not a product implementation.
final class GatewayTestDirectory: GatewayDirectory {
    private struct State {
        var keys: [String: (secret: String, principal: GatewayPrincipal)] = [:]
        var keyErrors: [String: GatewayAuthError] = [:]
        var tokens: [String: GatewayPrincipal] = [:]
        var routes: [String: DeploymentRoute] = [:]
        var authCalls = 0
        var users: [String: (password: String, principal: GatewayPrincipal)] = [:]
        var basicThreads: [String] = []
    }

    private let state = Mutex(State())

    func addKey(id: String, secret: String, _ principal: GatewayPrincipal) {
        state.withLock { $0.keys[id] = (secret, principal) }
    }

    /// Makes authentication of key `id` fail with `error` (suspension, throttling…).
    func failKey(id: String, with error: GatewayAuthError?) {
        state.withLock { $0.keyErrors[id] = error }
    }

    func addToken(_ token: String, _ principal: GatewayPrincipal) {
        state.withLock { $0.tokens[token] = principal }
    }

    func setRoute(tenantID: String, _ route: DeploymentRoute) {
        state.withLock { $0.routes[tenantID + "/" + route.name] = route }
    }

    /// A Basic-auth user (the real directory hashes the password: a blocking call).
    func addUser(_ name: String, password: String, _ principal: GatewayPrincipal) {
        state.withLock { $0.users[name] = (password, principal) }
    }

    /// Names of the threads Basic credentials were checked on.
    var basicThreads: [String] { state.withLock { $0.basicThreads } }

    var authCalls: Int { state.withLock { $0.authCalls } }

    func authenticate(_ credential: GatewayCredential, remoteAddress: String) throws -> GatewayPrincipal {
        try state.withLock { s in
            s.authCalls += 1
            switch credential {
            case .apiKey(let id, let secret):
                if let error = s.keyErrors[id] { throw error }
                guard let key = s.keys[id], key.secret == secret else { throw GatewayAuthError.invalid }
                return key.principal
            case .bearer(let token):
                guard let principal = s.tokens[token] else { throw GatewayAuthError.invalid }
                return principal
            case .basic(let user, let password):
                s.basicThreads.append(Thread.current.name ?? "")
                guard let entry = s.users[user], entry.password == password else { throw GatewayAuthError.invalid }
                return entry.principal
            }
        }
    }

    func route(tenantID: String, deployment: String) -> DeploymentRoute? {
        state.withLock { $0.routes[tenantID + "/" + deployment] }
    }
}
