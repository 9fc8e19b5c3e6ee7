/// Column names of one result set, shared by all its rows.
final class ColumnIndex: Sendable {
    let names: [String]
    let positions: [String: Int]

    init(names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        // The first column of a name wins, as in `SELECT a.id, b.id`: alias such columns.
        for (i, name) in names.enumerated() where positions[name] == nil { positions[name] = i }
        self.positions = positions
    }
}

/// One result row. Values are copied out of SQLite, so a row outlives its statement.
public struct Row: Sendable {
    let columns: ColumnIndex
    /// The values in select-list order.
    public let values: [SQLValue]

    init(columns: ColumnIndex, values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// Column names in select-list order.
    public var columnNames: [String] { columns.names }

    /// The column's value, `.null` when the row has no such column.
    public subscript(_ column: String) -> SQLValue {
        guard let i = columns.positions[column] else { return .null }
        return values[i]
    }

    private func value(_ column: String) throws -> SQLValue {
        guard let i = columns.positions[column] else { throw StoreError.noSuchColumn(column) }
        return values[i]
    }

    /// The column as `Int`; throws on NULL, on another storage class, or on a missing column.
    public func int(_ c: String) throws -> Int { Int(try int64(c)) }

    /// The column as `Int64`; throws on NULL, on another storage class, or on a missing column.
    public func int64(_ c: String) throws -> Int64 {
        guard case .integer(let v) = try value(c) else {
            throw StoreError.typeMismatch(column: c, expected: "integer", actual: self[c])
        }
        return v
    }

    /// The column as `Double`; integers are widened.
    public func double(_ c: String) throws -> Double {
        switch try value(c) {
        case .real(let v): return v
        case .integer(let v): return Double(v)
        case let other: throw StoreError.typeMismatch(column: c, expected: "real", actual: other)
        }
    }

    /// The column as `String`.
    public func string(_ c: String) throws -> String {
        guard case .text(let v) = try value(c) else {
            throw StoreError.typeMismatch(column: c, expected: "text", actual: self[c])
        }
        return v
    }

    /// The column as `Bool` (integer 0 is false, any other integer true).
    public func bool(_ c: String) throws -> Bool { try int64(c) != 0 }

    /// The column as bytes; text is returned as its UTF-8 bytes.
    public func blob(_ c: String) throws -> [UInt8] {
        switch try value(c) {
        case .blob(let v): return v
        case .text(let s): return Array(s.utf8)
        case let other: throw StoreError.typeMismatch(column: c, expected: "blob", actual: other)
        }
    }

    /// The column as `Int`, nil when NULL, missing or not an integer.
    public func optionalInt(_ c: String) -> Int? { try? int(c) }
    /// The column as `Int64`, nil when NULL, missing or not an integer.
    public func optionalInt64(_ c: String) -> Int64? { try? int64(c) }
    /// The column as `Double`, nil when NULL, missing or not a number.
    public func optionalDouble(_ c: String) -> Double? { try? double(c) }
    /// The column as `String`, nil when NULL, missing or not text.
    public func optionalString(_ c: String) -> String? { try? string(c) }
    /// The column as `Bool`, nil when NULL, missing or not an integer.
    public func optionalBool(_ c: String) -> Bool? { try? bool(c) }
    /// The column as bytes, nil when NULL, missing or not a blob/text.
    public func optionalBlob(_ c: String) -> [UInt8]? { try? blob(c) }
}
