/// The last lines a replica wrote, bounded in line count and line length (a ring buffer fed
/// with raw pipe bytes; partial lines are kept until their newline arrives).
public struct LogTail: Sendable, Equatable {
    public let maxLines: Int
    public let maxLineBytes: Int
    private var ring: [String] = []
    private var head = 0
    private var partial: [UInt8] = []
    /// Lines dropped from the front because the buffer was full.
    public private(set) var droppedLines = 0

    public init(maxLines: Int = 50, maxLineBytes: Int = 1024) {
        self.maxLines = max(1, maxLines)
        self.maxLineBytes = max(16, maxLineBytes)
    }

    /// Appends raw output; splits on '\n', truncates overlong lines.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            if byte == 0x0a {
                flushPartial()
            } else if partial.count < maxLineBytes {
                partial.append(byte)
            }
        }
    }

    /// The buffered lines, oldest first, including an unterminated last line.
    public var lines: [String] {
        var result = Array(ring[head...] + ring[..<head])
        if !partial.isEmpty { result.append(String(decoding: partial, as: UTF8.self)) }
        return result.count > maxLines ? Array(result.suffix(maxLines)) : result
    }

    private mutating func flushPartial() {
        var line = String(decoding: partial, as: UTF8.self)
        if line.hasSuffix("\r") { line.removeLast() }
        partial.removeAll(keepingCapacity: true)
        if ring.count < maxLines {
            ring.append(line)
        } else {
            ring[head] = line
            head = (head + 1) % maxLines
            droppedLines += 1
        }
    }
}
