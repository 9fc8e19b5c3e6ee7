import Foundation
import PlinthCore

/// One sampled request/response pair, as the caller sent it and the runtime answered it. The bodies
/// are the requests' own byte arrays (no copy on the request path); encoding happens on the
/// recorder's thread.
struct PayloadRecord: Sendable {
    var requestID: String
    var tenant: String
    var deployment: String
    var version: String
    var timestampMicros: Int64
    var status: Int
    var requestBody: [UInt8]
    var requestContentType: String?
    /// Triton's binary tensor extension: raw tensor bytes after the JSON header → base64.
    var requestIsBinary: Bool
    var responseBody: [UInt8]
    var responseContentType: String?
    var responseIsBinary: Bool
    var policy: PayloadLoggingPolicy

    /// Bodies larger than this are recorded by size only (`"omitted": true`).
    static let maxBodyBytes = 1 << 20

    /// Bytes the record holds while queued.
    var queuedBytes: Int { requestBody.count + responseBody.count + 256 }

    /// One JSON line: `{"request_id","tenant","deployment","version","timestamp","status",
    /// "request":{"content_type","bytes","body"|"body_base64"|"omitted"},"response":{…}}` + "\n".
    /// A body is `body` (text) when it is UTF-8 and not binary tensors, else `body_base64`.
    func jsonLine() -> [UInt8] {
        var out = "{\"request_id\":"
        JSONText.appendQuoted(requestID, to: &out)
        out += ",\"tenant\":"
        JSONText.appendQuoted(tenant, to: &out)
        out += ",\"deployment\":"
        JSONText.appendQuoted(deployment, to: &out)
        out += ",\"version\":"
        JSONText.appendQuoted(version, to: &out)
        out += ",\"timestamp\":"
        JSONText.appendQuoted(Self.timestamp(timestampMicros), to: &out)
        out += ",\"status\":" + String(status)
        out += ",\"request\":"
        Self.appendBody(requestBody, contentType: requestContentType, binary: requestIsBinary, to: &out)
        out += ",\"response\":"
        Self.appendBody(responseBody, contentType: responseContentType, binary: responseIsBinary, to: &out)
        out += "}\n"
        return Array(out.utf8)
    }

    private static func appendBody(_ body: [UInt8], contentType: String?, binary: Bool, to out: inout String) {
        out += "{"
        if let contentType {
            out += "\"content_type\":"
            JSONText.appendQuoted(contentType, to: &out)
            out += ","
        }
        out += "\"bytes\":" + String(body.count)
        if body.count > maxBodyBytes {
            out += ",\"omitted\":true}"
            return
        }
        if !binary, let text = String(validating: body, as: UTF8.self) {
            out += ",\"body\":"
            JSONText.appendQuoted(text, to: &out)
        } else {
            out += ",\"body_base64\":\"" + Data(body).base64EncodedString() + "\""
        }
        out += "}"
    }

    /// RFC 3339 in UTC with microseconds.
    static func timestamp(_ micros: Int64) -> String {
        let seconds = micros / 1_000_000
        let fraction = micros % 1_000_000
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(fraction))
    }
}
