import Foundation
import PlinthControl
import PlinthCore
import PlinthCrypto
import PlinthGateway
import PlinthHTTP

/// The gateway's directory in `plinth serve`: API keys are checked against the control plane's
/// in-memory routing snapshot (no query per request); JWT and Basic go through the control
/// plane's authenticator (which caches verified Basic credentials and throttles failures).
/// Routes come from the local scheduler's table of ready replicas.
struct ControlPlaneDirectory: GatewayDirectory {
    let control: ControlPlane
    let scheduler: LocalScheduler

    func authenticate(_ credential: GatewayCredential, remoteAddress: String) throws -> GatewayPrincipal {
        let snapshot = control.routingSnapshot()
        switch credential {
        case .apiKey(let id, let secret):
            let presented = SHA256.hash(secret)
            guard let key = snapshot.apiKeys[id], constantTimeEquals(presented, key.secretSHA256) else {
                throw GatewayAuthError.invalid
            }
            if key.isExpired(now: Int64(Date().timeIntervalSince1970)) { throw GatewayAuthError.invalid }
            let principal = try principal(
                tenant: key.tenant, role: key.role, subject: "key:\(id)", keyID: id, scope: key.deployments,
                snapshot: snapshot)
            control.recordAPIKeyUse(id: id)
            return principal
        case .bearer(let token):
            return try viaControlPlane("Bearer " + token, remoteAddress: remoteAddress, snapshot: snapshot)
        case .basic(let user, let password):
            let encoded = Data((user + ":" + password).utf8).base64EncodedString()
            return try viaControlPlane("Basic " + encoded, remoteAddress: remoteAddress, snapshot: snapshot)
        }
    }

    func route(tenantID: String, deployment: String) -> DeploymentRoute? {
        scheduler.route(tenant: tenantID, deployment: deployment)
    }

    private func viaControlPlane(_ authorization: String, remoteAddress: String, snapshot: RoutingSnapshot) throws
        -> GatewayPrincipal
    {
        var request = HTTPRequest(method: .POST, path: "/v2", headers: ["Authorization": authorization])
        request.remoteAddress = remoteAddress
        let found: Principal
        do {
            found = try control.authenticate(request)
        } catch let error as HTTPError {
            switch error.status {
            case 429: throw GatewayAuthError.throttled(retryAfter: Int(error.headers["Retry-After"] ?? "") ?? 60)
            case 403: throw GatewayAuthError.suspended
            default: throw GatewayAuthError.invalid
            }
        }
        guard let tenant = found.tenant else {
            throw GatewayAuthError.forbidden("platform admins have no tenant; call with a tenant's credential")
        }
        return try principal(
            tenant: tenant, role: found.role, subject: found.name, keyID: nil, scope: found.deployments,
            snapshot: snapshot)
    }

    private func principal(
        tenant: String, role: Role, subject: String, keyID: String?, scope: [String]?, snapshot: RoutingSnapshot
    ) throws -> GatewayPrincipal {
        guard let info = snapshot.tenants[tenant] else { throw GatewayAuthError.invalid }
        if info.suspended { throw GatewayAuthError.suspended }
        switch role {
        case .owner, .developer, .invoker: break
        case .viewer: throw GatewayAuthError.forbidden("role viewer may not invoke deployments")
        case .admin: throw GatewayAuthError.forbidden("platform admins have no tenant")
        }
        return GatewayPrincipal(
            tenantID: tenant, tenantName: tenant, keyID: keyID, subject: subject, role: role.rawValue,
            deploymentScope: scope, tenantRequestsPerSecond: info.maxRequestsPerSecond.map(Double.init),
            keyRequestsPerSecond: nil)
    }
}
