/// Incremental decoder for `Transfer-Encoding: chunked` request bodies (RFC 9112 §7.1).
/// A byte-at-a-time state machine for the framing, bulk copies for data; no recursion and bounded
/// extension/trailer sizes, so megabytes of 1-byte chunks cost time linear in their size and no stack.
/// Bare LF is refused in the framing; sizes must be 1–15 hex digits.
struct ChunkedDecoder: Sendable {
    private enum State: Sendable {
        case size, ext, sizeLF, data, dataCR, dataLF, trailerStart, trailer, trailerLF, finalLF, done
    }

    private var state = State.size
    private var size = 0
    private var digits = 0
    private var extBytes = 0
    private var trailerBytes = 0
    private static let maxExtensionBytes = 4096
    private static let maxTrailerBytes = 16 * 1024

    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Decodes from `buf`, handing data pieces to `sink`. Returns the bytes consumed; stops right after
    /// the final CRLF (bytes past it belong to the next request).
    mutating func decode(
        _ buf: UnsafeRawBufferPointer, budget: Int = Int.max, _ sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        var i = 0
        let n = buf.count
        var budget = budget
        while i < n {
            let c = buf[i]
            switch state {
            case .size:
                if let v = ChunkedDecoder.hexValue(c) {
                    digits += 1
                    if digits > 15 { throw HTTPBodyError.malformed("chunk size too large") }
                    size = size << 4 | Int(v)
                } else if digits > 0, c == 0x3B || c == 0x20 || c == 0x09 {
                    state = .ext
                } else if digits > 0, c == 0x0D {
                    state = .sizeLF
                } else if c == 0x0A {
                    throw HTTPBodyError.malformed("bare LF in chunk framing")
                } else {
                    throw HTTPBodyError.malformed("invalid chunk size")
                }
                i += 1
            case .ext:
                if c == 0x0D {
                    state = .sizeLF
                } else if c == 0x0A {
                    throw HTTPBodyError.malformed("bare LF in chunk framing")
                } else {
                    extBytes += 1
                    if extBytes > ChunkedDecoder.maxExtensionBytes {
                        throw HTTPBodyError.malformed("chunk extension too long")
                    }
                }
                i += 1
            case .sizeLF:
                guard c == 0x0A else { throw HTTPBodyError.malformed("bare CR in chunk framing") }
                state = size == 0 ? .trailerStart : .data
                i += 1
            case .data:
                let take = min(size, n - i, budget)
                if take == 0 { return i }
                budget -= take
                try sink(UnsafeRawBufferPointer(rebasing: buf[i..<(i + take)]))
                size -= take
                i += take
                if size == 0 { state = .dataCR }
            case .dataCR:
                guard c == 0x0D else { throw HTTPBodyError.malformed("chunk data not followed by CRLF") }
                state = .dataLF
                i += 1
            case .dataLF:
                guard c == 0x0A else { throw HTTPBodyError.malformed("chunk data not followed by CRLF") }
                state = .size
                digits = 0
                extBytes = 0
                i += 1
            case .trailerStart:
                if c == 0x0D {
                    state = .finalLF
                } else if c == 0x0A {
                    throw HTTPBodyError.malformed("bare LF in chunk framing")
                } else {
                    state = .trailer
                    trailerBytes += 1
                }
                i += 1
            case .trailer:
                if c == 0x0D {
                    state = .trailerLF
                } else if c == 0x0A {
                    throw HTTPBodyError.malformed("bare LF in chunk framing")
                } else {
                    trailerBytes += 1
                    if trailerBytes > ChunkedDecoder.maxTrailerBytes {
                        throw HTTPBodyError.malformed("trailer section too large")
                    }
                }
                i += 1
            case .trailerLF:
                guard c == 0x0A else { throw HTTPBodyError.malformed("bare CR in chunk framing") }
                state = .trailerStart
                i += 1
            case .finalLF:
                guard c == 0x0A else { throw HTTPBodyError.malformed("bare CR in chunk framing") }
                state = .done
                return i + 1
            case .done:
                return i
            }
        }
        return i
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }
}
