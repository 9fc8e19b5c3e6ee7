import Foundation
import PlinthCore
import PlinthHTTP
import PlinthStore

extension ControlPlane {
    func deploymentRoutes() -> [RouteDefinition] {
        let base = "/v1/tenants/{tenant}/deployments"
        return [
            RouteDefinition(
                .GET, base, id: "listDeployments", "Deployments of a tenant.", tag: "deployments",
                access: .tenant(Roles.readers), response: "DeploymentPage", query: ["limit", "cursor", "label"]
            ) { [self] context in try listDeployments(context) },
            RouteDefinition(
                .GET, base + "/{deployment}", id: "getDeployment", "A deployment's current revision and spec.",
                tag: "deployments", access: .tenant(Roles.readers), response: "Deployment"
            ) { [self] context in
                .json(try deploymentView(try context.parameter("deployment"), tenant: try context.parameter("tenant")))
            },
            RouteDefinition(
                .PUT, base + "/{deployment}", id: "applyDeployment",
                "Create or change a deployment from a declarative spec (201 created, 200 changed or unchanged).",
                tag: "deployments", access: .tenant(Roles.builders), request: "DeploymentSpec", status: 200,
                response: "Deployment"
            ) { [self] context in
                let spec = try DeploymentSpec.decode(context.request.body)
                return try apply(spec, context: context, cause: "apply")
            },
            RouteDefinition(
                .DELETE, base + "/{deployment}", id: "deleteDeployment", "Delete a deployment and its history.",
                tag: "deployments", access: .tenant(Roles.builders), status: 204
            ) { [self] context in try deleteDeployment(context) },
            RouteDefinition(
                .GET, base + "/{deployment}/revisions", id: "listRevisions", "Every accepted spec, newest first.",
                tag: "deployments", access: .tenant(Roles.readers), response: "RevisionPage",
                query: ["limit", "cursor"]
            ) { [self] context in try listRevisions(context) },
            RouteDefinition(
                .POST, base + "/{deployment}/rollback", id: "rollbackDeployment",
                "Re-apply the spec of revision `to` as a new revision.", tag: "deployments",
                access: .tenant(Roles.builders), response: "Deployment", query: ["to"]
            ) { [self] context in try rollback(context) },
            RouteDefinition(
                .GET, base + "/{deployment}/status", id: "getDeploymentStatus",
                "Desired and ready replicas per version, conditions and recent events.", tag: "deployments",
                access: .tenant(Roles.readers), response: "DeploymentStatus"
            ) { [self] context in try deploymentStatus(context) },
        ]
    }

