import Foundation
import PlinthControl
import PlinthCore
import PlinthGateway
import PlinthHTTP

/// The gateway's directory in `plinth serve`: credentials are checked by the control plane's
/// in-memory identity index (no query per request; Basic is cached and throttled before any
/// hashing); tenants' switches come from the routing snapshot; routes from the local
/// scheduler's table of ready replicas.
struct ControlPlaneDirectory: GatewayDirectory {
    let control: ControlPlane
    let scheduler: LocalScheduler

    func authenticate(_ credential: GatewayCredential, remoteAddress: String) throws -> GatewayPrincipal {
        let presented: PresentedCredential
        var keyID: String?
        switch credential {
        case .apiKey(let id, let secret):
            presented = .apiKey(id: id, secret: secret)
            keyID = id
        case .bearer(let token): presented = .bearer(token: token)
        case .basic(let user, let password): presented = .basic(user: user, password: password)
        }
        let found: Principal
        do {
            found = try control.identify(presented, remoteAddress: remoteAddress)
        } catch {
            switch error {
            case .invalid: throw GatewayAuthError.invalid
            case .suspended: throw GatewayAuthError.suspended
            case .throttled(let seconds): throw GatewayAuthError.throttled(retryAfter: seconds)
            }
        }
        guard let tenant = found.tenant else {
            throw GatewayAuthError.forbidden("platform admins have no tenant; call with a tenant's credential")
        }
        switch found.role {
        case .owner, .developer, .invoker: break
        case .viewer: throw GatewayAuthError.forbidden("role viewer may not invoke deployments")
        case .admin: throw GatewayAuthError.forbidden("platform admins have no tenant")
        }
        let info = control.routingSnapshot().tenants[tenant]
        if info?.suspended ?? true { throw GatewayAuthError.suspended }
        return GatewayPrincipal(
            tenantID: tenant, tenantName: tenant, keyID: keyID, subject: found.name, role: found.role.rawValue,
            deploymentScope: found.deployments,
            tenantRequestsPerSecond: info?.maxRequestsPerSecond.map(Double.init), keyRequestsPerSecond: nil)
    }

    func route(tenantID: String, deployment: String) -> DeploymentRoute? {
        scheduler.route(tenant: tenantID, deployment: deployment)
    }
}
