import Foundation
import PlinthCore
import PlinthHTTP

extension ControlPlane {
    /// Most records one call returns, and the most bytes of records it gathers.
    static let maxPayloadRecords = 100
    static let maxPayloadResponseBytes = 16 << 20

    func payloadRoutes() -> [RouteDefinition] {
        [
            RouteDefinition(
                .GET, "/v1/tenants/{tenant}/deployments/{deployment}/payloads", id: "listPayloads",
                "Sampled request/response pairs of a deployment with payload logging, newest first.",
                tag: "deployments", access: .tenant(Roles.builders), response: "PayloadRecords", query: ["limit"]
            ) { [self] context in try payloadRecords(context) }
        ]
    }

    /// Reads the newest segments of `<data>/payloads/<tenant>/<deployment>/` from the end; a line
    /// that does not parse (a record torn by a crash) is skipped.
    private func payloadRecords(_ context: RequestContext) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let name = try context.parameter("deployment")
        _ = try deploymentView(name, tenant: tenant)  // 404 for an unknown (or another tenant's) deployment
        var limit = 20
        if let raw = context.request.queryValue("limit") {
            guard let n = Int(raw), (1...Self.maxPayloadRecords).contains(n) else {
                throw ControlError.badRequest("limit must be 1 to \(Self.maxPayloadRecords)")
            }
            limit = n
        }
        let directory = PayloadLogLayout.directory(
            root: PayloadLogLayout.root(dataDirectory: configuration.dataDirectory), tenant: tenant, deployment: name)
        let files = PayloadLogLayout.recordFiles(
            (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        var lines: [ArraySlice<UInt8>] = []
        var bytes = 0
        scan: for file in files {
            guard let data = FileManager.default.contents(atPath: directory + "/" + file) else { continue }
            let content = [UInt8](data)
            for line in content.split(separator: UInt8(ascii: "\n")).reversed() {
                guard (try? JSONSerialization.jsonObject(with: Data(line))) is [String: Any] else { continue }
                if bytes + line.count > Self.maxPayloadResponseBytes, !lines.isEmpty { break scan }
                lines.append(line)
                bytes += line.count
                if lines.count == limit { break scan }
            }
        }
        var body = Array(#"{"items":["#.utf8)
        for (index, line) in lines.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body += line
        }
        body += Array("]}".utf8)
        return .jsonBytes(body)
    }
}
