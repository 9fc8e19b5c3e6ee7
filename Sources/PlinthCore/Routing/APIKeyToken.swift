/// The parts of an API key as presented by a client: `plk_<id>_<secret>`.
/// The id is lowercase hex (no underscores), so the first two underscores split the token.
public struct APIKeyToken: Sendable, Hashable {
    public static let prefix = "plk_"

    public var id: String
    public var secret: String

    public init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// Parses a presented token; nil when it is not shaped like a Plinth API key.
    public init?(parsing token: String) {
        guard token.hasPrefix(APIKeyToken.prefix), token.utf8.count <= 256 else { return nil }
        let rest = token.dropFirst(APIKeyToken.prefix.count)
        guard let separator = rest.firstIndex(of: "_") else { return nil }
        let id = rest[rest.startIndex..<separator]
        let secret = rest[rest.index(after: separator)...]
        guard (8...64).contains(id.count), id.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }),
            !secret.isEmpty
        else { return nil }
        self.id = String(id)
        self.secret = String(secret)
    }

    /// The full token string a client sends.
    public var rendered: String { APIKeyToken.prefix + id + "_" + secret }
}
