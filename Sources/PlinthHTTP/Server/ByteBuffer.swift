#if canImport(Glibc)
    import Glibc
#endif

/// A malloc-backed byte queue for a connection's unparsed input: append at the back, consume at the
/// front, no copy-on-write and no bounds traps. Owned by one thread at a time.
struct ByteBuffer: ~Copyable {
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var capacity = 0
    private(set) var start = 0
    private(set) var end = 0

    init() {}

    deinit { free(base) }

    var count: Int { end - start }
    var isEmpty: Bool { end == start }

    var readable: UnsafeRawBufferPointer {
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + start, count: end - start)
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, let src = bytes.baseAddress else { return }
        reserveTail(bytes.count)
        (base! + end).copyMemory(from: src, byteCount: bytes.count)
        end += bytes.count
    }

    mutating func consume(_ n: Int) {
        start += min(n, count)
        if start == end {
            start = 0
            end = 0
        }
    }

    /// Drops everything and releases the memory (idle connections hold no buffer).
    mutating func release() {
        free(base)
        base = nil
        capacity = 0
        start = 0
        end = 0
    }

    /// Ensures `n` writable bytes after `end`, compacting first.
    mutating func reserveTail(_ n: Int) {
        if capacity - end >= n { return }
        if start > 0, let base {
            memmove(base, base + start, end - start)
            end -= start
            start = 0
            if capacity - end >= n { return }
        }
        var newCapacity = max(capacity * 2, 4096)
        while newCapacity - end < n { newCapacity *= 2 }
        base = realloc(base, newCapacity)
        precondition(base != nil, "out of memory")
        capacity = newCapacity
    }

    /// Writable tail after `reserveTail`; call `didWrite` with what was filled.
    var writableTail: UnsafeMutableRawPointer { base! + end }
    mutating func didWrite(_ n: Int) { end += n }

    func copyOut() -> [UInt8] { Array(readable) }
}

// The buffer is non-copyable: exactly one owner holds the pointer at any time, so moving it between
// threads (inside a Mutex or a message) cannot create shared access.
extension ByteBuffer: @unchecked Sendable {}
