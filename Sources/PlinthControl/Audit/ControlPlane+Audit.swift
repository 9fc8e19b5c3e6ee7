import Foundation
import PlinthCore
import PlinthHTTP
import PlinthStore

/// One audit record as returned by GET /v1/audit.
struct AuditRecord: Codable, Sendable {
    var id: Int64
    var time: Date
    var actor: String
    var tenant: String?
    var action: String
    var target: String
    var requestID: String
    var outcome: String
    var status: Int
    var address: String
}

extension ControlPlane {
    /// Records a mutating call. Unauthenticated calls are recorded only for login attempts, so
    /// anonymous floods cannot fill the log.
    func audit(_ route: RouteDefinition, _ context: RequestContext, status: Int) {
        guard context.principal != nil || route.operationID == "createToken" else { return }
        let request = context.request
        let tenant = request.pathParameters["tenant"] ?? context.principal?.tenant
        let outcome = status < 400 ? "success" : (status == 401 || status == 403 || status == 404 ? "denied" : "failed")
        var actor = context.actor
        if context.principal == nil, route.operationID == "createToken",
            let claimed = Self.claimedUsername(request.headers["Authorization"])
        {
            actor = "anonymous:" + claimed
        }
        do {
            try store.write { db in
                try db.execute(
                    """
                    INSERT INTO audit_log (time, actor, tenant, action, target, request_id, outcome, status, address)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, Authenticator.now(), actor, tenant, route.operationID, "\(route.method) \(request.path)",
                    request.requestID, outcome, status, Authenticator.host(of: request.remoteAddress))
            }
        } catch {
            logger.error("audit write failed", ["error": .string(String(describing: error))])
        }
    }

    private static func claimedUsername(_ authorization: String?) -> String? {
        guard let authorization, authorization.lowercased().hasPrefix("basic "),
            let data = Data(base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return String(text[..<colon].prefix(64))
    }

    func auditRoutes() -> [RouteDefinition] {
        [
            RouteDefinition(
                .GET, "/v1/audit", id: "listAudit",
                "Audit records, newest first. Admins see every tenant; owners their own.", tag: "audit",
                access: .authenticated, response: "AuditPage",
                query: ["tenant", "actor", "action", "outcome", "since", "until", "limit", "cursor"]
            ) { [self] context in try listAudit(context) }
        ]
    }

    private func listAudit(_ context: RequestContext) throws -> HTTPResponse {
        let principal = try context.caller()
        let request = context.request
        var conditions: [String] = []
        var args: [any SQLBindable] = []
        if principal.isAdmin {
            if let tenant = request.queryValue("tenant") {
                conditions.append("tenant = ?")
                args.append(tenant)
            }
        } else {
            guard principal.role == .owner, principal.deployments == nil, let own = principal.tenant else {
                throw ControlError.forbidden("audit log is for admins and tenant owners")
            }
            if let tenant = request.queryValue("tenant"), tenant != own {
                throw ControlError.notFound("tenant not found")
            }
            conditions.append("tenant = ?")
            args.append(own)
        }
        for (param, column) in [("actor", "actor"), ("action", "action"), ("outcome", "outcome")] {
            if let value = request.queryValue(param) {
                conditions.append("\(column) = ?")
                args.append(value)
            }
        }
        for (param, op) in [("since", ">="), ("until", "<")] {
            if let raw = request.queryValue(param) {
                guard let value = Self.parseTime(raw) else {
                    throw ControlError.badRequest("\(param) must be unix seconds or an RFC 3339 time")
                }
                conditions.append("time \(op) ?")
                args.append(value)
            }
        }
        var list = try ListQuery(request, labelled: false)
        if let after = list.after {
            guard let id = Int64(after) else { throw ControlError.badRequest("invalid cursor") }
            conditions.append("id < ?")
            args.append(id)
            list.after = nil
        }
        let whereSQL = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        args.append(list.limit)
        let rows = try store.read { db in
            try db.query("SELECT * FROM audit_log \(whereSQL) ORDER BY id DESC LIMIT ?", args)
        }
        let records = try rows.map { row in
            AuditRecord(
                id: try row.int64("id"), time: Date(timeIntervalSince1970: Double(try row.int64("time"))),
                actor: try row.string("actor"), tenant: row.optionalString("tenant"), action: try row.string("action"),
                target: try row.string("target"), requestID: try row.string("request_id"),
                outcome: try row.string("outcome"), status: try row.int("status"), address: try row.string("address"))
        }
        return .json(list.page(records) { String($0.id) })
    }

    static func parseTime(_ raw: String) -> Int64? {
        if let seconds = Int64(raw) { return seconds }
        return ISO8601DateFormatter().date(from: raw).map { Int64($0.timeIntervalSince1970) }
    }
}
