/// An HTTP request method. Unknown tokens are kept verbatim in `.other`.
public enum HTTPMethod: Hashable, Sendable, CustomStringConvertible {
    case GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS
    case other(String)

    /// "GET" -> `.GET`; any token not listed above -> `.other(token)` (case-sensitive, per RFC 9110).
    public init(_ token: String) {
        switch token {
        case "GET": self = .GET
        case "HEAD": self = .HEAD
        case "POST": self = .POST
        case "PUT": self = .PUT
        case "DELETE": self = .DELETE
        case "PATCH": self = .PATCH
        case "OPTIONS": self = .OPTIONS
        default: self = .other(token)
        }
    }

    /// Decodes the method token straight from request bytes without building a String for the common ones.
    init(bytes: UnsafeRawBufferPointer) {
        switch bytes.count {
        case 3:
            if bytes[0] == 0x47, bytes[1] == 0x45, bytes[2] == 0x54 {
                self = .GET
                return
            }
            if bytes[0] == 0x50, bytes[1] == 0x55, bytes[2] == 0x54 {
                self = .PUT
                return
            }
        case 4:
            if bytes[0] == 0x50, bytes[1] == 0x4F, bytes[2] == 0x53, bytes[3] == 0x54 {
                self = .POST
                return
            }
            if bytes[0] == 0x48, bytes[1] == 0x45, bytes[2] == 0x41, bytes[3] == 0x44 {
                self = .HEAD
                return
            }
        default: break
        }
        self.init(String(decoding: bytes, as: UTF8.self))
    }

    public var description: String {
        switch self {
        case .GET: "GET"
        case .HEAD: "HEAD"
        case .POST: "POST"
        case .PUT: "PUT"
        case .DELETE: "DELETE"
        case .PATCH: "PATCH"
        case .OPTIONS: "OPTIONS"
        case .other(let token): token
        }
    }
}
