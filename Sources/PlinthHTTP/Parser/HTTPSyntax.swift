#if canImport(Glibc)
    import Glibc
#endif

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
        if let n = HTTPHeaders.decimalValue(value) { return n }
        let allDigits = !value.isEmpty && value.utf8.allSatisfy { $0 &- 0x30 < 10 }
        throw HeadError(400, allDigits ? "Content-Length too large" : "invalid Content-Length")
    }
}

extension HTTPHeaders {
    /// A field value made of 1–18 ASCII digits (no sign, no spaces), else nil.
    public static func decimalValue(_ value: String) -> Int? {
        var n = 0
        var digits = 0
        for c in value.utf8 {
            let digit = c &- 0x30
            guard digit < 10, digits < 18 else { return nil }
            n = n &* 10 &+ Int(digit)
            digits += 1
        }
        return digits > 0 ? n : nil
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

/// Header names and values that recur on nearly every request and answer (exact spelling), as
/// static strings: a parser that meets one skips the UTF-8 validation and, above 15 bytes, the
/// allocation a new String costs. Anything else is decoded as usual.
enum CommonFields {
    private static let literals: [String] = [
        "Host", "Accept", "Content-Type", "Content-Length", "Authorization", "User-Agent", "Connection",
        "Date", "Server", "X-Request-Id", "X-API-Key", "X-Api-Key", "Keep-Alive", "Accept-Encoding",
        "Transfer-Encoding", "Inference-Header-Content-Length", "Plinth-Queue-Us", "Plinth-Compute-Us",
        "Plinth-Batch-Size", "Plinth-Request-Rows", "Plinth-Model-Version", "Plinth-Routing-Key",
        "application/json", "application/octet-stream", "keep-alive", "close", "*/*", "chunked",
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
    ]

    /// Immortal open-addressing table: a hash of the length and three bytes picks a slot, so a
    /// lookup is one or two byte comparisons (scanning every literal of the same length, with a
    /// memcmp call each, was ~175 instructions per field: 5 % of a gateway request).
    private struct Table: @unchecked Sendable {
        static let slots = 256
        let bytes: UnsafeMutablePointer<UInt8>
        /// Per slot: the literal's offset in `bytes` and its length; length 0 marks an empty slot.
        let offsets: UnsafeMutablePointer<Int>
        let lengths: UnsafeMutablePointer<Int>
        let strings: UnsafeMutablePointer<String>
        let maxLength: Int
    }

    @inline(__always)
    private static func slot(_ base: UnsafeRawPointer, _ n: Int) -> Int {
        let h = n &* 131 &+ Int(base.load(as: UInt8.self)) &* 31 &+ Int(base.load(fromByteOffset: n &- 1, as: UInt8.self)) &* 7
            &+ Int(base.load(fromByteOffset: n >> 1, as: UInt8.self))
        return h & (Table.slots - 1)
    }

    private static let table: Table = {
        let total = literals.reduce(0) { $0 + $1.utf8.count }
        let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: total)
        let offsets = UnsafeMutablePointer<Int>.allocate(capacity: Table.slots)
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: Table.slots)
        lengths.initialize(repeating: 0, count: Table.slots)
        offsets.initialize(repeating: 0, count: Table.slots)
        let strings = UnsafeMutablePointer<String>.allocate(capacity: Table.slots)
        strings.initialize(repeating: "", count: Table.slots)
        var offset = 0
        var maxLength = 0
        for literal in literals {
            let n = literal.utf8.count
            for (i, b) in literal.utf8.enumerated() { bytes[offset + i] = b }
            var s = slot(UnsafeRawPointer(bytes + offset), n)
            while lengths[s] != 0 { s = (s + 1) & (Table.slots - 1) }
            offsets[s] = offset
            lengths[s] = n
            strings[s] = literal
            offset += n
            maxLength = max(maxLength, n)
        }
        return Table(bytes: bytes, offsets: offsets, lengths: lengths, strings: strings, maxLength: maxLength)
    }()

    static func string(_ raw: UnsafeRawBufferPointer) -> String {
        let n = raw.count
        let table = Self.table
        if n > 0, n <= table.maxLength, let base = raw.baseAddress {
            var s = slot(base, n)
            while table.lengths[s] != 0 {
                if table.lengths[s] == n, memcmp(table.bytes + table.offsets[s], base, n) == 0 { return table.strings[s] }
                s = (s + 1) & (Table.slots - 1)
            }
        }
        return String(decoding: raw, as: UTF8.self)
    }
}
