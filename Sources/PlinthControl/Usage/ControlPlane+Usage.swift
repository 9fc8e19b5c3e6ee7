import Foundation
import PlinthCore
import PlinthHTTP
import PlinthStore

/// One per-minute usage row as returned by GET /v1/tenants/{tenant}/usage.
struct UsageRow: Codable, Sendable {
    var minute: Date
    var deployment: String
    var version: String
    var apiKey: String
    var shadow: Bool
    var requests: Int64
    var succeeded: Int64
    var clientErrors: Int64
    var serverErrors: Int64
    var latencyMicros: Int64
    var queueMicros: Int64
    var computeMicros: Int64
    var bytesIn: Int64
    var bytesOut: Int64
    var batchRows: Int64
}

/// The usage of a tenant over a time range: totals (shadow traffic excluded) and per-minute rows.
struct UsageReport: Codable, Sendable {
    var tenant: String
    var from: Date
    var to: Date
    var requests: Int64
    var succeeded: Int64
    var clientErrors: Int64
    var serverErrors: Int64
    var computeMicros: Int64
    var rows: [UsageRow]
}

extension ControlPlane {
    func usageRoutes() -> [RouteDefinition] {
        [
            RouteDefinition(
                .GET, "/v1/tenants/{tenant}/usage", id: "getUsage",
                "Metered predictions of a tenant per minute (from the gateway's usage journal).", tag: "usage",
                access: .tenant(Roles.readers), response: "UsageReport",
                query: ["from", "to", "deployment", "limit"]
            ) { [self] context in try usage(context) }
        ]
    }

    private func usage(_ context: RequestContext) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let request = context.request
        let now = Date()
        let to = try request.queryValue("to").map { try Self.parseTime($0, field: "to") } ?? now
        let from = try request.queryValue("from").map { try Self.parseTime($0, field: "from") } ?? now.addingTimeInterval(-86400)
        guard from <= to else { throw ControlError.badRequest("from must not be after to") }
        let limit = try request.queryValue("limit").map { raw -> Int in
            guard let v = Int(raw), (1...10_000).contains(v) else { throw ControlError.badRequest("limit must be 1...10000") }
            return v
        } ?? 1440
        var conditions = ["tenant = ?", "minute >= ?", "minute <= ?"]
        var args: [any SQLBindable] = [tenant, Int64(from.timeIntervalSince1970) / 60, Int64(to.timeIntervalSince1970) / 60]
        if let deployment = request.queryValue("deployment") {
            conditions.append("deployment = ?")
            args.append(deployment)
        }
        let whereSQL = conditions.joined(separator: " AND ")
        let rows = try store.read { db in
            try db.query(
                "SELECT * FROM usage_minutes WHERE \(whereSQL) ORDER BY minute, deployment, version, api_key LIMIT ?",
                args + [limit])
        }
        var report = UsageReport(
            tenant: tenant, from: from, to: to, requests: 0, succeeded: 0, clientErrors: 0, serverErrors: 0,
            computeMicros: 0, rows: [])
        for row in rows {
            let item = UsageRow(
                minute: Date(timeIntervalSince1970: Double(try row.int64("minute") * 60)),
                deployment: try row.string("deployment"), version: try row.string("version"),
                apiKey: try row.string("api_key"), shadow: try row.bool("shadow"), requests: try row.int64("requests"),
                succeeded: try row.int64("succeeded"), clientErrors: try row.int64("client_errors"),
                serverErrors: try row.int64("server_errors"), latencyMicros: try row.int64("latency_us"),
                queueMicros: try row.int64("queue_us"), computeMicros: try row.int64("compute_us"),
                bytesIn: try row.int64("bytes_in"), bytesOut: try row.int64("bytes_out"),
                batchRows: try row.int64("batch_rows"))
            if !item.shadow {
                report.requests += item.requests
                report.succeeded += item.succeeded
                report.clientErrors += item.clientErrors
                report.serverErrors += item.serverErrors
                report.computeMicros += item.computeMicros
            }
            report.rows.append(item)
        }
        return .json(report)
    }

    private static func parseTime(_ raw: String, field: String) throws -> Date {
        if let seconds = Int64(raw) { return Date(timeIntervalSince1970: Double(seconds)) }
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: raw) else {
            throw ControlError.badRequest("\(field) must be an RFC 3339 time or unix seconds")
        }
        return date
    }
}
