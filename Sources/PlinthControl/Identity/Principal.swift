import PlinthCore

/// Who is calling, as established by the authenticator.
public struct Principal: Sendable, Hashable {
    /// How the caller proved who it is.
    public enum Credential: Sendable, Hashable {
        case password
        case token
        case apiKey(id: String)
    }

    /// Users table id for users (also when the credential is a token); nil for API keys.
    public var userID: Int64?
    /// Username, or `key:<id>` for an API key; what the audit log records as the actor.
    public var name: String
    /// The caller's tenant; nil for platform admins.
    public var tenant: String?
    public var role: Role
    public var credential: Credential
    /// For API keys limited to named deployments; nil means unrestricted.
    public var deployments: [String]?

    public init(
        userID: Int64?, name: String, tenant: String?, role: Role, credential: Credential, deployments: [String]? = nil
    ) {
        self.userID = userID
        self.name = name
        self.tenant = tenant
        self.role = role
        self.credential = credential
        self.deployments = deployments
    }

    public var isAdmin: Bool { role == .admin }
}
