import XCTest

@testable import PlinthRuntime

/// The eight-bytes-at-a-time digit reader against byte-by-byte references and `Float(String)` /
/// `Double(String)`: every digit-run length in both parts, each next byte, near and far from the
/// end of the buffer (so both the word and the byte loops run).
final class JSONReaderNumberTests: XCTestCase {
    /// `readPlainDecimal` as it was, one byte at a time: the reference for results and positions
    /// (nil: whitespace skipped, nothing else read).
    static func referencePlainDecimal(_ bytes: [UInt8], at start: Int) -> (Double, Bool, Int)? {
        var p = start
        let end = bytes.count
        while p < end && [0x20, 0x0A, 0x0D, 0x09].contains(bytes[p]) { p += 1 }
        guard p < end else { return nil }
        let negative = bytes[p] == UInt8(ascii: "-")
        if negative { p += 1 }
        let integerStart = p
        var mantissa: UInt64 = 0
        while p < end, bytes[p] &- 0x30 < 10 {
            mantissa = mantissa &* 10 &+ UInt64(bytes[p] - 0x30)
            p += 1
        }
        let integerDigits = p - integerStart
        guard integerDigits == 1 || (integerDigits > 1 && bytes[integerStart] != UInt8(ascii: "0")) else { return nil }
        var fractionDigits = 0
        if p < end && bytes[p] == UInt8(ascii: ".") {
            p += 1
            let fractionStart = p
            while p < end, bytes[p] &- 0x30 < 10 {
                mantissa = mantissa &* 10 &+ UInt64(bytes[p] - 0x30)
                p += 1
            }
            fractionDigits = p - fractionStart
            guard fractionDigits > 0 else { return nil }
        }
        guard integerDigits + fractionDigits <= 19, mantissa <= 1 << 53,
            p == end || (bytes[p] | 0x20) != UInt8(ascii: "e")
        else { return nil }
        guard mantissa != 0 else { return (0, negative, p) }
        var d = Double(mantissa)
        for _ in 0..<fractionDigits { d /= 10 }  // not exact for many digits: only compared when exact
        return (fractionDigits == 0 ? Double(mantissa) : d, negative, p)
    }

    static let jsonNumber = try! NSRegularExpression(pattern: "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$")

    static func isJSONNumber(_ text: String) -> Bool {
        jsonNumber.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// Checks `text` followed by `next` (nil: the end of the buffer) and `padding` more bytes.
    func check(_ text: String, next: [UInt8], padding: Int, file: StaticString = #filePath, line: UInt = #line) {
        let lead = Array("[ ".utf8)
        let bytes = lead + Array(text.utf8) + next + [UInt8](repeating: UInt8(ascii: "]"), count: padding)
        let start = lead.count
        let numberEnds = next.isEmpty || !(next[0] == UInt8(ascii: ".") || (next[0] | 0x20) == UInt8(ascii: "e")
            || next[0] &- 0x30 < 10 || next[0] == UInt8(ascii: "-"))
        bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(buffer, position: start)
            let got = reader.readPlainDecimal()
            let want = Self.referencePlainDecimal(bytes, at: start)
            let label = "\(text) + \(next) + \(padding)"
            switch (got, want) {
            case (nil, nil):
                var skipped = JSONReader(buffer, position: start)
                skipped.skipWhitespace()
                XCTAssertEqual(reader.position, skipped.position, label, file: file, line: line)
            case (let got?, let want?):
                XCTAssertEqual(got.negative, want.1, label, file: file, line: line)
                XCTAssertEqual(reader.position, want.2, label, file: file, line: line)
                if numberEnds, let exact = Double(text) {
                    XCTAssertEqual(got.magnitude.bitPattern, exact.magnitude.bitPattern, label, file: file, line: line)
                }
            default:
                XCTFail("\(label): \(String(describing: got)) vs \(String(describing: want))", file: file, line: line)
            }
            guard numberEnds else { return }
            // The element readers: bit-identical to the String initialisers for a JSON number; for
            // other texts an error, or the value of a JSON number that is a prefix of the text.
            var floats = JSONReader(buffer, position: start)
            var doubles = JSONReader(buffer, position: start)
            let float = try? floats.readFloat()
            let double = try? doubles.readDouble()
            let valid = Self.isJSONNumber(text) && Float(text)!.isFinite
            XCTAssertEqual(float == nil, double == nil, label, file: file, line: line)
            XCTAssertEqual(floats.position, doubles.position, label, file: file, line: line)
            guard let float, let double else {
                XCTAssertFalse(valid, "\(label): rejected", file: file, line: line)
                return
            }
            let read = String(decoding: bytes[start..<floats.position], as: UTF8.self)
            XCTAssertTrue(Self.isJSONNumber(read), label, file: file, line: line)
            if valid { XCTAssertEqual(read, text, label, file: file, line: line) }
            XCTAssertEqual(float.bitPattern, Float(read)?.bitPattern, label, file: file, line: line)
            XCTAssertEqual(double.bitPattern, Double(read)?.bitPattern, label, file: file, line: line)
        }
    }

    static let nextBytes: [[UInt8]] =
        [[]] + ", ] e E . - } e5".split(separator: " ").map { Array($0.utf8) } + [[0x20]]
        + [[0x2F], [0x3A], [0x00], [0x7F], [0x80]] + (0xFA...0xFF).map { [UInt8($0)] }

