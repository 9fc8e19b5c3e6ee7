import PlinthCore
import PlinthStore

/// Users, active API keys and tenant suspension, held in memory so authentication costs no
/// database read. Rebuilt (with the routing snapshot) after every successful change, so a
/// revocation, password change or suspension applies to the very next request.
struct IdentityIndex: Sendable {
    struct User: Sendable {
        var id: Int64
        var username: String
        var tenant: String?
        var role: Role
        var passwordHash: String
        var passwordVersion: Int

        func principal(credential: Principal.Credential) -> Principal {
            Principal(userID: id, name: username, tenant: tenant, role: role, credential: credential)
        }
    }

    var usersByID: [Int64: User] = [:]
    var userIDsByName: [String: Int64] = [:]
    var keys: [String: RoutingAPIKey] = [:]
    /// Tenant name → suspended; a missing tenant counts as suspended.
    var suspended: [String: Bool] = [:]

    func user(named name: String) -> User? { userIDsByName[name].flatMap { usersByID[$0] } }

    func isSuspended(_ tenant: String) -> Bool { suspended[tenant] ?? true }

    static func load(db: Connection, snapshot: RoutingSnapshot) throws -> IdentityIndex {
        var index = IdentityIndex()
        index.keys = snapshot.apiKeys
        index.suspended = snapshot.tenants.mapValues(\.suspended)
        for row in try db.query("SELECT id, username, tenant, role, password_hash, password_version FROM users") {
            guard let role = Role(rawValue: try row.string("role")) else { continue }
            let user = User(
                id: try row.int64("id"), username: try row.string("username"), tenant: row.optionalString("tenant"),
                role: role, passwordHash: try row.string("password_hash"),
                passwordVersion: try row.int("password_version"))
            index.usersByID[user.id] = user
            index.userIDsByName[user.username] = user.id
        }
        return index
    }
}