    private func listDeployments(_ context: RequestContext) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let list = try ListQuery(context.request)
        var (conditions, args) = list.conditions(keyColumn: "d.name", alias: "d")
        conditions.insert("d.tenant = ?", at: 0)
        args.insert(tenant, at: 0)
        args.append(list.limit)
        let rows = try store.read { db in
            try db.query(
                "SELECT * FROM deployments d WHERE \(conditions.joined(separator: " AND ")) ORDER BY d.name LIMIT ?",
                args)
        }
        return .json(list.page(try rows.map(Self.deploymentView(from:))) { $0.name })
    }

    /// Validates `spec` against the database and stores it as a new revision unless it equals the current one.
    func apply(_ input: DeploymentSpec, context: RequestContext, cause: String) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let name = try context.parameter("deployment")
        guard Validation.isDNSLabel(name) else {
            throw ControlError.invalid(field: "name", message: "must be a DNS label (1-63 of a-z, 0-9, -)")
        }
        try input.validateShape()
        let spec = input.normalized()
        let actor = context.actor
        let created: Bool = try store.write { db in
            try Self.checkReferences(spec, tenant: tenant, deployment: name, db: db)
            let now = Authenticator.now()
            let current = try db.queryOne(
                "SELECT revision, spec FROM deployments WHERE tenant = ? AND name = ?", tenant, name)
            if let current, JSONColumn.decode(DeploymentSpec.self, current.optionalString("spec")) == spec {
                return false
            }
            let revision = (current?.optionalInt("revision") ?? 0) + 1
            let text = JSONColumn.encode(spec)
            let labels = JSONColumn.encode(spec.labels ?? [:])
            if current == nil {
                try db.execute(
                    """
                    INSERT INTO deployments (tenant, name, revision, spec, labels, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, tenant, name, revision, text, labels, now, now)
            } else {
                try db.execute(
                    "UPDATE deployments SET revision = ?, spec = ?, labels = ?, updated_at = ? WHERE tenant = ? AND name = ?",
                    revision, text, labels, now, tenant, name)
            }
            try db.execute(
                """
                INSERT INTO deployment_revisions (tenant, deployment, revision, spec, created_by, created_at, cause)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, tenant, name, revision, text, actor, now, cause)
            try db.execute("DELETE FROM deployment_versions WHERE tenant = ? AND deployment = ?", tenant, name)
            for ref in spec.referencedVersions {
                try db.execute(
                    "INSERT INTO deployment_versions (tenant, deployment, model, version) VALUES (?, ?, ?, ?)", tenant,
                    name, ref.model, ref.version)
            }
            try db.execute(
                """
                INSERT INTO deployment_events (tenant, deployment, time, type, reason, message)
                VALUES (?, ?, ?, 'Normal', 'RevisionCreated', ?)
                """, tenant, name, now, "revision \(revision) by \(actor) (\(cause))")
            return current == nil
        }
        return .json(try deploymentView(name, tenant: tenant), status: created ? 201 : 200)
    }

    /// Instance class, model versions and replica quotas, each failure naming its field (422).
    private static func checkReferences(_ spec: DeploymentSpec, tenant: String, deployment: String, db: Connection)
        throws
    {
        guard
            let instanceClass = try db.queryOne(
                "SELECT gpu_count FROM instance_classes WHERE name = ?", spec.instanceClass)
        else { throw ControlError.invalid(field: "instanceClass", message: "no instance class \(spec.instanceClass)") }
        let fields = spec.versions.indices.map { "versions[\($0)]" } + (spec.shadow == nil ? [] : ["shadow"])
        for (field, ref) in zip(fields, spec.referencedVersions) {
            guard
                let row = try db.queryOne(
                    """
                    SELECT v.state, v.runtime, m.format FROM model_versions v
                    JOIN models m ON m.tenant = v.tenant AND m.name = v.model
                    WHERE v.tenant = ? AND v.model = ? AND v.version = ?
                    """, tenant, ref.model, ref.version)
            else { throw ControlError.invalid(field: field, message: "no model version \(ref.model):\(ref.version)") }
            let state = try row.string("state")
            guard state == "ready" else {
                throw ControlError.invalid(
                    field: field, message: "model version \(ref.model):\(ref.version) is \(state)")
            }
            if try row.string("format") == "external", row.optionalString("runtime") == nil {
                throw ControlError.invalid(
                    field: field,
                    message: "external model version \(ref.model):\(ref.version) has no runtime manifest; "
                        + "PUT .../models/\(ref.model)/versions/\(ref.version)/runtime first")
            }
        }
        guard let tenantRow = try db.queryOne("SELECT * FROM tenants WHERE name = ?", tenant) else {
            throw ControlError.notFound("tenant not found")
        }
        let quotas = quotas(from: tenantRow)
        let isGPU = (try instanceClass.int("gpu_count")) > 0
        var others = 0
        var otherGPU = 0
        for row in try db.query(
            """
            SELECT d.spec, COALESCE(c.gpu_count, 0) AS gpus FROM deployments d
            LEFT JOIN instance_classes c ON c.name = json_extract(d.spec, '$.instanceClass')
            WHERE d.tenant = ? AND d.name != ?
            """, tenant, deployment)
        {
            let count = JSONColumn.decode(DeploymentSpec.self, row.optionalString("spec"))?.maxReplicas ?? 0
            others += count
            if (row.optionalInt("gpus") ?? 0) > 0 { otherGPU += count }
        }
        let wanted = spec.maxReplicas ?? 1
        if let limit = quotas.maxReplicas, others + wanted > limit {
            throw ControlError.invalid(
                field: "maxReplicas", message: "exceeds the tenant's replica quota (\(limit), \(others) in use)")
        }
        if isGPU, let limit = quotas.maxGPUReplicas, otherGPU + wanted > limit {
            throw ControlError.invalid(
                field: "maxReplicas", message: "exceeds the tenant's GPU replica quota (\(limit), \(otherGPU) in use)")
        }
    }

    private func deleteDeployment(_ context: RequestContext) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let name = try context.parameter("deployment")
        try store.write { db in
            try db.execute("DELETE FROM deployments WHERE tenant = ? AND name = ?", tenant, name)
            guard db.changes > 0 else { throw ControlError.notFound("deployment not found") }
        }
        return HTTPResponse(status: 204)
    }

    private func listRevisions(_ context: RequestContext) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let name = try context.parameter("deployment")
        _ = try deploymentView(name, tenant: tenant)
        let list = try ListQuery(context.request, labelled: false)
        var condition = "tenant = ? AND deployment = ?"
        var args: [any SQLBindable] = [tenant, name]
        if let after = list.after {
            guard let revision = Int(after) else { throw ControlError.badRequest("invalid cursor") }
            condition += " AND revision < ?"
            args.append(revision)
        }
        args.append(list.limit)
        let rows = try store.read { db in
            try db.query("SELECT * FROM deployment_revisions WHERE \(condition) ORDER BY revision DESC LIMIT ?", args)
        }
        let items = try rows.map { row in
            DeploymentRevisionView(
                revision: try row.int("revision"),
                spec: try JSONColumn.decode(DeploymentSpec.self, row.optionalString("spec"))
                    .orThrow(ControlError.conflict("corrupt revision")),
                cause: try row.string("cause"), createdBy: try row.string("created_by"),
                createdAt: Date(timeIntervalSince1970: Double(try row.int64("created_at"))))
        }
        return .json(list.page(items) { String($0.revision) })
    }

    private func rollback(_ context: RequestContext) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let name = try context.parameter("deployment")
        guard let raw = context.request.queryValue("to"), let target = Int(raw), target > 0 else {
            throw ControlError.badRequest("rollback needs ?to=<revision>")
        }
        _ = try deploymentView(name, tenant: tenant)
        guard
            let row = try store.read({ db in
                try db.queryOne(
                    "SELECT spec FROM deployment_revisions WHERE tenant = ? AND deployment = ? AND revision = ?",
                    tenant,
                    name, target)
            }), let spec = JSONColumn.decode(DeploymentSpec.self, row.optionalString("spec"))
        else { throw ControlError.notFound("revision \(target) not found") }
        let response = try apply(spec, context: context, cause: "rollback to \(target)")
        return HTTPResponse(status: 200, headers: response.headers, body: response.body)
    }

    func deploymentView(_ name: String, tenant: String) throws -> DeploymentView {
        guard
            let row = try store.read({ db in
                try db.queryOne("SELECT * FROM deployments WHERE tenant = ? AND name = ?", tenant, name)
            })
        else { throw ControlError.notFound("deployment not found") }
        return try Self.deploymentView(from: row)
    }

    private static func deploymentView(from row: Row) throws -> DeploymentView {
        DeploymentView(
            name: try row.string("name"), tenant: try row.string("tenant"), revision: try row.int("revision"),
            spec: try JSONColumn.decode(DeploymentSpec.self, row.optionalString("spec"))
                .orThrow(ControlError.conflict("corrupt deployment spec")),
            labels: JSONColumn.labels(row.optionalString("labels")),
            createdAt: Date(timeIntervalSince1970: Double(try row.int64("created_at"))),
            updatedAt: Date(timeIntervalSince1970: Double(try row.int64("updated_at"))))
    }
}

extension Optional {
    /// The wrapped value, or `error` thrown.
    func orThrow(_ error: @autoclosure () -> any Error) throws -> Wrapped {
        guard let self else { throw error() }
        return self
    }
}
