import Foundation
import PlinthCore
import PlinthHTTP
import PlinthStore

extension ControlPlane {
    func tenantRoutes() -> [RouteDefinition] {
        [
            RouteDefinition(
                .GET, "/v1/tenants", id: "listTenants", "Tenants: all for admins, the caller's own otherwise.",
                tag: "tenants", access: .authenticated, response: "TenantPage", query: ["limit", "cursor", "label"]
            ) { [self] context in try listTenants(context) },
            RouteDefinition(
                .POST, "/v1/tenants", id: "createTenant", "Create a tenant.", tag: "tenants", access: .admin,
                request: "CreateTenantRequest", status: 201, response: "Tenant"
            ) { [self] context in try createTenant(context) },
            RouteDefinition(
                .GET, "/v1/tenants/{tenant}", id: "getTenant", "A tenant with its quotas and current usage.",
                tag: "tenants", access: .tenant(Roles.readers), response: "Tenant"
            ) { [self] context in .json(try tenantView(try context.parameter("tenant"), withUsage: true)) },
            RouteDefinition(
                .PATCH, "/v1/tenants/{tenant}", id: "updateTenant", "Change display name, labels or quotas.",
                tag: "tenants", access: .admin, request: "UpdateTenantRequest", response: "Tenant"
            ) { [self] context in try updateTenant(context) },
            RouteDefinition(
                .POST, "/v1/tenants/{tenant}/suspend", id: "suspendTenant",
                "Suspend a tenant: all its calls get 403 until resumed.", tag: "tenants", access: .admin,
                response: "Tenant"
            ) { [self] context in try setSuspended(context, true) },
            RouteDefinition(
                .POST, "/v1/tenants/{tenant}/resume", id: "resumeTenant", "Lift a suspension.", tag: "tenants",
                access: .admin, response: "Tenant"
            ) { [self] context in try setSuspended(context, false) },
            RouteDefinition(
                .DELETE, "/v1/tenants/{tenant}", id: "deleteTenant",
                "Delete a tenant with everything it owns, artifacts included.", tag: "tenants", access: .admin,
                status: 204
            ) { [self] context in try deleteTenant(context) },
        ]
    }

    private func listTenants(_ context: RequestContext) throws -> HTTPResponse {
        let principal = try context.caller()
        let list = try ListQuery(context.request)
        var (conditions, args) = list.conditions(keyColumn: "t.name", alias: "t")
        if !principal.isAdmin {
            conditions.append("t.name = ?")
            args.append(principal.tenant ?? "")
            if principal.role == .invoker || principal.deployments != nil {
                throw ControlError.forbidden("role \(principal.role.rawValue) may not listTenants")
            }
        }
        args.append(list.limit)
        let whereSQL = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let rows = try store.read { db in
            try db.query("SELECT * FROM tenants t \(whereSQL) ORDER BY t.name LIMIT ?", args)
        }
        let items = try rows.map { try Self.tenantView(from: $0, usage: nil) }
        return .json(list.page(items) { $0.name })
    }

