import PlinthCrypto
import PlinthHTTP
import PlinthStore

/// `?limit=&cursor=&label=k=v` of a list call, turned into SQL pieces. The cursor is opaque to
/// clients: base64url of the last returned sort key.
struct ListQuery {
    var limit: Int
    var after: String?
    var labels: [(key: String, value: String)]

    static let defaultLimit = 50
    static let maxLimit = 500

    /// `labelled`: whether the listed objects carry labels; a label filter on others is a 400.
    init(_ request: HTTPRequest, labelled: Bool = true) throws {
        if let raw = request.queryValue("limit") {
            guard let n = Int(raw), n >= 1 else { throw ControlError.badRequest("limit must be a positive integer") }
            limit = min(n, Self.maxLimit)
        } else {
            limit = Self.defaultLimit
        }
        if let cursor = request.queryValue("cursor"), !cursor.isEmpty {
            guard let bytes = Base64URL.decode(cursor), let text = String(validating: bytes, as: UTF8.self),
                text.hasPrefix("c1:")
            else { throw ControlError.badRequest("invalid cursor") }
            after = String(text.dropFirst(3))
        }
        labels = try request.queryValues("label").map { pair in
            guard let eq = pair.firstIndex(of: "=") else { throw ControlError.badRequest("label filter must be k=v") }
            return (String(pair[..<eq]), String(pair[pair.index(after: eq)...]))
        }
        if !labelled, !labels.isEmpty { throw ControlError.badRequest("this list has no labels to filter by") }
    }

    static func cursor(after key: String) -> String { Base64URL.encode(Array("c1:\(key)".utf8)) }

    /// SQL conditions (joined with AND by the caller) and their arguments for the label filters
    /// and the cursor on `keyColumn` of a table aliased `alias` with a `labels` JSON column.
    func conditions(keyColumn: String, alias: String) -> (sql: [String], args: [any SQLBindable]) {
        var sql: [String] = []
        var args: [any SQLBindable] = []
        for label in labels {
            sql.append("EXISTS (SELECT 1 FROM json_each(\(alias).labels) WHERE key = ? AND value = ?)")
            args.append(label.key)
            args.append(label.value)
        }
        if let after {
            sql.append("\(keyColumn) > ?")
            args.append(after)
        }
        return (sql, args)
    }

    /// One page of items with the cursor for the next, when there may be more.
    func page<T: Encodable>(_ items: [T], key: (T) -> String) -> Page<T> {
        let next = items.count == limit ? items.last.map { Self.cursor(after: key($0)) } : nil
        return Page(items: items, nextCursor: next)
    }
}

/// A list response: `{"items": [...], "nextCursor": "..."}`.
struct Page<T: Encodable>: Encodable {
    var items: [T]
    var nextCursor: String?
}
