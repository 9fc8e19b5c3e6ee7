/// A caller's role. `admin` is platform-wide; the others are held within one tenant.
public enum Role: String, Sendable, Codable, CaseIterable, Hashable {
    /// Platform administrator: every tenant, every action.
    case admin
    /// Tenant owner: everything inside the tenant, including users, keys and the audit log.
    case owner
    /// Uploads models and manages deployments.
    case developer
    /// Calls prediction endpoints only.
    case invoker
    /// Reads the tenant's objects, usage and billing.
    case viewer

    /// Whether a holder of `self` may hand out `other` (to a new user or an API key).
    /// Roles form a small lattice: invoker and viewer are incomparable leaves under developer.
    public func canGrant(_ other: Role) -> Bool {
        switch self {
        case .admin: return true
        case .owner: return other != .admin
        case .developer: return other == .developer || other == .invoker || other == .viewer
        case .invoker: return other == .invoker
        case .viewer: return other == .viewer
        }
    }

    /// Whether the role may call prediction endpoints.
    public var mayPredict: Bool { self != .viewer }
}
