/// Everything the gateway needs to authenticate and route a prediction, built by the control plane
/// from its database. Immutable; a newer snapshot has a larger `version`.
public struct RoutingSnapshot: Sendable, Codable {
    /// Grows with every change to keys, tenants, deployments or versions (also across restarts).
    public var version: Int64
    /// Active (not revoked) API keys by key id. Expired keys are included; check `expiresAt`.
    public var apiKeys: [String: RoutingAPIKey]
    /// Every tenant by name.
    public var tenants: [String: RoutingTenant]
    /// Deployments by tenant name, then deployment name.
    public var deployments: [String: [String: RoutingDeployment]]

    public init(
        version: Int64, apiKeys: [String: RoutingAPIKey] = [:], tenants: [String: RoutingTenant] = [:],
        deployments: [String: [String: RoutingDeployment]] = [:]
    ) {
        self.version = version
        self.apiKeys = apiKeys
        self.tenants = tenants
        self.deployments = deployments
    }

    /// The deployment `name` of `tenant`, if any.
    public func deployment(tenant: String, name: String) -> RoutingDeployment? {
        deployments[tenant]?[name]
    }
}

/// An active API key as the gateway sees it. The secret is never here, only its SHA-256.
public struct RoutingAPIKey: Sendable, Codable, Hashable {
    public var id: String
    /// SHA-256 of the secret part (the text after `plk_<id>_`), compare in constant time.
    public var secretSHA256: [UInt8]
    public var tenant: String
    public var role: Role
    /// Deployment names the key is limited to; nil means every deployment of the tenant.
    public var deployments: [String]?
    /// Unix seconds; nil means no expiry.
    public var expiresAt: Int64?

    public init(
        id: String, secretSHA256: [UInt8], tenant: String, role: Role, deployments: [String]?, expiresAt: Int64?
    ) {
        self.id = id
        self.secretSHA256 = secretSHA256
        self.tenant = tenant
        self.role = role
        self.deployments = deployments
        self.expiresAt = expiresAt
    }

    /// Whether the key is expired at `now` (unix seconds).
    public func isExpired(now: Int64) -> Bool {
        if let expiresAt { return now >= expiresAt }
        return false
    }

    /// Whether the key may be used for deployment `name`.
    public func allows(deployment name: String) -> Bool {
        deployments.map { $0.contains(name) } ?? true
    }
}

/// A tenant's switches and limits that the gateway enforces.
public struct RoutingTenant: Sendable, Codable, Hashable {
    public var name: String
    /// A suspended tenant's calls all get 403.
    public var suspended: Bool
    /// Requests per second across the tenant; nil means unlimited.
    public var maxRequestsPerSecond: Int?

    public init(name: String, suspended: Bool, maxRequestsPerSecond: Int?) {
        self.name = name
        self.suspended = suspended
        self.maxRequestsPerSecond = maxRequestsPerSecond
    }
}