    private func createTenant(_ context: RequestContext) throws -> HTTPResponse {
        let body = try context.request.decodeJSON(CreateTenantRequest.self)
        guard Validation.isDNSLabel(body.name) else {
            throw ControlError.invalid(field: "name", message: "must be a DNS label (1-63 of a-z, 0-9, -)")
        }
        try Validation.checkLabels(body.labels)
        let quotas = body.quotas ?? TenantQuotas()
        try quotas.validate()
        let now = Authenticator.now()
        try store.write { db in
            if try db.queryOne("SELECT 1 AS one FROM tenants WHERE name = ?", body.name) != nil {
                throw ControlError.conflict("tenant \(body.name) already exists")
            }
            try db.execute(
                """
                INSERT INTO tenants (name, display_name, labels, max_models, max_artifact_bytes, max_replicas,
                    max_gpu_replicas, max_rps, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, body.name, body.displayName ?? body.name, JSONColumn.encode(body.labels ?? [:]), quotas.maxModels,
                quotas.maxArtifactBytes, quotas.maxReplicas, quotas.maxGPUReplicas, quotas.maxRequestsPerSecond, now,
                now)
        }
        return .json(try tenantView(body.name, withUsage: false), status: 201)
    }

    private func updateTenant(_ context: RequestContext) throws -> HTTPResponse {
        let name = try context.parameter("tenant")
        let body = try context.request.decodeJSON(UpdateTenantRequest.self)
        try Validation.checkLabels(body.labels)
        try body.quotas?.validate()
        try store.write { db in
            guard try db.queryOne("SELECT 1 AS one FROM tenants WHERE name = ?", name) != nil else {
                throw ControlError.notFound("tenant not found")
            }
            let now = Authenticator.now()
            if let displayName = body.displayName {
                try db.execute(
                    "UPDATE tenants SET display_name = ?, updated_at = ? WHERE name = ?", displayName, now, name)
            }
            if let labels = body.labels {
                try db.execute(
                    "UPDATE tenants SET labels = ?, updated_at = ? WHERE name = ?", JSONColumn.encode(labels), now, name
                )
            }
            if let q = body.quotas {
                try db.execute(
                    """
                    UPDATE tenants SET max_models = ?, max_artifact_bytes = ?, max_replicas = ?, max_gpu_replicas = ?,
                        max_rps = ?, updated_at = ? WHERE name = ?
                    """, q.maxModels, q.maxArtifactBytes, q.maxReplicas, q.maxGPUReplicas, q.maxRequestsPerSecond, now,
                    name)
            }
        }
        return .json(try tenantView(name, withUsage: true))
    }

    private func setSuspended(_ context: RequestContext, _ suspended: Bool) throws -> HTTPResponse {
        let name = try context.parameter("tenant")
        try store.write { db in
            try db.execute(
                "UPDATE tenants SET suspended = ?, updated_at = ? WHERE name = ?", suspended, Authenticator.now(), name)
        }
        if suspended { authenticator.basicCache.invalidate(tenant: name) }
        return .json(try tenantView(name, withUsage: false))
    }

    private func deleteTenant(_ context: RequestContext) throws -> HTTPResponse {
        let name = try context.parameter("tenant")
        try store.write { db in
            let digests = try db.query("SELECT DISTINCT sha256 FROM model_versions WHERE tenant = ?", name)
                .compactMap { $0.optionalString("sha256") }
            // Children first where no cascade reaches them (versions hang off models).
            try db.execute("DELETE FROM model_versions WHERE tenant = ?", name)
            try db.execute("DELETE FROM tenants WHERE name = ?", name)
            try blobs.removeUnreferenced(digests, db: db)
        }
        authenticator.basicCache.invalidate(tenant: name)
        return HTTPResponse(status: 204)
    }

    /// The tenant view by name; 404 when it does not exist.
    func tenantView(_ name: String, withUsage: Bool) throws -> TenantView {
        try store.read { db in
            guard let row = try db.queryOne("SELECT * FROM tenants WHERE name = ?", name) else {
                throw ControlError.notFound("tenant not found")
            }
            return try Self.tenantView(from: row, usage: withUsage ? try Self.usage(of: name, db: db) : nil)
        }
    }

    static func quotas(from row: Row) -> TenantQuotas {
        TenantQuotas(
            maxModels: row.optionalInt("max_models"), maxArtifactBytes: row.optionalInt64("max_artifact_bytes"),
            maxReplicas: row.optionalInt("max_replicas"), maxGPUReplicas: row.optionalInt("max_gpu_replicas"),
            maxRequestsPerSecond: row.optionalInt("max_rps"))
    }

    private static func tenantView(from row: Row, usage: TenantUsage?) throws -> TenantView {
        TenantView(
            name: try row.string("name"), displayName: try row.string("display_name"),
            labels: JSONColumn.labels(row.optionalString("labels")), suspended: try row.bool("suspended"),
            quotas: quotas(from: row), usage: usage,
            createdAt: Date(timeIntervalSince1970: Double(try row.int64("created_at"))),
            updatedAt: Date(timeIntervalSince1970: Double(try row.int64("updated_at"))))
    }

    /// Current use of a tenant's quotas; replicas count each deployment's maxReplicas.
    static func usage(of tenant: String, db: Connection) throws -> TenantUsage {
        let models = try db.queryOne("SELECT COUNT(*) AS n FROM models WHERE tenant = ?", tenant)?.int("n") ?? 0
        let bytes =
            try db.queryOne("SELECT COALESCE(SUM(size_bytes), 0) AS n FROM model_versions WHERE tenant = ?", tenant)?
            .int64("n") ?? 0
        var replicas = 0
        var gpuReplicas = 0
        for row in try db.query(
            """
            SELECT d.spec, COALESCE(c.gpu_count, 0) AS gpus FROM deployments d
            LEFT JOIN instance_classes c ON c.name = json_extract(d.spec, '$.instanceClass') WHERE d.tenant = ?
            """, tenant)
        {
            let spec = JSONColumn.decode(DeploymentSpec.self, row.optionalString("spec"))
            let count = spec?.maxReplicas ?? 0
            replicas += count
            if (row.optionalInt("gpus") ?? 0) > 0 { gpuReplicas += count }
        }
        return TenantUsage(models: models, artifactBytes: bytes, replicas: replicas, gpuReplicas: gpuReplicas)
    }
}

/// Role sets used by the route table.
enum Roles {
    /// May read the tenant's objects.
    static let readers: Set<Role> = [.owner, .developer, .viewer]
    /// May upload models and change deployments.
    static let builders: Set<Role> = [.owner, .developer]
    /// May manage users.
    static let owners: Set<Role> = [.owner]
    /// May manage API keys (each within their own role).
    static let keyManagers: Set<Role> = [.owner, .developer]
}
