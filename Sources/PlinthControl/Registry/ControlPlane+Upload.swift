import Foundation
import PlinthCore
import PlinthCrypto
import PlinthHTTP
import PlinthStore

extension ControlPlane {
    /// PUT .../versions/{version}/artifact: stream to a temp file while hashing and counting, check
    /// the digest precondition and the quota, move into the blob store, record the version, validate.
    func uploadArtifact(_ context: RequestContext) throws -> HTTPResponse {
        let caller = try context.caller()
        let request = context.request
        let tenant = try context.parameter("tenant")
        let model = try context.parameter("model")
        let version = try context.parameter("version")
        guard Validation.isVersionLabel(version) else {
            throw ControlError.invalid(field: "version", message: "1-63 of A-Z, a-z, 0-9, '.', '_', '-'")
        }
        let format = try modelView(model, tenant: tenant).format
        let expected = try Self.expectedDigest(request)
        let limit = try uploadLimit(tenant: tenant)
        try store.read { db in
            if try db.queryOne(
                "SELECT 1 AS one FROM model_versions WHERE tenant = ? AND model = ? AND version = ?", tenant, model,
                version) != nil
            {
                throw ControlError.conflict("version \(version) already exists; delete it first")
            }
        }
        if let declared = request.bodyStream?.declaredLength ?? Int?(request.body.count), declared > limit.bytes {
            throw ControlError.tooLarge("artifact of \(declared) bytes exceeds \(limit.reason) (\(limit.bytes) bytes)")
        }

        let writer = try blobs.beginUpload()
        try receiveBody(request, into: writer, limit: limit)
        let digest = try writer.finish()
        if let expected, !constantTimeEquals(expected, digest) {
            throw ControlError.badRequest("artifact digest mismatch: received sha256 \(Hex.encode(digest))")
        }
        let hex = Hex.encode(digest)
        let size = writer.byteCount
        guard size > 0 else { throw ControlError.badRequest("artifact is empty") }
        try store.write { db in
            if try db.queryOne(
                "SELECT 1 AS one FROM model_versions WHERE tenant = ? AND model = ? AND version = ?", tenant, model,
                version) != nil
            {
                throw ControlError.conflict("version \(version) already exists; delete it first")
            }
            if let quota = try db.queryOne("SELECT max_artifact_bytes FROM tenants WHERE name = ?", tenant)?
                .optionalInt64("max_artifact_bytes"),
                try Self.usage(of: tenant, db: db).artifactBytes + size > quota
            {
                throw ControlError.tooLarge("artifact exceeds the tenant's artifact quota (\(quota) bytes)")
            }
            try blobs.commit(writer, digest: hex)
            try db.execute(
                """
                INSERT INTO model_versions (tenant, model, version, state, sha256, size_bytes, created_by, created_at)
                VALUES (?, ?, ?, 'uploaded', ?, ?, ?, ?)
                """, tenant, model, version, hex, size, caller.name, Authenticator.now())
        }
        return try validateVersion(tenant: tenant, model: model, version: version, format: format, digest: hex)
    }

    /// Runs the configured validator and records ready or failed(reason).
    private func validateVersion(tenant: String, model: String, version: String, format: String, digest: String)
        throws -> HTTPResponse
    {
        var state = "ready"
        var reason: String?
        var signature: ArtifactSignature?
        if let validator = configuration.artifactValidator {
            do {
                signature = try validator(blobs.path(for: digest), format)
            } catch {
                state = "failed"
                reason = String(describing: error)
            }
        }
        try store.write { db in
            try db.execute(
                """
                UPDATE model_versions SET state = ?, reason = ?, signature = ?
                WHERE tenant = ? AND model = ? AND version = ?
                """, state, reason, signature.map(JSONColumn.encode), tenant, model, version)
        }
        if let reason {
            throw ControlError.unprocessable("artifact rejected: \(reason)")
        }
        return .json(try versionView(tenant: tenant, model: model, version: version), status: 201)
    }

    /// The most bytes this upload may have, and which limit that is.
    private func uploadLimit(tenant: String) throws -> (bytes: Int64, reason: String) {
        var limit = (bytes: Int64(configuration.maxArtifactBytes), reason: "the maximum artifact size")
        try store.read { db in
            if let quota = try db.queryOne("SELECT max_artifact_bytes FROM tenants WHERE name = ?", tenant)?
                .optionalInt64("max_artifact_bytes")
            {
                let remaining = max(0, quota - (try Self.usage(of: tenant, db: db).artifactBytes))
                if remaining < limit.bytes { limit = (remaining, "the tenant's remaining artifact quota") }
            }
        }
        return limit
    }

    /// Copies the request body (raw or the file part of a multipart form) into `writer`,
    /// failing with 413 as soon as it grows past the limit.
    private func receiveBody(_ request: HTTPRequest, into writer: BlobWriter, limit: (bytes: Int64, reason: String))
        throws
    {
        var buffered: [UInt8]? = request.bodyStream == nil ? request.body : nil
        let next: () throws -> [UInt8]? = {
            if let stream = request.bodyStream { return try stream.read(maxBytes: 1 << 20) }
            defer { buffered = nil }
            return buffered
        }
        let sink: ([UInt8]) throws -> Void = { chunk in
            if writer.byteCount + Int64(chunk.count) > limit.bytes {
                throw ControlError.tooLarge("artifact exceeds \(limit.reason) (\(limit.bytes) bytes)")
            }
            try writer.write(chunk)
        }
        if let contentType = request.headers["Content-Type"], contentType.lowercased().hasPrefix("multipart/") {
            guard let boundary = MultipartReader.boundary(fromContentType: contentType) else {
                throw ControlError.badRequest("multipart/form-data needs a boundary")
            }
            var reader = MultipartReader(boundary: boundary)
            do {
                try reader.run(next: next, sink: sink)
            } catch let failure as MultipartReader.Failure {
                switch failure {
                case .malformed(let why): throw ControlError.badRequest("malformed multipart body: \(why)")
                case .noFilePart: throw ControlError.badRequest("multipart body has no file part")
                }
            }
        } else {
            while let chunk = try next() { try sink(chunk) }
        }
    }

    /// The digest the client promised: `?sha256=hex` or `Content-Digest: sha-256=:base64:`.
    static func expectedDigest(_ request: HTTPRequest) throws -> [UInt8]? {
        if let hex = request.queryValue("sha256") {
            guard hex.utf8.count == 64, let bytes = Hex.decode(hex.lowercased()) else {
                throw ControlError.badRequest("sha256 must be 64 hex digits")
            }
            return bytes
        }
        guard let header = request.headers["Content-Digest"] else { return nil }
        for item in header.split(separator: ",") {
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            guard trimmed.lowercased().hasPrefix("sha-256=") else { continue }
            var value = trimmed.dropFirst("sha-256=".count)
            guard value.hasPrefix(":"), value.hasSuffix(":"), value.count >= 2 else {
                throw ControlError.badRequest("Content-Digest sha-256 must be :base64:")
            }
            value = value.dropFirst().dropLast()
            guard let data = Data(base64Encoded: String(value)), data.count == 32 else {
                throw ControlError.badRequest("Content-Digest sha-256 must be 32 bytes in base64")
            }
            return Array(data)
        }
        return nil
    }
}
