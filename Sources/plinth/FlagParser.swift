/// A flag a command accepts: `--name VALUE`, or `--name` alone when `takesValue` is false.
struct FlagSpec: Sendable {
    let name: String
    let takesValue: Bool
    let help: String
    let repeatable: Bool

    init(_ name: String, value: Bool = true, repeatable: Bool = false, help: String) {
        self.name = name
        self.takesValue = value
        self.help = help
        self.repeatable = repeatable
    }
}

/// Bad command-line input: printed with the command's usage, exit status 2.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Flags and positional arguments after parsing.
struct ParsedArguments: Sendable {
    var values: [String: [String]] = [:]
    var positional: [String] = []

    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
    func has(_ name: String) -> Bool { values[name] != nil }

    /// A required flag or a usage error naming it.
    func require(_ name: String) throws -> String {
        guard let v = value(name) else { throw UsageError("missing required flag --\(name)") }
        return v
    }

    /// An integer flag within `range`, `defaultValue` when absent.
    func int(_ name: String, default defaultValue: Int, range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        guard let raw = value(name) else { return defaultValue }
        guard let v = Int(raw), range.contains(v) else {
            throw UsageError("--\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(raw)'")
        }
        return v
    }
}

enum FlagParser {
    /// Parses `--flag value`, `--flag=value` and boolean `--flag`; anything else unknown is a usage error.
    static func parse(_ args: [String], spec: [FlagSpec], maxPositional: Int = 1) throws -> ParsedArguments {
        var result = ParsedArguments()
        var i = 0
        while i < args.count {
            let arg = args[i]
            if arg == "--" {
                result.positional.append(contentsOf: args[(i + 1)...])
                break
            }
            if arg.hasPrefix("--") {
                var name = String(arg.dropFirst(2))
                var inline: String?
                if let eq = name.firstIndex(of: "=") {
                    inline = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
                guard let flag = spec.first(where: { $0.name == name }) else {
                    throw UsageError("unknown flag --\(name)")
                }
                if flag.takesValue {
                    let value: String
                    if let inline {
                        value = inline
                    } else {
                        guard i + 1 < args.count else { throw UsageError("flag --\(name) needs a value") }
                        i += 1
                        value = args[i]
                    }
                    if !flag.repeatable, result.values[name] != nil {
                        throw UsageError("flag --\(name) given twice")
                    }
                    result.values[name, default: []].append(value)
                } else {
                    if inline != nil { throw UsageError("flag --\(name) takes no value") }
                    result.values[name] = ["true"]
                }
            } else if arg.hasPrefix("-") && arg.count > 1 {
                throw UsageError("unknown flag \(arg)")
            } else {
                result.positional.append(arg)
            }
            i += 1
        }
        if result.positional.count > maxPositional {
            throw UsageError("unexpected argument '\(result.positional[maxPositional])'")
        }
        return result
    }
}
