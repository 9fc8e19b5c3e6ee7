import Foundation

/// Per-tenant limits; nil means unlimited.
struct TenantQuotas: Codable, Sendable, Equatable {
    var maxModels: Int?
    var maxArtifactBytes: Int64?
    var maxReplicas: Int?
    var maxGPUReplicas: Int?
    var maxRequestsPerSecond: Int?

    func validate() throws {
        let values: [(String, Int64?)] = [
            ("quotas.maxModels", maxModels.map(Int64.init)), ("quotas.maxArtifactBytes", maxArtifactBytes),
            ("quotas.maxReplicas", maxReplicas.map(Int64.init)),
            ("quotas.maxGPUReplicas", maxGPUReplicas.map(Int64.init)),
            ("quotas.maxRequestsPerSecond", maxRequestsPerSecond.map(Int64.init)),
        ]
        for (field, value) in values where (value ?? 0) < 0 {
            throw ControlError.invalid(field: field, message: "must not be negative")
        }
    }
}

/// What a tenant currently uses against its quotas.
struct TenantUsage: Codable, Sendable {
    var models: Int
    var artifactBytes: Int64
    var replicas: Int
    var gpuReplicas: Int
}

/// A tenant as the API shows it.
struct TenantView: Codable, Sendable {
    var name: String
    var displayName: String
    var labels: [String: String]
    var suspended: Bool
    var quotas: TenantQuotas
    var usage: TenantUsage?
    var createdAt: Date
    var updatedAt: Date
}

/// POST /v1/tenants body.
struct CreateTenantRequest: Codable, Sendable {
    var name: String
    var displayName: String?
    var labels: [String: String]?
    var quotas: TenantQuotas?
}

/// PATCH /v1/tenants/{tenant} body; absent fields stay as they are. Quotas are replaced as a whole.
struct UpdateTenantRequest: Codable, Sendable {
    var displayName: String?
    var labels: [String: String]?
    var quotas: TenantQuotas?
}
