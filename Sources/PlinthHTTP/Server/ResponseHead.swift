import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Serializes response heads into bytes. The server owns framing headers (Content-Length,
/// Transfer-Encoding, Connection, Date): handler-set copies of those are dropped, and fields whose
/// name or value contain CR/LF are dropped too (no response splitting).
enum ResponseHead {
    static func write(
        status: Int, headers: HTTPHeaders, contentLength: Int?, keepAlive: Bool, http10: Bool,
        into out: inout [UInt8]
    ) {
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(status, to: &out)
        out.append(0x20)
        out.append(contentsOf: reason(status).utf8)
        out.append(contentsOf: "\r\n".utf8)
        for (name, value) in headers where !isFramingHeader(name) {
            appendField(name, value, to: &out)
        }
        DateHeader.append(to: &out)
        if let contentLength {
            if status >= 200 && status != 204 && status != 304 {
                out.append(contentsOf: "Content-Length: ".utf8)
                appendDecimal(contentLength, to: &out)
                out.append(contentsOf: "\r\n".utf8)
            }
        } else if !http10 {
            out.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
        }
        if !keepAlive {
            out.append(contentsOf: "Connection: close\r\n".utf8)
        } else if http10 {
            out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 10 {
            out.append(0x30 + UInt8(max(0, value)))
            return
        }
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var v = value
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while v > 0 && n < 20 {
                d[n] = 0x30 + UInt8(v % 10)
                v /= 10
                n += 1
            }
            while n > 0 {
                n -= 1
                out.append(d[n])
            }
        }
    }

    private static func isFramingHeader(_ name: String) -> Bool {
        switch name.utf8.count {
        case 4: HTTPHeaders.equalsIgnoringCase(name, "Date")
        case 10: HTTPHeaders.equalsIgnoringCase(name, "Connection")
        case 14: HTTPHeaders.equalsIgnoringCase(name, "Content-Length")
        case 17: HTTPHeaders.equalsIgnoringCase(name, "Transfer-Encoding")
        default: false
        }
    }

    /// `name: value` CRLF, unless either holds CR, LF or NUL. Over the contiguous UTF-8 (one
    /// check-and-copy per field instead of byte-by-byte string iteration), borrowed in place:
    /// `withUTF8` needs a mutable copy of each string (a retain and release per field).
    private static func appendField(_ name: String, _ value: String, to out: inout [UInt8]) {
        // Nil when either string has no contiguous UTF-8 (bridged or lazily built ones).
        let appended: Void?? = name.utf8.withContiguousStorageIfAvailable { n in
            value.utf8.withContiguousStorageIfAvailable { v in appendField(n, v, to: &out) }
        }
        if appended == nil || appended! == nil {
            var name = name
            var value = value
            name.withUTF8 { n in value.withUTF8 { v in appendField(n, v, to: &out) } }
        }
    }

    private static func appendField(
        _ n: UnsafeBufferPointer<UInt8>, _ v: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]
    ) {
        guard isSafe(n), isSafe(v) else { return }
        out.append(contentsOf: n)
        out.append(0x3A)
        out.append(0x20)
        out.append(contentsOf: v)
        out.append(0x0D)
        out.append(0x0A)
    }

    private static func isSafe(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for b in bytes where b <= 0x0D && (b == 0x0D || b == 0x0A || b == 0) { return false }
        return true
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 402: "Payment Required"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Range Not Satisfiable"
        case 417: "Expectation Failed"
        case 422: "Unprocessable Content"
        case 423: "Locked"
        case 425: "Too Early"
        case 428: "Precondition Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        case 507: "Insufficient Storage"
        default: "Status"
        }
    }
}

/// The `Date:` header line, rebuilt at most once per second.
enum DateHeader {
    private static let cache = Mutex<(second: Int, line: [UInt8])>((-1, []))

    static func append(to out: inout [UInt8]) {
        let now = time(nil)
        let line = cache.withLock { c -> [UInt8] in
            if c.second != now {
                c.second = now
                c.line = format(now)
            }
            return c.line
        }
        out.append(contentsOf: line)
    }

    private static func format(_ now: Int) -> [UInt8] {
        var t = time_t(now)
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let text =
            "Date: \(days[Int(parts.tm_wday) % 7]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon) % 12]) "
            + "\(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT\r\n"
        return Array(text.utf8)
    }
}
