/// A strict RFC 8259 pull reader over a byte buffer, for the inference path (no intermediate
/// values, no Foundation). Nesting is bounded by `maxDepth`; every error carries the offset.
struct JSONReader {
    let base: UnsafePointer<UInt8>
    let end: Int
    var position: Int
    private(set) var depth = 0
    static let maxDepth = 64

    init(_ buffer: UnsafeBufferPointer<UInt8>, position: Int = 0) {
        // An empty buffer has no base address; any non-null pointer works since nothing is read.
        base = buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!
        end = buffer.count
        self.position = position
    }

    func error(_ reason: String) -> InferenceError {
        .malformedJSON(offset: position, reason: reason)
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while position < end {
            let c = base[position]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            position += 1
        }
    }

    /// Next non-whitespace byte, not consumed; nil at the end.
    @inline(__always)
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < end ? base[position] : nil
    }

    /// Consumes `byte` when it is next (after whitespace).
    @inline(__always)
    mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        if position < end && base[position] == byte {
            position += 1
            return true
        }
        return false
    }

    mutating func expect(_ byte: UInt8) throws(InferenceError) {
        guard consume(byte) else {
            throw error(position < end ? "expected '\(Character(Unicode.Scalar(byte)))'" : "unexpected end of input")
        }
    }

    /// Requires that only whitespace remains.
    mutating func expectEnd() throws(InferenceError) {
        skipWhitespace()
        guard position == end else { throw error("unexpected data after the JSON value") }
    }

    // MARK: Containers

    mutating func enter(_ open: UInt8) throws(InferenceError) {
        try expect(open)
        depth += 1
        if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth)") }
    }

    mutating func leave() { depth -= 1 }

    /// Iterates an object's members: `body` gets each key and must consume the value.
    mutating func readObject(_ body: (inout JSONReader, String) throws(InferenceError) -> Void) throws(InferenceError) {
        try readObject(known: KnownNames.none) { (r, _, key) throws(InferenceError) in try body(&r, key) }
    }

    /// Iterates an object's members like `readObject(_:)`, but names in `known` are matched on
    /// their bytes, without building a String: `body` gets the name's index in `known`, or nil
    /// and the name. A name with escapes or non-ASCII bytes is decoded first, then matched.
    mutating func readObject(
        known: KnownNames, _ body: (inout JSONReader, Int?, String) throws(InferenceError) -> Void
    ) throws(InferenceError) {
        try enter(UInt8(ascii: "{"))
        if consume(UInt8(ascii: "}")) {
            depth -= 1
            return
        }
        while true {
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a member name") }
            var index: Int?
            var name = ""
            if let span = plainStringSpan() {
                index = known.index(of: span)
                if index == nil { name = String(decoding: span, as: UTF8.self) }
                position += span.count + 2
            } else {
                name = try readString()
                index = known.index(of: name)
                if index != nil { name = "" }
            }
            try expect(UInt8(ascii: ":"))
            try body(&self, index, name)
            if consume(UInt8(ascii: ",")) { continue }
            guard consume(UInt8(ascii: "}")) else { throw error("expected ',' or '}'") }
            depth -= 1
            return
        }
    }

    /// The bytes of the string at `position` (after whitespace, at its opening quote) when it is
    /// ASCII without escapes or control characters; nil otherwise. Consumes nothing.
    func plainStringSpan() -> UnsafeBufferPointer<UInt8>? {
        guard position < end, base[position] == UInt8(ascii: "\"") else { return nil }
        var i = position + 1
        while i < end {
            let c = base[i]
            if c == UInt8(ascii: "\"") {
                return UnsafeBufferPointer(start: base + position + 1, count: i - position - 1)
            }
            if c == UInt8(ascii: "\\") || c < 0x20 || c >= 0x80 { return nil }
            i += 1
        }
        return nil
    }

    /// Iterates an array's elements: `body` must consume each element.
    mutating func readArray(_ body: (inout JSONReader) throws(InferenceError) -> Void) throws(InferenceError) {
        try enter(UInt8(ascii: "["))
        if consume(UInt8(ascii: "]")) {
            depth -= 1
            return
        }
        while true {
            try body(&self)
            if consume(UInt8(ascii: ",")) { continue }
            guard consume(UInt8(ascii: "]")) else { throw error("expected ',' or ']'") }
            depth -= 1
            return
        }
    }

    // MARK: Strings

    /// A string's bytes (escapes decoded), validated as UTF-8.
    mutating func readStringBytes() throws(InferenceError) -> [UInt8] {
        skipWhitespace()
        guard position < end, base[position] == UInt8(ascii: "\"") else { throw error("expected a string") }
        position += 1
        let start = position
        // Fast path: no escapes.
        while position < end {
            let c = base[position]
            if c == UInt8(ascii: "\"") {
                let bytes = Array(UnsafeBufferPointer(start: base + start, count: position - start))
                position += 1
                try validateUTF8(bytes, at: start)
                return bytes
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw error("control character in string") }
            position += 1
        }
        var bytes = Array(UnsafeBufferPointer(start: base + start, count: position - start))
        while position < end {
            let c = base[position]
            if c == UInt8(ascii: "\"") {
                position += 1
                try validateUTF8(bytes, at: start)
                return bytes
            }
            if c < 0x20 { throw error("control character in string") }
            if c != UInt8(ascii: "\\") {
                bytes.append(c)
                position += 1
                continue
            }
            position += 1
            guard position < end else { break }
            let escape = base[position]
            position += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(escape)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try readHex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard position + 1 < end, base[position] == UInt8(ascii: "\\"),
                        base[position + 1] == UInt8(ascii: "u")
                    else { throw error("unpaired surrogate in \\u escape") }
                    position += 2
                    let low = try readHex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("unpaired surrogate in \\u escape")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                bytes.append(contentsOf: UTF8.encode(unicode)!)
            default:
                throw error("invalid escape '\\\(Character(Unicode.Scalar(escape)))'")
            }
        }
        throw error("unterminated string")
    }

    mutating func readString() throws(InferenceError) -> String {
        // Fast path: ASCII without escapes becomes a String straight from the buffer (a short key
        // needs no allocation at all); anything else takes the checked path below.
        skipWhitespace()
        if position < end, base[position] == UInt8(ascii: "\"") {
            var i = position + 1
            while i < end {
                let c = base[i]
                if c == UInt8(ascii: "\"") {
                    let bytes = UnsafeBufferPointer(start: base + position + 1, count: i - position - 1)
                    let text = String(decoding: bytes, as: UTF8.self)
                    position = i + 1
                    return text
                }
                if c == UInt8(ascii: "\\") || c < 0x20 || c >= 0x80 { break }
                i += 1
            }
        }
        let bytes = try readStringBytes()
        return String(decoding: bytes, as: UTF8.self)  // validated in readStringBytes
    }

    private mutating func readHex4() throws(InferenceError) -> UInt32 {
        guard position + 4 <= end else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = base[position]
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private func validateUTF8(_ bytes: [UInt8], at offset: Int) throws(InferenceError) {
        // ASCII is the common case; only check the rest.
        if bytes.allSatisfy({ $0 < 0x80 }) { return }
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return
            case .error: throw InferenceError.malformedJSON(offset: offset, reason: "string is not valid UTF-8")
            }
        }
    }

    // MARK: Literals and skipping

    mutating func readBool() throws(InferenceError) -> Bool {
        if consumeLiteral("true") { return true }
        if consumeLiteral("false") { return false }
        throw error("expected true or false")
    }

    mutating func consumeLiteral(_ literal: StaticString) -> Bool {
        skipWhitespace()
        let count = literal.utf8CodeUnitCount
        guard position + count <= end else { return false }
        let bytes = literal.utf8Start
        for i in 0..<count where base[position + i] != bytes[i] { return false }
        position += count
        return true
    }

    /// Skips one value of any kind, checking its syntax.
    mutating func skipValue() throws(InferenceError) {
        switch peek() {
        case UInt8(ascii: "{"): try readObject { (reader, _) throws(InferenceError) in try reader.skipValue() }
        case UInt8(ascii: "["): try readArray { (reader) throws(InferenceError) in try reader.skipValue() }
        case UInt8(ascii: "\""): _ = try readStringBytes()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try readBool()
        case UInt8(ascii: "n"):
            guard consumeLiteral("null") else { throw error("invalid literal") }
        case nil: throw error("unexpected end of input")
        default: _ = try scanNumber()
        }
    }
}

