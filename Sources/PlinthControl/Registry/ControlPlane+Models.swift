import Foundation
import PlinthCore
import PlinthHTTP
import PlinthStore

/// A model as the API shows it.
struct ModelView: Codable, Sendable {
    var name: String
    var format: String
    var description: String
    var labels: [String: String]
    var createdAt: Date
    var updatedAt: Date
}

/// POST /v1/tenants/{tenant}/models body.
struct CreateModelRequest: Codable, Sendable {
    var name: String
    var format: String
    var description: String?
    var labels: [String: String]?
}

/// PATCH /v1/tenants/{tenant}/models/{model} body.
struct UpdateModelRequest: Codable, Sendable {
    var description: String?
    var labels: [String: String]?
}

enum ModelFormat {
    static let all: Set<String> = ["onnx", "external"]
}

extension ControlPlane {
    func modelRoutes() -> [RouteDefinition] {
        [
            RouteDefinition(
                .GET, "/v1/tenants/{tenant}/models", id: "listModels", "Models of a tenant.", tag: "models",
                access: .tenant(Roles.readers), response: "ModelPage", query: ["limit", "cursor", "label"]
            ) { [self] context in try listModels(context) },
            RouteDefinition(
                .POST, "/v1/tenants/{tenant}/models", id: "createModel", "Register a model (no versions yet).",
                tag: "models", access: .tenant(Roles.builders), request: "CreateModelRequest", status: 201,
                response: "Model"
            ) { [self] context in try createModel(context) },
            RouteDefinition(
                .GET, "/v1/tenants/{tenant}/models/{model}", id: "getModel", "One model.", tag: "models",
                access: .tenant(Roles.readers), response: "Model"
            ) { [self] context in
                .json(try modelView(try context.parameter("model"), tenant: try context.parameter("tenant")))
            },
            RouteDefinition(
                .PATCH, "/v1/tenants/{tenant}/models/{model}", id: "updateModel", "Change description or labels.",
                tag: "models", access: .tenant(Roles.builders), request: "UpdateModelRequest", response: "Model"
            ) { [self] context in try updateModel(context) },
            RouteDefinition(
                .DELETE, "/v1/tenants/{tenant}/models/{model}", id: "deleteModel",
                "Delete a model and its versions (409 while a deployment uses one).", tag: "models",
                access: .tenant(Roles.builders), status: 204
            ) { [self] context in try deleteModel(context) },
        ]
    }

    private func listModels(_ context: RequestContext) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let list = try ListQuery(context.request)
        var (conditions, args) = list.conditions(keyColumn: "m.name", alias: "m")
        conditions.insert("m.tenant = ?", at: 0)
        args.insert(tenant, at: 0)
        args.append(list.limit)
        let rows = try store.read { db in
            try db.query(
                "SELECT * FROM models m WHERE \(conditions.joined(separator: " AND ")) ORDER BY m.name LIMIT ?", args)
        }
        return .json(list.page(try rows.map(Self.modelView(from:))) { $0.name })
    }

    private func createModel(_ context: RequestContext) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let body = try context.request.decodeJSON(CreateModelRequest.self)
        guard Validation.isDNSLabel(body.name) else {
            throw ControlError.invalid(field: "name", message: "must be a DNS label (1-63 of a-z, 0-9, -)")
        }
        guard ModelFormat.all.contains(body.format) else {
            throw ControlError.invalid(field: "format", message: "must be onnx or external")
        }
        if let description = body.description, description.utf8.count > 4096 {
            throw ControlError.invalid(field: "description", message: "at most 4096 bytes")
        }
        try Validation.checkLabels(body.labels)
        let now = Authenticator.now()
        try store.write { db in
            if try db.queryOne("SELECT 1 AS one FROM models WHERE tenant = ? AND name = ?", tenant, body.name) != nil {
                throw ControlError.conflict("model \(body.name) already exists")
            }
            if let row = try db.queryOne("SELECT max_models FROM tenants WHERE name = ?", tenant),
                let limit = row.optionalInt("max_models"),
                try db.queryOne("SELECT COUNT(*) AS n FROM models WHERE tenant = ?", tenant)?.int("n") ?? 0 >= limit
            {
                throw ControlError.forbidden("quota exceeded: maxModels is \(limit)")
            }
            try db.execute(
                """
                INSERT INTO models (tenant, name, format, description, labels, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, tenant, body.name, body.format, body.description ?? "", JSONColumn.encode(body.labels ?? [:]), now,
                now)
        }
        return .json(try modelView(body.name, tenant: tenant), status: 201)
    }

    private func updateModel(_ context: RequestContext) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let name = try context.parameter("model")
        let body = try context.request.decodeJSON(UpdateModelRequest.self)
        try Validation.checkLabels(body.labels)
        if let description = body.description, description.utf8.count > 4096 {
            throw ControlError.invalid(field: "description", message: "at most 4096 bytes")
        }
        try store.write { db in
            guard try db.queryOne("SELECT 1 AS one FROM models WHERE tenant = ? AND name = ?", tenant, name) != nil
            else {
                throw ControlError.notFound("model not found")
            }
            let now = Authenticator.now()
            if let description = body.description {
                try db.execute(
                    "UPDATE models SET description = ?, updated_at = ? WHERE tenant = ? AND name = ?", description, now,
                    tenant, name)
            }
            if let labels = body.labels {
                try db.execute(
                    "UPDATE models SET labels = ?, updated_at = ? WHERE tenant = ? AND name = ?",
                    JSONColumn.encode(labels), now, tenant, name)
            }
        }
        return .json(try modelView(name, tenant: tenant))
    }

    private func deleteModel(_ context: RequestContext) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let name = try context.parameter("model")
        try store.write { db in
            guard try db.queryOne("SELECT 1 AS one FROM models WHERE tenant = ? AND name = ?", tenant, name) != nil
            else {
                throw ControlError.notFound("model not found")
            }
            if let use = try db.queryOne(
                "SELECT deployment FROM deployment_versions WHERE tenant = ? AND model = ? LIMIT 1", tenant, name)
            {
                throw ControlError.conflict("model is used by deployment \(try use.string("deployment"))")
            }
            let digests = try db.query("SELECT sha256 FROM model_versions WHERE tenant = ? AND model = ?", tenant, name)
                .compactMap { $0.optionalString("sha256") }
            try db.execute("DELETE FROM model_versions WHERE tenant = ? AND model = ?", tenant, name)
            try db.execute("DELETE FROM models WHERE tenant = ? AND name = ?", tenant, name)
            try blobs.removeUnreferenced(digests, db: db)
        }
        return HTTPResponse(status: 204)
    }

    func modelView(_ name: String, tenant: String) throws -> ModelView {
        guard
            let row = try store.read({ db in
                try db.queryOne("SELECT * FROM models WHERE tenant = ? AND name = ?", tenant, name)
            })
        else { throw ControlError.notFound("model not found") }
        return try Self.modelView(from: row)
    }

    private static func modelView(from row: Row) throws -> ModelView {
        ModelView(
            name: try row.string("name"), format: try row.string("format"), description: try row.string("description"),
            labels: JSONColumn.labels(row.optionalString("labels")),
            createdAt: Date(timeIntervalSince1970: Double(try row.int64("created_at"))),
            updatedAt: Date(timeIntervalSince1970: Double(try row.int64("updated_at"))))
    }
}
