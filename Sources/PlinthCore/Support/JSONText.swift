/// Minimal JSON text helpers for hand-built output (logs, error bodies).
public enum JSONText {
    /// Appends `value` as a JSON string literal, escaping per RFC 8259.
    public static func appendQuoted(_ value: String, to out: inout String) {
        out.append("\"")
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append("\"")
    }

    /// `value` as a JSON string literal.
    public static func quoted(_ value: String) -> String {
        var s = ""
        appendQuoted(value, to: &s)
        return s
    }
}
