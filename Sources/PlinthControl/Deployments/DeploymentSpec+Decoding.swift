import Foundation

extension DeploymentSpec {
    private static let topLevel: Set<String> = [
        "versions", "shadow", "instanceClass", "minReplicas", "maxReplicas", "batching", "requestTimeoutMillis",
        "maxPayloadBytes", "autoscaling", "payloadLogging", "labels",
    ]
    private static let nested: [String: Set<String>] = [
        "shadow": ["model", "version", "percent"],
        "payloadLogging": ["sampleRate", "retentionHours", "maxMegabytes"],
        "batching": ["maxBatchSize", "maxQueueDelayMicros"],
        "autoscaling": ["targetConcurrency"],
    ]

    /// Decodes a spec strictly: malformed JSON is 400; an unknown field, a missing required field or
    /// a value of the wrong type is 422 naming the field (a typo must not silently fall back to a default).
    static func decode(_ body: [UInt8]) throws -> DeploymentSpec {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw ControlError.badRequest("body must be a JSON object")
        }
        for key in object.keys where !topLevel.contains(key) {
            throw ControlError.invalid(field: key, message: "unknown field")
        }
        for (name, allowed) in nested {
            guard let inner = object[name] as? [String: Any] else { continue }
            for key in inner.keys where !allowed.contains(key) {
                throw ControlError.invalid(field: "\(name).\(key)", message: "unknown field")
            }
        }
        for (i, entry) in ((object["versions"] as? [Any]) ?? []).enumerated() {
            guard let entry = entry as? [String: Any] else { continue }
            for key in entry.keys where !["model", "version", "weight"].contains(key) {
                throw ControlError.invalid(field: "versions[\(i)].\(key)", message: "unknown field")
            }
        }
        do {
            return try JSONDecoder().decode(DeploymentSpec.self, from: Data(body))
        } catch let error as DecodingError {
            switch error {
            case .typeMismatch(_, let context):
                throw ControlError.invalid(field: path(context.codingPath), message: "wrong type")
            case .valueNotFound(_, let context):
                throw ControlError.invalid(field: path(context.codingPath), message: "must not be null")
            case .keyNotFound(let key, let context):
                throw ControlError.invalid(field: path(context.codingPath + [key]), message: "required")
            case .dataCorrupted(let context):
                throw ControlError.invalid(field: path(context.codingPath), message: "invalid value")
            @unknown default:
                throw ControlError.badRequest("invalid deployment spec")
            }
        }
    }

    /// `versions[0].weight` from a coding path.
    private static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return text.isEmpty ? "spec" : text
    }
}
