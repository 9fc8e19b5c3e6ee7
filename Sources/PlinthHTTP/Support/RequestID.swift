import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Request ids: a client's X-Request-Id when it is sane (1–128 chars of [A-Za-z0-9._:-]),
/// otherwise a process-unique id (random per-process prefix + counter; no syscall per request).
enum RequestID {
    private static let counter = Atomic<UInt64>(0)
    private static let prefix: String = {
        var rng = SystemRandomNumberGenerator()
        return hex(UInt64(UInt32.random(in: 0...UInt32.max, using: &rng)), width: 8)
    }()

    static func from(_ headers: HTTPHeaders) -> String {
        if let given = headers["X-Request-Id"], isSane(given) { return given }
        return generate()
    }

    static func generate() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        return prefix + hex(n & 0xFFFF_FFFF_FFFF, width: 12)
    }

    static func isSane(_ s: String) -> Bool {
        let utf8 = s.utf8
        guard !utf8.isEmpty, utf8.count <= 128 else { return false }
        for c in utf8 {
            switch c {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x3A: continue
            default: return false
            }
        }
        return true
    }

    private static func hex(_ value: UInt64, width: Int) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0x30, count: width)
        var v = value
        var i = width - 1
        while i >= 0 {
            out[i] = digits[Int(v & 0xF)]
            v >>= 4
            i -= 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
