import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Request ids: a client's X-Request-Id when it is sane (1–128 chars of [A-Za-z0-9._:-]),
/// otherwise a process-unique id (random per-process prefix + counter; no syscall per request).
enum RequestID {
    private static let counter = Atomic<UInt64>(0)
    private static let prefix: UInt64 = {
        var rng = SystemRandomNumberGenerator()
        return UInt64(UInt32.random(in: 0...UInt32.max, using: &rng))
    }()

    static func from(_ headers: HTTPHeaders) -> String {
        if let given = headers["X-Request-Id"], isSane(given) { return given }
        return generate()
    }

    static func generate() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        // One allocation: the 20 hex digits are written straight into the string's storage.
        return String(unsafeUninitializedCapacity: 20) { buf in
            // 8 hex digits of per-process random prefix, then 12 of the counter.
            var v = prefix << 48 | (n & 0xFFFF_FFFF_FFFF)
            let high = prefix >> 16
            var i = 19
            while i >= 0 {
                if i == 3 { v = high }
                let d = UInt8(truncatingIfNeeded: v & 0xF)
                buf[i] = d < 10 ? 0x30 + d : 0x57 + d
                v >>= 4
                i -= 1
            }
            return 20
        }
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
}