/// Names an object is expected to have, matched by `JSONReader.readObject(known:_:)` (at most
/// 64, so the ones seen fit in a bit mask).
struct KnownNames: Sendable {
    let names: [StaticString]
    /// No known names: every member comes with its decoded name.
    static let none = KnownNames([])

    init(_ names: [StaticString]) {
        precondition(names.count <= 64)
        self.names = names
    }

    func index(of bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        for (index, name) in names.enumerated() where name.utf8CodeUnitCount == bytes.count {
            var i = 0
            while i < bytes.count && name.utf8Start[i] == bytes[i] { i += 1 }
            if i == bytes.count { return index }
        }
        return nil
    }

    /// For a decoded name; compared as Strings (as a `switch` on the name would).
    func index(of name: String) -> Int? {
        names.firstIndex { name == String(describing: $0) }
    }

    subscript(index: Int) -> String { String(describing: names[index]) }
}

/// Member names seen in one object, for duplicate detection: a short list (objects on this path
/// have a handful of members; hashing each name cost more than comparing) that becomes a Set past
/// 16 names, so a hostile object with thousands of members stays linear.
struct MemberNames {
    private var few: [String] = []
    private var many: Set<String>?

    mutating func insert(_ name: String) -> Bool {
        if many != nil { return many!.insert(name).inserted }
        if few.contains(name) { return false }
        if few.count == 16 {
            many = Set(few + [name])
            few = []
        } else {
            few.append(name)
        }
        return true
    }

    func contains(_ name: String) -> Bool { many?.contains(name) ?? few.contains(name) }
}
