import Foundation
import PlinthCore
import PlinthHTTP
import PlinthStore

#if canImport(Glibc)
    import Glibc
#endif

/// A model version as the API shows it. `state` is uploaded, ready or failed (with `reason`).
struct VersionView: Codable, Sendable {
    var model: String
    var version: String
    var state: String
    var reason: String?
    var sha256: String
    var sizeBytes: Int64
    var signature: ArtifactSignature?
    /// How an external version runs (`PUT .../runtime`); nil until set, and always for onnx.
    var runtime: RuntimeManifest?
    var createdBy: String
    var createdAt: Date
}

extension ControlPlane {
    func versionRoutes() -> [RouteDefinition] {
        let base = "/v1/tenants/{tenant}/models/{model}/versions"
        return [
            RouteDefinition(
                .GET, base, id: "listVersions", "Versions of a model.", tag: "models", access: .tenant(Roles.readers),
                response: "VersionPage", query: ["limit", "cursor"]
            ) { [self] context in try listVersions(context) },
            RouteDefinition(
                .GET, base + "/{version}", id: "getVersion", "One version with its state and signature.",
                tag: "models", access: .tenant(Roles.readers), response: "Version"
            ) { [self] context in
                .json(
                    try versionView(
                        tenant: try context.parameter("tenant"), model: try context.parameter("model"),
                        version: try context.parameter("version")))
            },
            RouteDefinition(
                .PUT, base + "/{version}/artifact", id: "uploadArtifact",
                "Upload a version's artifact (streamed; application/octet-stream or multipart/form-data).",
                tag: "models", access: .tenant(Roles.builders),
                options: RouteOptions(maxBodyBytes: configuration.maxArtifactBytes + (1 << 20), streamingBody: true),
                request: "Artifact", requestContentTypes: ["application/octet-stream", "multipart/form-data"],
                status: 201, response: "Version", query: ["sha256"]
            ) { [self] context in try uploadArtifact(context) },
            RouteDefinition(
                .PUT, base + "/{version}/runtime", id: "setVersionRuntime",
                "Set how an external version runs: its command and environment (422 for onnx versions).",
                tag: "models", access: .tenant(Roles.builders), request: "RuntimeManifest", response: "Version"
            ) { [self] context in try setVersionRuntime(context) },
            RouteDefinition(
                .GET, base + "/{version}/artifact", id: "downloadArtifact", "Download a version's artifact.",
                tag: "models", access: .tenant(Roles.builders), response: "Artifact"
            ) { [self] context in try downloadArtifact(context) },
            RouteDefinition(
                .DELETE, base + "/{version}", id: "deleteVersion",
                "Delete a version no deployment uses (409 otherwise).", tag: "models",
                access: .tenant(Roles.builders), status: 204
            ) { [self] context in try deleteVersion(context) },
        ]
    }

    private func listVersions(_ context: RequestContext) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let model = try context.parameter("model")
        _ = try modelView(model, tenant: tenant)
        let list = try ListQuery(context.request, labelled: false)
        var condition = "tenant = ? AND model = ?"
        var args: [any SQLBindable] = [tenant, model]
        if let after = list.after {
            condition += " AND version > ?"
            args.append(after)
        }
        args.append(list.limit)
        let rows = try store.read { db in
            try db.query("SELECT * FROM model_versions WHERE \(condition) ORDER BY version LIMIT ?", args)
        }
        return .json(list.page(try rows.map(Self.versionView(from:))) { $0.version })
    }

    func versionView(tenant: String, model: String, version: String) throws -> VersionView {
        guard
            let row = try store.read({ db in
                try db.queryOne(
                    "SELECT * FROM model_versions WHERE tenant = ? AND model = ? AND version = ?", tenant, model,
                    version)
            })
        else { throw ControlError.notFound("version not found") }
        return try Self.versionView(from: row)
    }

    static func versionView(from row: Row) throws -> VersionView {
        VersionView(
            model: try row.string("model"), version: try row.string("version"), state: try row.string("state"),
            reason: row.optionalString("reason"), sha256: try row.string("sha256"),
            sizeBytes: try row.int64("size_bytes"),
            signature: JSONColumn.decode(ArtifactSignature.self, row.optionalString("signature")),
            runtime: JSONColumn.decode(RuntimeManifest.self, row.optionalString("runtime")),
            createdBy: try row.string("created_by"),
            createdAt: Date(timeIntervalSince1970: Double(try row.int64("created_at"))))
    }

    /// PUT .../versions/{version}/runtime: validates and stores the manifest. Replicas of a deployed
    /// version are replaced, since the manifest is part of their id.
    private func setVersionRuntime(_ context: RequestContext) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let model = try context.parameter("model")
        let version = try context.parameter("version")
        _ = try versionView(tenant: tenant, model: model, version: version)
        let format = try modelView(model, tenant: tenant).format
        let manifest = try context.request.decodeJSON(RuntimeManifest.self)
        guard format == "external" else {
            throw ControlError.invalid(field: "runtime", message: "only external versions take a runtime manifest")
        }
        if let problem = manifest.problem() {
            throw ControlError.invalid(field: problem.field, message: problem.message)
        }
        try store.write { db in
            try db.execute(
                "UPDATE model_versions SET runtime = ? WHERE tenant = ? AND model = ? AND version = ?",
                JSONColumn.encode(manifest), tenant, model, version)
            guard db.changes > 0 else { throw ControlError.notFound("version not found") }
        }
        return .json(try versionView(tenant: tenant, model: model, version: version))
    }

    private func downloadArtifact(_ context: RequestContext) throws -> HTTPResponse {
        let view = try versionView(
            tenant: try context.parameter("tenant"), model: try context.parameter("model"),
            version: try context.parameter("version"))
        let path = blobs.path(for: view.sha256)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ControlError.notFound("artifact file missing") }
        close(fd)
        var headers = HTTPHeaders()
        headers.set("Content-Type", "application/octet-stream")
        headers.set("ETag", "\"sha256:\(view.sha256)\"")
        headers.set("Content-Disposition", "attachment; filename=\"\(view.model)-\(view.version)\"")
        let size = Int(view.sizeBytes)
        return HTTPResponse(
            status: 200, headers: headers,
            body: .stream(length: size) { writer in
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw BlobError.io("artifact vanished") }
                defer { close(fd) }
                var chunk = [UInt8](repeating: 0, count: 1 << 20)
                var remaining = size
                while remaining > 0 {
                    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, remaining)) }
                    if n < 0, errno == EINTR { continue }
                    guard n > 0 else { throw BlobError.io("short read") }
                    try writer.write(n == chunk.count ? chunk : Array(chunk[0..<n]))
                    remaining -= n
                }
            })
    }

    private func deleteVersion(_ context: RequestContext) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let model = try context.parameter("model")
        let version = try context.parameter("version")
        try store.write { db in
            guard
                let row = try db.queryOne(
                    "SELECT sha256 FROM model_versions WHERE tenant = ? AND model = ? AND version = ?", tenant, model,
                    version)
            else { throw ControlError.notFound("version not found") }
            if let use = try db.queryOne(
                "SELECT deployment FROM deployment_versions WHERE tenant = ? AND model = ? AND version = ? LIMIT 1",
                tenant, model, version)
            {
                throw ControlError.conflict("version is used by deployment \(try use.string("deployment"))")
            }
            try db.execute(
                "DELETE FROM model_versions WHERE tenant = ? AND model = ? AND version = ?", tenant, model, version)
            try blobs.removeUnreferenced([try row.string("sha256")], db: db)
        }
        return HTTPResponse(status: 204)
    }
}
