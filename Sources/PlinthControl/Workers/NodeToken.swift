/// A node token as presented by a worker: `pln_<id>_<secret>` (id: lowercase hex). Distinct from
/// API keys (`plk_`), so neither kind is ever mistaken for the other.
struct NodeToken: Sendable, Hashable {
    static let prefix = "pln_"

    var id: String
    var secret: String

    init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// Nil when `token` is not shaped like a node token.
    init?(parsing token: String) {
        guard token.hasPrefix(Self.prefix), token.utf8.count <= 256 else { return nil }
        let rest = token.dropFirst(Self.prefix.count)
        guard let separator = rest.firstIndex(of: "_") else { return nil }
        let id = rest[rest.startIndex..<separator]
        let secret = rest[rest.index(after: separator)...]
        guard (8...64).contains(id.count), id.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }),
            !secret.isEmpty
        else { return nil }
        self.id = String(id)
        self.secret = String(secret)
    }

    var rendered: String { Self.prefix + id + "_" + secret }
}
