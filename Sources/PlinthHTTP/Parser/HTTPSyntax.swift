/// Byte-level token rules shared by the request and response parsers.
enum HTTPSyntax {
    /// RFC 9110 tchar.
    @inline(__always)
    static func isTChar(_ c: UInt8) -> Bool {
        switch c {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true
        default: false
        }
    }

    /// `bytes` equals the lowercase ASCII `literal`, ignoring case.
    static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        let lit = literal.utf8Start
        for i in 0..<bytes.count {
            var c = bytes[i]
            if c >= 0x41 && c <= 0x5A { c |= 0x20 }
            if c != lit[i] { return false }
        }
        return true
    }

    static func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        let lit = literal.utf8Start
        for i in 0..<bytes.count where bytes[i] != lit[i] { return false }
        return true
    }

    /// 1*DIGIT, at most 18 digits (no sign, no list, no whitespace inside).
    static func parseContentLength(_ value: String) throws(HeadError) -> Int {
        var n = 0
        var digits = 0
        for c in value.utf8 {
            guard c >= 0x30, c <= 0x39 else { throw HeadError(400, "invalid Content-Length") }
            digits += 1
            if digits > 18 { throw HeadError(400, "Content-Length too large") }
            n = n * 10 + Int(c - 0x30)
        }
        guard digits > 0 else { throw HeadError(400, "invalid Content-Length") }
        return n
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
