import Foundation
import PlinthCore
import PlinthHTTP

extension GatewayCredential {
    /// Longest credential header value accepted; longer ones are rejected unread.
    static let maxHeaderLength = 8 * 1024

    /// The credential in `headers`, nil when the request carries none.
    ///
    /// Accepted forms: `Authorization: Bearer plk_<id>_<secret>` or `X-API-Key: plk_<id>_<secret>`
    /// (an API key), `Authorization: Bearer <jwt>` and
    /// `Authorization: Basic <base64(user:password)>`. When both headers are present,
    /// `Authorization` wins. Throws `GatewayAuthError.invalid` for a malformed value.
    static func parse(_ headers: HTTPHeaders) throws(GatewayAuthError) -> GatewayCredential? {
        if let authorization = headers["Authorization"] {
            return try parseAuthorization(authorization)
        }
        if let key = headers["X-API-Key"] {
            guard key.utf8.count <= maxHeaderLength, let credential = apiKey(key.trimmingSpaces) else {
                throw .invalid
            }
            return credential
        }
        return nil
    }

    /// The raw header value the credential came from (the principal cache hashes it).
    static func rawValue(_ headers: HTTPHeaders) -> String? {
        headers["Authorization"] ?? headers["X-API-Key"]
    }

    static func parseAuthorization(_ value: String) throws(GatewayAuthError) -> GatewayCredential {
        guard value.utf8.count <= maxHeaderLength else { throw .invalid }
        let trimmed = value.trimmingSpaces
        guard let space = trimmed.firstIndex(of: " ") else { throw .invalid }
        let scheme = trimmed[..<space].lowercased()
        let parameter = trimmed[trimmed.index(after: space)...].trimmingSpaces
        guard !parameter.isEmpty else { throw .invalid }
        switch scheme {
        case "bearer":
            if let key = apiKey(parameter) { return key }
            if parameter.hasPrefix("plk_") { throw .invalid }
            return .bearer(token: parameter)
        case "basic":
            guard let data = Data(base64Encoded: parameter), let text = String(data: data, encoding: .utf8),
                let colon = text.firstIndex(of: ":")
            else { throw .invalid }
            let user = String(text[..<colon])
            guard !user.isEmpty else { throw .invalid }
            return .basic(user: user, password: String(text[text.index(after: colon)...]))
        default:
            throw .invalid
        }
    }

    /// `plk_<id>_<secret>` split into its parts (the control plane's `APIKeyToken` rules: the id
    /// is 8–64 lowercase hex digits), nil when the value is not in that shape.
    static func apiKey(_ value: String) -> GatewayCredential? {
        guard let token = APIKeyToken(parsing: value) else { return nil }
        return .apiKey(id: token.id, secret: token.secret)
    }
}

extension StringProtocol {
    /// The value without leading and trailing spaces and tabs (header whitespace).
    var trimmingSpaces: String {
        let utf8 = Array(self.utf8)
        var start = 0
        var end = utf8.count
        while start < end, utf8[start] == 0x20 || utf8[start] == 0x09 { start += 1 }
        while end > start, utf8[end - 1] == 0x20 || utf8[end - 1] == 0x09 { end -= 1 }
        return String(decoding: utf8[start..<end], as: UTF8.self)
    }
}
