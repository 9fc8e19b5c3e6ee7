#if canImport(Glibc)
    import Glibc
#endif

/// Strict HTTP/1.1 request-head parser working on raw bytes (RFC 9112, with the smuggling rules of
/// docs/http.md). Iterative and bounded: it never recurses and never reads past `maxHeaderBytes`.
struct RequestHeadParser {
    let maxHeaderBytes: Int
    let maxHeaderCount: Int

    enum Scan: Equatable {
        /// Need more bytes; resume scanning at `resumeAt`.
        case incomplete(resumeAt: Int)
        /// The head spans `[start, end)` (start skips leading empty lines).
        case complete(start: Int, end: Int)
    }

    /// Finds the end of the head (an empty line) in `buf`, scanning from `from`.
    /// Throws 431 once more than `maxHeaderBytes` bytes arrived without one.
    func scan(_ buf: UnsafeRawBufferPointer, from: Int) throws(HeadError) -> Scan {
        guard let base = buf.baseAddress else { return .incomplete(resumeAt: 0) }
        // RFC 9112 §2.2: ignore at least one empty line before the request line.
        var start = 0
        while start < buf.count, start < 4, buf[start] == 0x0D || buf[start] == 0x0A { start += 1 }
        var i = max(from, start)
        while i < buf.count {
            guard let p = memchr(base + i, 0x0A, buf.count - i) else { break }
            let lf = base.distance(to: UnsafeRawPointer(p))
            if lf + 1 < buf.count, buf[lf + 1] == 0x0A {
                return try checkSize(start, lf + 2)
            }
            if lf + 2 < buf.count, buf[lf + 1] == 0x0D, buf[lf + 2] == 0x0A {
                return try checkSize(start, lf + 3)
            }
            if lf + 2 >= buf.count {
                // The terminator may still be arriving: rescan from this LF next time.
                if buf.count - start > maxHeaderBytes { throw HeadError(431, "request head too large") }
                return .incomplete(resumeAt: lf)
            }
            i = lf + 1
        }
        if buf.count - start > maxHeaderBytes { throw HeadError(431, "request head too large") }
        return .incomplete(resumeAt: max(start, buf.count - 1))
    }

    private func checkSize(_ start: Int, _ end: Int) throws(HeadError) -> Scan {
        if end - start > maxHeaderBytes + 4 { throw HeadError(431, "request head too large") }
        return .complete(start: start, end: end)
    }

    /// Parses a complete head `buf[start..<end]` as returned by `scan`.
    func parse(_ buf: UnsafeRawBufferPointer, start: Int, end: Int) throws(HeadError) -> RequestHead {
        var lines = LineReader(buf: buf, position: start, end: end)
        guard let requestLine = try lines.next(), requestLine.count > 0 else {
            throw HeadError(400, "missing request line")
        }
        var head = try parseRequestLine(buf, requestLine)
        head.headers.reserveCapacity(8)

        var count = 0
        var hosts = 0
        var contentLength: Int?
        var codings: [Substring] = []
        var sawTransferEncoding = false
        var connectionClose = false
        var connectionKeepAlive = false
        while let line = try lines.next() {
            if line.isEmpty { break }
            count += 1
            if count > maxHeaderCount { throw HeadError(431, "too many header fields") }
            let first = buf[line.lowerBound]
            if first == 0x20 || first == 0x09 { throw HeadError(400, "obsolete line folding") }
            var colon = line.lowerBound
            while colon < line.upperBound, buf[colon] != 0x3A {
                guard HTTPSyntax.isTChar(buf[colon]) else {
                    let c = buf[colon]
                    throw HeadError(400, c == 0x20 || c == 0x09 ? "whitespace before colon" : "invalid header name")
                }
                colon += 1
            }
            guard colon < line.upperBound, colon > line.lowerBound else { throw HeadError(400, "invalid header line") }
            var vStart = colon + 1
            var vEnd = line.upperBound
            while vStart < vEnd, buf[vStart] == 0x20 || buf[vStart] == 0x09 { vStart += 1 }
            while vEnd > vStart, buf[vEnd - 1] == 0x20 || buf[vEnd - 1] == 0x09 { vEnd -= 1 }
            for j in vStart..<vEnd {
                let c = buf[j]
                if (c < 0x20 && c != 0x09) || c == 0x7F { throw HeadError(400, "invalid character in header value") }
            }
            let name = UnsafeRawBufferPointer(rebasing: buf[line.lowerBound..<colon])
            let value = CommonFields.string(UnsafeRawBufferPointer(rebasing: buf[vStart..<vEnd]))
            switch name.count {
            case 4 where HTTPSyntax.equalsLowercase(name, "host"):
                hosts += 1
            case 14 where HTTPSyntax.equalsLowercase(name, "content-length"):
                let n = try HTTPSyntax.parseContentLength(value)
                if let existing = contentLength, existing != n { throw HeadError(400, "conflicting Content-Length") }
                contentLength = n
            case 17 where HTTPSyntax.equalsLowercase(name, "transfer-encoding"):
                sawTransferEncoding = true
                for coding in value.split(separator: ",") {
                    let trimmed = coding.trimmingWhitespace()
                    if !trimmed.isEmpty { codings.append(trimmed) }
                }
            case 10 where HTTPSyntax.equalsLowercase(name, "connection"):
                for token in value.split(separator: ",") {
                    let t = token.trimmingWhitespace().lowercased()
                    if t == "close" { connectionClose = true } else if t == "keep-alive" { connectionKeepAlive = true }
                }
            case 6 where HTTPSyntax.equalsLowercase(name, "expect"):
                guard value.lowercased() == "100-continue" else { throw HeadError(417, "unsupported expectation") }
                head.expectContinue = true
            default:
                break
            }
            head.headers.add(CommonFields.string(name), value)
        }

        if head.isHTTP10 {
            if hosts > 1 { throw HeadError(400, "duplicate Host header") }
        } else if hosts != 1 {
            throw HeadError(400, hosts == 0 ? "missing Host header" : "duplicate Host header")
        }
        if sawTransferEncoding {
            if contentLength != nil { throw HeadError(400, "both Content-Length and Transfer-Encoding") }
            guard let last = codings.last, last.lowercased() == "chunked" else {
                throw HeadError(400, "chunked is not the final transfer coding")
            }
            if codings.count > 1 {
                let others = codings.dropLast()
                if others.contains(where: { $0.lowercased() == "chunked" }) {
                    throw HeadError(400, "chunked applied more than once")
                }
                throw HeadError(501, "unsupported transfer coding")
            }
            head.framing = .chunked
        } else if let n = contentLength, n > 0 {
            head.framing = .contentLength(n)
        }
        head.keepAlive =
            head.isHTTP10 ? (connectionKeepAlive && !connectionClose && !sawTransferEncoding) : !connectionClose
        if head.framing == .none { head.expectContinue = false }
        return head
    }