    func testEveryDigitRunLengthBeforeEveryNextByteNearAndFarFromTheEnd() {
        var generator = SystemRandomNumberGenerator()
        func digits(_ count: Int) -> String {
            String((0..<count).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
        }
        for integerDigits in 0...20 {
            for fractionDigits in -1...20 {
                let sign = Bool.random(using: &generator) ? "-" : ""
                var integer = digits(integerDigits)
                // Mostly no leading zero, so the fraction path runs; some with one.
                if integerDigits > 1 && integer.first == "0" && Bool.random(using: &generator) {
                    integer = "1" + integer.dropFirst()
                }
                let text = sign + integer + (fractionDigits < 0 ? "" : "." + digits(fractionDigits))
                for next in Self.nextBytes {
                    for padding in [0, 1, 2, 5, 7, 8, 9, 16] { check(text, next: next, padding: padding) }
                }
            }
        }
    }

    func testEdgeTexts() {
        let texts = [
            "0", "-0", "-", "", ".5", "5.", "-.5", "00", "01", "-01", "0.0", "-0.0", "0.00000000", "00.5",
            "9007199254740992", "9007199254740993", "900719925474099.3", "0.9007199254740993", "1234567890123456789",
            "12345678901234567890", "1234567890.123456789", "1234567890.1234567891", "99999999", "999999999",
            "9999999999999999", "12345678", "1234567", "123456789", "0.12345678", "0.1234567", "0.123456789",
            "-0.352334", "0.5e", "1e5", "1E-5", "--1", "-a", "1.5.5", "1e", "1.e5",
        ]
        for text in texts {
            for next in Self.nextBytes {
                for padding in 0...10 { check(text, next: next, padding: padding) }
            }
        }
    }

    func testRandomDecimals() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20000 {
            let precision = Int.random(in: 0...12, using: &generator)
            let magnitude = [1.0, 100, 1e6, 1e12].randomElement(using: &generator)!
            let text = String(format: "%.\(precision)f", Double.random(in: -magnitude...magnitude, using: &generator))
            check(text, next: Self.nextBytes.randomElement(using: &generator)!, padding: Int.random(in: 0...10))
        }
    }

    /// Plain decimals of 16 to 19 digits (past 2^53, so their Double is not exact; Python's repr
    /// of a float32 widened to double is such a text) on and near Float rounding midpoints:
    /// bit-identical to `Float(String)` through the element reader and the FP32 data loop.
    func testLongDecimalsNearFloatMidpointsRoundLikeFloatString() {
        var generator = SystemRandomNumberGenerator()
        var texts = ["0.35233399271965027", "-0.69830197095870972", "0.30000001192092896", "16777217.000000001"]
        for _ in 0..<3000 {
            // Floats from about 1e-4 to 1e9: "%.Ng" stays plain.
            let f = Float(bitPattern: UInt32.random(in: 0x38D1_B717...0x4E6E_6B28, using: &generator))
            let midpoint = (Double(f) + Double(f.nextUp)) / 2
            for d in [midpoint, midpoint.nextUp, midpoint.nextDown, Double(f)] {
                texts.append(String(format: "%.\(Int.random(in: 16...19, using: &generator))g", d))
            }
        }
        texts = texts.filter { !$0.contains("e") }
        XCTAssertGreaterThan(texts.count, 10_000)
        for text in texts { check(text, next: Array(",".utf8), padding: 8) }
        for start in stride(from: 0, to: texts.count, by: 100) {
            let chunk = Array(texts[start..<min(start + 100, texts.count)])
            let bytes = Array(("[" + chunk.joined(separator: ",") + "]").utf8)
            bytes.withUnsafeBufferPointer { buffer in
                var reader = JSONReader(buffer)
                let values = try? reader.readFloatData(capacity: chunk.count)
                XCTAssertEqual(values?.map(\.bitPattern), chunk.map { Float($0)!.bitPattern })
            }
        }
        // The fast path takes them (and not only the slow one).
        let long = Array("0.35233399271965027,".utf8)
        long.withUnsafeBufferPointer { buffer in
            var position = 0
            let read = JSONReader.plainDecimal(buffer.baseAddress!, at: &position, end: buffer.count, forFloat: true)
            XCTAssertNotNil(read)
            XCTAssertEqual(position, long.count - 1)
            var exact = 0
            XCTAssertNil(JSONReader.plainDecimal(buffer.baseAddress!, at: &exact, end: buffer.count, forFloat: false))
        }
    }

    /// The word helpers on their own: every byte value as the first non-digit at every place,
    /// with random bytes after it.
    func testWordDigitCountAndValue() {
        var generator = SystemRandomNumberGenerator()
        for place in 0...8 {
            for byte in 0...255 {
                for _ in 0..<4 {
                    var bytes = (0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    for i in 0..<place { bytes[i] = UInt8.random(in: 0x30...0x39, using: &generator) }
                    if place < 8 { bytes[place] = UInt8(byte) }
                    var expectedCount = 0
                    while expectedCount < 8 && bytes[expectedCount] &- 0x30 < 10 { expectedCount += 1 }
                    let word = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                    let count = JSONReader.leadingDigitCount(word)
                    XCTAssertEqual(count, expectedCount, "\(bytes)")
                    guard count > 0 else { continue }
                    let expectedValue = bytes[..<count].reduce(UInt64(0)) { $0 * 10 + UInt64($1 - 0x30) }
                    XCTAssertEqual(JSONReader.leadingDigitsValue(word, count: count), expectedValue, "\(bytes)")
                }
            }
        }
    }
}
