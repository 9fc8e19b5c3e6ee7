/// Parses a response head (status line + fields) for the client. Bounded like the request parser.
struct ResponseHeadParser {
    struct Head {
        var status: Int
        var headers: HTTPHeaders
        var framing: BodyFraming
        var untilClose: Bool
        var keepAlive: Bool
    }

    static let maxHeadBytes = 64 * 1024

    static func parse(_ buf: UnsafeRawBufferPointer, start: Int, end: Int, requestMethod: HTTPMethod) throws -> Head {
        var lines = LineReader(buf: buf, position: start, end: end)
        let statusLine: Range<Int>?
        do { statusLine = try lines.next() } catch { throw HTTPClientError.malformedResponse(error.message) }
        guard let statusLine, statusLine.count >= 12 else { throw HTTPClientError.malformedResponse("status line") }
        let version = UnsafeRawBufferPointer(rebasing: buf[statusLine.lowerBound..<(statusLine.lowerBound + 8)])
        let http10 = HTTPSyntax.equals(version, "HTTP/1.0")
        guard http10 || HTTPSyntax.equals(version, "HTTP/1.1"), buf[statusLine.lowerBound + 8] == 0x20 else {
            throw HTTPClientError.malformedResponse("status line")
        }
        var status = 0
        for i in (statusLine.lowerBound + 9)..<(statusLine.lowerBound + 12) {
            let c = buf[i]
            guard c >= 0x30 && c <= 0x39 else { throw HTTPClientError.malformedResponse("status code") }
            status = status * 10 + Int(c - 0x30)
        }
        var headers = HTTPHeaders()
        headers.fields.reserveCapacity(10)
        var contentLength: Int?
        var chunked = false
        var close = http10
        while true {
            let line: Range<Int>?
            do { line = try lines.next() } catch { throw HTTPClientError.malformedResponse(error.message) }
            guard let line, !line.isEmpty else { break }
            // Byte-level: name checks and OWS trimming before any String exists.
            var colon = line.lowerBound
            while colon < line.upperBound && buf[colon] != 0x3A { colon += 1 }
            guard colon < line.upperBound, colon > line.lowerBound else {
                throw HTTPClientError.malformedResponse("header line")
            }
            let name = UnsafeRawBufferPointer(rebasing: buf[line.lowerBound..<colon])
            var valueStart = colon + 1
            var valueEnd = line.upperBound
            while valueStart < valueEnd && (buf[valueStart] == 0x20 || buf[valueStart] == 0x09) { valueStart += 1 }
            while valueEnd > valueStart && (buf[valueEnd - 1] == 0x20 || buf[valueEnd - 1] == 0x09) { valueEnd -= 1 }
            let value = CommonFields.string(UnsafeRawBufferPointer(rebasing: buf[valueStart..<valueEnd]))
            if HTTPSyntax.equalsLowercase(name, "content-length") {
                let n: Int
                do { n = try HTTPSyntax.parseContentLength(value) } catch {
                    throw HTTPClientError.malformedResponse("Content-Length")
                }
                if let c = contentLength, c != n {
                    throw HTTPClientError.malformedResponse("conflicting Content-Length")
                }
                contentLength = n
            } else if HTTPSyntax.equalsLowercase(name, "transfer-encoding") {
                chunked = value.lowercased().hasSuffix("chunked")
                if !chunked { close = true }
            } else if HTTPSyntax.equalsLowercase(name, "connection") {
                let v = value.lowercased()
                if v.contains("close") { close = true } else if v.contains("keep-alive") && http10 { close = false }
            }
            headers.add(CommonFields.string(name), value)
        }
        if chunked && contentLength != nil {
            throw HTTPClientError.malformedResponse("both Content-Length and chunked")
        }
        var framing = BodyFraming.none
        var untilClose = false
        if requestMethod == .HEAD || status == 204 || status == 304 || status < 200 {
            framing = .none
        } else if chunked {
            framing = .chunked
        } else if let contentLength {
            framing = contentLength > 0 ? .contentLength(contentLength) : .none
        } else {
            untilClose = true
            close = true
        }
        return Head(status: status, headers: headers, framing: framing, untilClose: untilClose, keepAlive: !close)
    }
}