    private func parseRequestLine(_ buf: UnsafeRawBufferPointer, _ line: Range<Int>) throws(HeadError) -> RequestHead {
        var i = line.lowerBound
        while i < line.upperBound, HTTPSyntax.isTChar(buf[i]) { i += 1 }
        guard i > line.lowerBound, i < line.upperBound, buf[i] == 0x20 else {
            throw HeadError(400, "invalid request line")
        }
        let method = HTTPMethod(bytes: UnsafeRawBufferPointer(rebasing: buf[line.lowerBound..<i]))
        let targetStart = i + 1
        var j = targetStart
        var queryMark = -1
        while j < line.upperBound, buf[j] != 0x20 {
            let c = buf[j]
            if c <= 0x20 || c == 0x7F { throw HeadError(400, "invalid request target") }
            if c == 0x3F, queryMark < 0 { queryMark = j }
            j += 1
        }
        guard j > targetStart, j < line.upperBound else { throw HeadError(400, "invalid request line") }
        let version = UnsafeRawBufferPointer(rebasing: buf[(j + 1)..<line.upperBound])
        let isHTTP10: Bool
        if HTTPSyntax.equals(version, "HTTP/1.1") {
            isHTTP10 = false
        } else if HTTPSyntax.equals(version, "HTTP/1.0") {
            isHTTP10 = true
        } else if version.count == 8, HTTPSyntax.equals(UnsafeRawBufferPointer(rebasing: version[0..<5]), "HTTP/") {
            throw HeadError(505, "HTTP version not supported")
        } else {
            throw HeadError(400, "invalid request line")
        }
        let pathEnd = queryMark >= 0 ? queryMark : j
        guard buf[targetStart] == 0x2F || (method == .OPTIONS && pathEnd - targetStart == 1 && buf[targetStart] == 0x2A)
        else {
            throw HeadError(400, "request target must be an absolute path")
        }
        let path = String(decoding: UnsafeRawBufferPointer(rebasing: buf[targetStart..<pathEnd]), as: UTF8.self)
        let query =
            queryMark >= 0
            ? String(decoding: UnsafeRawBufferPointer(rebasing: buf[(queryMark + 1)..<j]), as: UTF8.self) : ""
        return RequestHead(
            method: method, path: path, query: query, headers: HTTPHeaders(), framing: .none,
            keepAlive: true, expectContinue: false, isHTTP10: isHTTP10)
    }
}

/// Splits a head into lines ending in CRLF or bare LF; a CR anywhere else is an error.
struct LineReader {
    let buf: UnsafeRawBufferPointer
    var position: Int
    let end: Int

    mutating func next() throws(HeadError) -> Range<Int>? {
        guard position < end, let base = buf.baseAddress else { return nil }
        guard let p = memchr(base + position, 0x0A, end - position) else { throw HeadError(400, "unterminated line") }
        let lf = base.distance(to: UnsafeRawPointer(p))
        var lineEnd = lf
        if lineEnd > position, buf[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        if lineEnd > position, memchr(base + position, 0x0D, lineEnd - position) != nil {
            throw HeadError(400, "bare CR in request head")
        }
        let range = position..<lineEnd
        position = lf + 1
        return range
    }
}
