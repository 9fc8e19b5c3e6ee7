import Foundation
import PlinthHTTP
import PlinthStore

/// An instance class of the catalogue.
struct InstanceClassView: Codable, Sendable {
    var name: String
    var vcpus: Double
    var memoryBytes: Int64
    var gpuCount: Int
    var gpuKind: String?
    var pricePerSecond: Double
    var labels: [String: String]
}

/// PUT /v1/instance-classes/{class} body.
struct InstanceClassRequest: Codable, Sendable {
    var vcpus: Double
    var memoryBytes: Int64
    var gpuCount: Int?
    var gpuKind: String?
    var pricePerSecond: Double?
    var labels: [String: String]?
}

extension ControlPlane {
    func instanceClassRoutes() -> [RouteDefinition] {
        [
            RouteDefinition(
                .GET, "/v1/instance-classes", id: "listInstanceClasses", "The instance class catalogue.",
                tag: "instance-classes", access: .authenticated, response: "InstanceClassPage",
                query: ["limit", "cursor", "label"]
            ) { [self] context in try listInstanceClasses(context) },
            RouteDefinition(
                .GET, "/v1/instance-classes/{class}", id: "getInstanceClass", "One instance class.",
                tag: "instance-classes", access: .authenticated, response: "InstanceClass"
            ) { [self] context in .json(try instanceClass(try context.parameter("class"))) },
            RouteDefinition(
                .PUT, "/v1/instance-classes/{class}", id: "putInstanceClass", "Create or replace an instance class.",
                tag: "instance-classes", access: .admin, request: "InstanceClassRequest", response: "InstanceClass"
            ) { [self] context in try putInstanceClass(context) },
            RouteDefinition(
                .DELETE, "/v1/instance-classes/{class}", id: "deleteInstanceClass",
                "Delete an instance class no deployment uses.", tag: "instance-classes", access: .admin, status: 204
            ) { [self] context in try deleteInstanceClass(context) },
        ]
    }

    private func listInstanceClasses(_ context: RequestContext) throws -> HTTPResponse {
        let list = try ListQuery(context.request)
        let (conditions, argsBase) = list.conditions(keyColumn: "c.name", alias: "c")
        let args = argsBase + [list.limit as any SQLBindable]
        let whereSQL = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let rows = try store.read { db in
            try db.query("SELECT * FROM instance_classes c \(whereSQL) ORDER BY c.name LIMIT ?", args)
        }
        return .json(list.page(try rows.map(Self.instanceClass(from:))) { $0.name })
    }

    private func instanceClass(_ name: String) throws -> InstanceClassView {
        guard let row = try store.read({ db in try db.queryOne("SELECT * FROM instance_classes WHERE name = ?", name) })
        else { throw ControlError.notFound("instance class not found") }
        return try Self.instanceClass(from: row)
    }

    private static func instanceClass(from row: Row) throws -> InstanceClassView {
        InstanceClassView(
            name: try row.string("name"), vcpus: try row.double("vcpus"), memoryBytes: try row.int64("memory_bytes"),
            gpuCount: try row.int("gpu_count"), gpuKind: row.optionalString("gpu_kind"),
            pricePerSecond: try row.double("price_per_second"), labels: JSONColumn.labels(row.optionalString("labels")))
    }

    private func putInstanceClass(_ context: RequestContext) throws -> HTTPResponse {
        let name = try context.parameter("class")
        let body = try context.request.decodeJSON(InstanceClassRequest.self)
        guard Validation.isDNSLabel(name) else {
            throw ControlError.invalid(field: "name", message: "must be a DNS label (1-63 of a-z, 0-9, -)")
        }
        guard body.vcpus > 0, body.vcpus <= 1024 else {
            throw ControlError.invalid(field: "vcpus", message: "must be above 0 and at most 1024")
        }
        guard body.memoryBytes > 0 else {
            throw ControlError.invalid(field: "memoryBytes", message: "must be positive")
        }
        guard (0...64).contains(body.gpuCount ?? 0) else {
            throw ControlError.invalid(field: "gpuCount", message: "must be 0 to 64")
        }
        guard (body.pricePerSecond ?? 0) >= 0, (body.pricePerSecond ?? 0).isFinite else {
            throw ControlError.invalid(field: "pricePerSecond", message: "must not be negative")
        }
        try Validation.checkLabels(body.labels)
        let existed: Bool = try store.write { db in
            let existed = try db.queryOne("SELECT 1 AS one FROM instance_classes WHERE name = ?", name) != nil
            try db.execute(
                """
                INSERT INTO instance_classes (name, vcpus, memory_bytes, gpu_count, gpu_kind, price_per_second, labels, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET vcpus = excluded.vcpus, memory_bytes = excluded.memory_bytes,
                    gpu_count = excluded.gpu_count, gpu_kind = excluded.gpu_kind,
                    price_per_second = excluded.price_per_second, labels = excluded.labels
                """, name, body.vcpus, body.memoryBytes, body.gpuCount ?? 0, body.gpuKind, body.pricePerSecond ?? 0,
                JSONColumn.encode(body.labels ?? [:]), Authenticator.now())
            return existed
        }
        return .json(try instanceClass(name), status: existed ? 200 : 201)
    }

    private func deleteInstanceClass(_ context: RequestContext) throws -> HTTPResponse {
        let name = try context.parameter("class")
        try store.write { db in
            if let use = try db.queryOne(
                "SELECT tenant, name FROM deployments WHERE json_extract(spec, '$.instanceClass') = ? LIMIT 1", name)
            {
                throw ControlError.conflict("instance class is used by deployment \(try use.string("name"))")
            }
            try db.execute("DELETE FROM instance_classes WHERE name = ?", name)
            guard db.changes > 0 else { throw ControlError.notFound("instance class not found") }
        }
        return HTTPResponse(status: 204)
    }
}
