import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Severity of a log line, lowest first.
public enum LogLevel: Int, Sendable, Comparable, CustomStringConvertible {
    case debug = 0, info, warning, error

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warning: "warning"
        case .error: "error"
        }
    }
}

/// Writes one JSON object per line to stderr (or a file descriptor).
/// Values are strings, numbers or booleans; secrets must never be passed in.
public struct Logger: Sendable {
    public let component: String
    public let minimumLevel: LogLevel
    private let fd: Int32

    public init(component: String, minimumLevel: LogLevel = Logger.defaultLevel, fd: Int32 = 2) {
        self.component = component
        self.minimumLevel = minimumLevel
        self.fd = fd
    }

    /// Level from `PLINTH_LOG_LEVEL` (debug, info, warning, error), info otherwise.
    public static var defaultLevel: LogLevel {
        switch ProcessInfo.processInfo.environment["PLINTH_LOG_LEVEL"]?.lowercased() {
        case "debug": .debug
        case "warning": .warning
        case "error": .error
        default: .info
        }
    }

    public func debug(_ message: String, _ fields: [String: LogValue] = [:]) { log(.debug, message, fields) }
    public func info(_ message: String, _ fields: [String: LogValue] = [:]) { log(.info, message, fields) }
    public func warning(_ message: String, _ fields: [String: LogValue] = [:]) { log(.warning, message, fields) }
    public func error(_ message: String, _ fields: [String: LogValue] = [:]) { log(.error, message, fields) }

    public func log(_ level: LogLevel, _ message: String, _ fields: [String: LogValue] = [:]) {
        guard level >= minimumLevel else { return }
        var line = "{\"ts\":\""
        line += Logger.timestamp()
        line += "\",\"level\":\"\(level)\",\"component\":"
        JSONText.appendQuoted(component, to: &line)
        line += ",\"msg\":"
        JSONText.appendQuoted(message, to: &line)
        for key in fields.keys.sorted() {
            line += ","
            JSONText.appendQuoted(key, to: &line)
            line += ":"
            fields[key]!.append(to: &line)
        }
        line += "}\n"
        Logger.write(line, fd: fd)
    }

    /// Writes a preformatted line (the HTTP access log builds its own).
    public static func write(_ line: String, fd: Int32 = 2) {
        var copy = line
        copy.withUTF8 { buf in
            var offset = 0
            while offset < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + offset, buf.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }

    /// RFC 3339 UTC timestamp with milliseconds.
    public static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = time_t(ts.tv_sec)
        var parts = tm()
        gmtime_r(&t, &parts)
        let ms = Int(ts.tv_nsec / 1_000_000)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ms), 3))Z"
    }
}

/// A value in a structured log line.
public enum LogValue: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByFloatLiteral
{
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }

    func append(to line: inout String) {
        switch self {
        case .string(let s): JSONText.appendQuoted(s, to: &line)
        case .int(let i): line += String(i)
        case .double(let d): line += d.isFinite ? String(d) : "null"
        case .bool(let b): line += b ? "true" : "false"
        }
    }
}
