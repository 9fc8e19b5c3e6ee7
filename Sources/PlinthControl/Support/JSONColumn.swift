import Foundation

/// JSON text columns (labels, string lists, specs) to and from Swift values.
enum JSONColumn {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(type, from: Data(text.utf8))
    }

    static func decodeStringArray(_ text: String?) -> [String]? { decode([String].self, text) }

    static func labels(_ text: String?) -> [String: String] { decode([String: String].self, text) ?? [:] }
}
