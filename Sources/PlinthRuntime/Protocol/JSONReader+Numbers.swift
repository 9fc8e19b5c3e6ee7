/// A scanned JSON number: its significant digits and decimal exponent, plus where it lies.
struct NumberToken {
    var start: Int
    var end: Int
    var negative = false
    /// Up to 19 significant digits.
    var mantissa: UInt64 = 0
    /// Value = mantissa × 10^exponent (when not truncated).
    var exponent = 0
    /// More than 19 significant digits: only the slow path is exact.
    var truncated = false
    /// No fraction and no exponent part.
    var isInteger = true
}

/// 10^e for 0 ≤ e ≤ 22 (exactly representable as Double). An array of literals is initialised
/// statically (no `swift_once` on a read; a switch compiled to a jump table cost more).
private let powersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
    1e20, 1e21, 1e22,
]

@inline(__always)
private func exactPowerOfTen(_ e: Int) -> Double {
    powersOfTen.withUnsafeBufferPointer { $0[e] }
}

/// 10^n for 0 ≤ n ≤ 8.
private let smallPowersOfTen: [UInt64] = [1, 10, 100, 1000, 10000, 100_000, 1_000_000, 10_000_000, 100_000_000]

extension JSONReader {
    @inline(__always)
    private func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

    /// Scans one number per RFC 8259's grammar.
    mutating func scanNumber() throws(InferenceError) -> NumberToken {
        skipWhitespace()
        // Locals, not `self.position`: the digit loops stay in registers (~40 % fewer instructions
        // per element of a float tensor).
        let base = self.base
        let end = self.end
        var p = position
        defer { position = p }
        var token = NumberToken(start: p, end: p)
        if p < end && base[p] == UInt8(ascii: "-") {
            token.negative = true
            p += 1
        }
        guard p < end, isDigit(base[p]) else {
            position = p
            throw error("expected a number")
        }
        var mantissa: UInt64 = 0
        var exponent = 0
        var digits = 0
        if base[p] == UInt8(ascii: "0") {
            p += 1
            if p < end && isDigit(base[p]) {
                position = p
                throw error("leading zero in number")
            }
        } else {
            while p < end {
                let d = base[p] &- UInt8(ascii: "0")
                guard d < 10 else { break }
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    digits += 1
                } else {
                    exponent += 1
                    token.truncated = true
                }
                p += 1
            }
        }
        if p < end && base[p] == UInt8(ascii: ".") {
            token.isInteger = false
            p += 1
            guard p < end, isDigit(base[p]) else {
                position = p
                throw error("expected a digit after '.'")
            }
            // While fewer than 19 digits are kept no digit can overflow or be dropped: a plain
            // loop, the exponent counted once. Past that, the careful loop below.
            let fraction = p
            let limit = min(end, p + (19 - digits))
            while p < limit {
                let d = base[p] &- UInt8(ascii: "0")
                guard d < 10 else { break }
                mantissa = mantissa &* 10 &+ UInt64(d)
                p += 1
            }
            exponent -= p - fraction
            if p == limit && p < end && isDigit(base[p]) { digits = Self.decimalLength(mantissa) }
            while p < end {
                let d = base[p] &- UInt8(ascii: "0")
                guard d < 10 else { break }
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    exponent -= 1
                    if mantissa != 0 { digits += 1 }
                } else if d != 0 {
                    token.truncated = true
                }
                p += 1
            }
        }
        if p < end && (base[p] | 0x20) == UInt8(ascii: "e") {
            token.isInteger = false
            p += 1
            var negativeExponent = false
            if p < end && (base[p] == UInt8(ascii: "+") || base[p] == UInt8(ascii: "-")) {
                negativeExponent = base[p] == UInt8(ascii: "-")
                p += 1
            }
            guard p < end, isDigit(base[p]) else {
                position = p
                throw error("expected a digit in the exponent")
            }
            var value = 0
            while p < end {
                let d = base[p] &- UInt8(ascii: "0")
                guard d < 10 else { break }
                if value < 100_000 { value = value * 10 + Int(d) }
                p += 1
            }
            exponent += negativeExponent ? -value : value
        }
        token.mantissa = mantissa
        token.exponent = exponent
        token.end = p
        return token
    }

    /// Digits of `value` without leading zeros (0 for 0): the significant digits kept so far.
    static func decimalLength(_ value: UInt64) -> Int {
        var count = 0
        var rest = value
        while rest > 0 {
            count += 1
            rest /= 10
        }
        return count
    }

    private func tokenText(_ token: NumberToken) -> String {
        String(decoding: UnsafeBufferPointer(start: base + token.start, count: token.end - token.start), as: UTF8.self)
    }

    /// Whether `Float(d)` is the Float nearest the decimal that `d` approximates to within 2
    /// Double ulps (one rounding of `mantissa` past 2^53, one of the product or quotient by an
    /// exact power of ten): true unless a Float rounding midpoint, a Double whose low 29 bits
    /// are 1000…0, lies within 8 ulps of `d`. For normal Floats (values from 10^-22 up).
    @inline(__always)
    static func roundsToFloat(_ d: Double) -> Bool {
        (d.bitPattern & 0x1FFF_FFFF) &- (0x1000_0000 - 8) > 16
    }

    /// The number as Float, bit-identical to `Float(String)`: up to 19 digits times a power of
    /// ten up to 10^22 in Double arithmetic, rounded to Float unless that could differ from
    /// rounding the decimal (`roundsToFloat`) or overflows; else the slow path.
    @inline(__always)
    func floatValue(_ token: NumberToken) throws(InferenceError) -> Float {
        if token.mantissa == 0 && !token.truncated { return token.negative ? -0.0 : 0.0 }
        if !token.truncated && token.exponent >= -22 && token.exponent <= 22 {
            var d = Double(token.mantissa)
            d = token.exponent < 0 ? d / exactPowerOfTen(-token.exponent) : d * exactPowerOfTen(token.exponent)
            let f = Float(d)
            if Self.roundsToFloat(d) && f.isFinite { return token.negative ? -f : f }
        }
        guard let value = Float(tokenText(token)), value.isFinite else {
            throw InferenceError.malformedJSON(offset: token.start, reason: "number out of range for FP32")
        }
        return value
    }

    /// The number as Double, bit-identical to `Double(String)`.
    @inline(__always)
    func doubleValue(_ token: NumberToken) throws(InferenceError) -> Double {
        if token.mantissa == 0 && !token.truncated { return token.negative ? -0.0 : 0.0 }
        if !token.truncated && token.mantissa <= 1 << 53 && token.exponent >= -22 && token.exponent <= 22 {
            var d = Double(token.mantissa)
            d = token.exponent < 0 ? d / exactPowerOfTen(-token.exponent) : d * exactPowerOfTen(token.exponent)
            return token.negative ? -d : d
        }
        guard let value = Double(tokenText(token)), value.isFinite else {
            throw InferenceError.malformedJSON(offset: token.start, reason: "number out of range for FP64")
        }
        return value
    }

    /// The next value when it is a plain decimal (`-?digits[.digits]`, at most 19 digits, no
    /// exponent) whose value Clinger's fast path gives exactly: its magnitude as Double and
    /// sign, position moved past it. Nil, position unchanged, for anything else (the general
    /// reader then takes it, errors included). Tensor data is mostly such numbers; this skips
    /// the general scanner's per-digit bookkeeping and its token. `forFloat` also takes digits
    /// past 2^53, the Double then within 2 ulps of the decimal (see `roundsToFloat`).
    @inline(__always)
    mutating func readPlainDecimal(forFloat: Bool = false) -> (magnitude: Double, negative: Bool)? {
        skipWhitespace()
        return Self.plainDecimal(base, at: &position, end: end, forFloat: forFloat)
    }

    /// `readPlainDecimal` on a bare buffer: `position` moves only when a value comes back.
    @inline(__always)
    static func plainDecimal(_ base: UnsafePointer<UInt8>, at position: inout Int, end: Int, forFloat: Bool)
        -> (magnitude: Double, negative: Bool)?
    {
        var p = position
        guard p < end else { return nil }
        let negative = base[p] == UInt8(ascii: "-")
        if negative { p &+= 1 }
        // The usual tensor element first: one digit, '.', one to seven digits (two loads, no
        // digit-count or range checks: the value is below 10^8).
        if end &- p >= 10 {
            let head = UInt16(littleEndian: UnsafeRawPointer(base + p).loadUnaligned(as: UInt16.self))
            let first = UInt64(head & 0xFF) &- 0x30
            if head >> 8 == UInt16(UInt8(ascii: ".")) && first < 10 {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + p + 2).loadUnaligned(as: UInt64.self))
                let n = leadingDigitCount(word)
                let next = UInt8(truncatingIfNeeded: word &>> UInt64(8 &* n))
                if UInt(bitPattern: n &- 1) < 7 && next | 0x20 != UInt8(ascii: "e") {
                    let mantissa = first &* smallPowerOfTen(n) &+ leadingDigitsValue(word, count: n)
                    position = p &+ 2 &+ n
                    // Below 10^8: the signed conversion is exact and shorter.
                    return (Double(Int64(truncatingIfNeeded: mantissa)) / exactPowerOfTen(n), negative)
                }
            }
        }
        guard p < end else { return nil }
        var mantissa = UInt64(base[p] &- UInt8(ascii: "0"))
        // No digit, or a leading zero: the general reader says what is wrong.
        guard mantissa < 10 else { return nil }
        p &+= 1
        var integerDigits = 1
        // Integer parts are mostly one digit (a word step costs about four byte steps).
        if p < end && base[p] &- UInt8(ascii: "0") < 10 {
            guard mantissa != 0 else { return nil }
            let rest = p
            p = readDigits(base, from: p, end: end, into: &mantissa)
            integerDigits &+= p &- rest
        }
        var fractionDigits = 0
        if p < end && base[p] == UInt8(ascii: ".") {
            p &+= 1
            let fractionStart = p
            p = readDigits(base, from: p, end: end, into: &mantissa)
            fractionDigits = p &- fractionStart
            guard fractionDigits > 0 else { return nil }
        }
        // Up to 19 digits cannot overflow (more wrap, and are refused here); a Double needs the
        // mantissa exact (below 2^53), as 10^22 is.
        guard integerDigits &+ fractionDigits <= 19, forFloat || mantissa <= 1 << 53,
            p == end || (base[p] | 0x20) != UInt8(ascii: "e")
        else { return nil }
        position = p
        guard mantissa != 0 else { return (0, negative) }
        let d = Double(mantissa)
        return (fractionDigits == 0 ? d : d / exactPowerOfTen(fractionDigits), negative)
    }

    /// Reads the digit run at `start`, appending its digits to `mantissa` (wrapping past 19
    /// digits); returns where the run ends. Eight bytes at a time while eight remain.
    @inline(__always)
    static func readDigits(
        _ base: UnsafePointer<UInt8>, from start: Int, end: Int, into mantissa: inout UInt64
    ) -> Int {
        var p = start
        while end &- p >= 8 {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + p).loadUnaligned(as: UInt64.self))
            let n = leadingDigitCount(word)
            if n == 0 { return p }
            let value = leadingDigitsValue(word, count: n)
            mantissa = mantissa &* smallPowerOfTen(n) &+ value
            p &+= n
            if n < 8 { return p }
        }
        while p < end {
            let d = base[p] &- UInt8(ascii: "0")
            guard d < 10 else { break }
            mantissa = mantissa &* 10 &+ UInt64(d)
            p &+= 1
        }
        return p
    }

    /// How many of `word`'s bytes (in memory order, little-endian) are ASCII digits before the
    /// first that is not: a byte is a digit when its high nibble and that of byte + 6 are both 3.
    /// The + 6 carries out of a byte ≥ 0xFA, which is no digit, into later bytes only.
    @inline(__always)
    static func leadingDigitCount(_ word: UInt64) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high = word ^ (ones &* 0x30)
        let shifted = (word &+ ones &* 0x06) ^ (ones &* 0x30)
        return ((high | shifted) & (ones &* 0xF0)).trailingZeroBitCount >> 3
    }

    /// The value of `word`'s first `count` (1…8) bytes, all ASCII digits: they are moved to the
    /// top (below them, zeros: leading zero digits), then adjacent lanes are combined in three
    /// multiplies (×10 + next byte, ×100 + next pair, ×10⁴ + next quad).
    @inline(__always)
    static func leadingDigitsValue(_ word: UInt64, count: Int) -> UInt64 {
        var v = (word &- 0x3030_3030_3030_3030) &<< UInt64(64 - 8 * count)
        v = ((v & 0x0F0F_0F0F_0F0F_0F0F) &* 2561) >> 8
        v = ((v & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16
        return ((v & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
    }

    /// 10^n for 0 ≤ n ≤ 8.
    @inline(__always)
    static func smallPowerOfTen(_ n: Int) -> UInt64 {
        smallPowersOfTen.withUnsafeBufferPointer { $0[n] }
    }

    /// Reads a float element; also accepts Python's `NaN`, `Infinity`, `-Infinity`.
    mutating func readFloat() throws(InferenceError) -> Float {
        let start = position
        if let (d, negative) = readPlainDecimal(forFloat: true) {
            // As in `floatValue`: a Double near a Float rounding midpoint goes the slow way.
            if Self.roundsToFloat(d) {
                let f = Float(d)
                return negative ? -f : f
            }
            position = start
        }
        if startsNonFinite(), let special = readNonFinite() { return Float(special) }
        return try floatValue(scanNumber())
    }

    mutating func readDouble() throws(InferenceError) -> Double {
        if let (d, negative) = readPlainDecimal() { return negative ? -d : d }
        if startsNonFinite(), let special = readNonFinite() { return special }
        return try doubleValue(scanNumber())
    }

    /// Whether the next value could be a non-finite literal: not a digit, nor '-' and a digit.
    /// Lets plain numbers skip `readNonFinite`.
    @inline(__always)
    private mutating func startsNonFinite() -> Bool {
        skipWhitespace()
        guard position < end else { return false }
        let c = base[position]
        if isDigit(c) { return false }
        if c == UInt8(ascii: "-"), position + 1 < end, isDigit(base[position + 1]) { return false }
        return true
    }

    private mutating func readNonFinite() -> Double? {
        switch peek() {
        case UInt8(ascii: "N"): return consumeLiteral("NaN") ? .nan : nil
        case UInt8(ascii: "I"): return consumeLiteral("Infinity") ? .infinity : nil
        case UInt8(ascii: "-"):
            // Only "-I…" can be one: a plain negative number tries no literal.
            guard position + 1 < end, base[position + 1] == UInt8(ascii: "I") else { return nil }
            return consumeLiteral("-Infinity") ? -.infinity : nil
        default: return nil
        }
    }

    /// An integer in `range`; fractions and exponents are rejected.
    mutating func readInteger(in range: ClosedRange<Int64>, _ typeName: String) throws(InferenceError) -> Int64 {
        let token = try scanNumber()
        guard token.isInteger else {
            throw InferenceError.malformedJSON(offset: token.start, reason: "expected an integer for \(typeName)")
        }
        guard !token.truncated, token.exponent == 0 else {
            throw InferenceError.malformedJSON(offset: token.start, reason: "integer out of range for \(typeName)")
        }
        let magnitude = token.mantissa
        let value: Int64
        if token.negative {
            guard magnitude <= UInt64(Int64.max) + 1 else {
                throw InferenceError.malformedJSON(offset: token.start, reason: "integer out of range for \(typeName)")
            }
            value = magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        } else {
            guard magnitude <= UInt64(Int64.max) else {
                throw InferenceError.malformedJSON(offset: token.start, reason: "integer out of range for \(typeName)")
            }
            value = Int64(magnitude)
        }
        guard range.contains(value) else {
            throw InferenceError.malformedJSON(offset: token.start, reason: "integer out of range for \(typeName)")
        }
        return value
    }

    /// A non-negative integer up to UInt64.max (20 digits, so re-read from the text).
    mutating func readUInt64() throws(InferenceError) -> UInt64 {
        let token = try scanNumber()
        guard token.isInteger, !token.negative || token.mantissa == 0 else {
            throw InferenceError.malformedJSON(
                offset: token.start, reason: "expected a non-negative integer for UINT64")
        }
        var value: UInt64 = 0
        for i in token.start..<token.end where base[i] != UInt8(ascii: "-") {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(base[i] - UInt8(ascii: "0")))
            guard !o1, !o2 else {
                throw InferenceError.malformedJSON(offset: token.start, reason: "integer out of range for UINT64")
            }
            value = sum
        }
        return value
    }
}
