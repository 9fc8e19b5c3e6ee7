/// A deployment's payload logging: which share of requests is written, and how long and how much
/// of it is kept. Set in the deployment spec (`payloadLogging`); off when absent or `sampleRate` is 0.
public struct PayloadLoggingPolicy: Sendable, Codable, Hashable {
    /// Fraction of requests logged, 0.0–1.0, sampled per request id.
    public var sampleRate: Double
    /// Files whose newest record is older than this are deleted.
    public var retentionHours: Int
    /// The deployment's files are kept under this many bytes, oldest deleted first.
    public var maxBytes: Int64

    public init(sampleRate: Double, retentionHours: Int, maxBytes: Int64) {
        self.sampleRate = sampleRate
        self.retentionHours = retentionHours
        self.maxBytes = maxBytes
    }

    public var isEnabled: Bool { sampleRate > 0 }
}

/// Where payload records live: `<data>/payloads/<tenant>/<deployment>/<16-digit µs>.jsonl`, one JSON
/// object per line, files 0600, folders 0700. Tenant and deployment names are DNS labels, so they are
/// safe path components. The gateway writes; the control plane's read route reads.
public enum PayloadLogLayout {
    public static let folderName = "payloads"
    /// The policy in force, written next to the records so retention also runs after a restart.
    public static let policyFileName = "policy.json"
    public static let recordFileExtension = ".jsonl"

    public static func root(dataDirectory: String) -> String { dataDirectory + "/" + folderName }

    public static func directory(root: String, tenant: String, deployment: String) -> String {
        root + "/" + tenant + "/" + deployment
    }

    /// Record files of a directory's listing, newest first (names sort by start time).
    public static func recordFiles(_ names: [String]) -> [String] {
        names.filter { $0.hasSuffix(recordFileExtension) && !$0.hasPrefix(".") }.sorted(by: >)
    }
}
