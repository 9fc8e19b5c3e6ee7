/// Percent-decoding for path segments and query components. Invalid escapes are kept verbatim.
enum PercentCoding {
    static func decode<S: StringProtocol>(_ s: S, plusAsSpace: Bool) -> String {
        let utf8 = s.utf8
        if !utf8.contains(where: { $0 == 0x25 || (plusAsSpace && $0 == 0x2B) }) { return String(s) }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var it = Array(utf8)[...]
        while let byte = it.popFirst() {
            if byte == 0x25, it.count >= 2, let hi = hex(it[it.startIndex]), let lo = hex(it[it.startIndex + 1]) {
                out.append(hi << 4 | lo)
                it = it.dropFirst(2)
            } else if byte == 0x2B, plusAsSpace {
                out.append(0x20)
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }
}
