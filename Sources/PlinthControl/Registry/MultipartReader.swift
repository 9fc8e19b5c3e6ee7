import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Streams the first file part of a multipart/form-data body (the part named `file` or
/// `artifact`, or else the first part with a filename) without buffering it: memory stays bounded
/// by the chunk size plus the boundary length.
struct MultipartReader {
    enum Failure: Error {
        case malformed(String)
        case noFilePart
    }

    private let delimiter: [UInt8]  // "\r\n--boundary"
    private var buffer: [UInt8] = []
    private var start = 0

    /// The boundary parameter of a Content-Type header, nil when it is not multipart/form-data.
    static func boundary(fromContentType contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = parts.first, first.lowercased() == "multipart/form-data" else { return nil }
        for part in parts.dropFirst() where part.lowercased().hasPrefix("boundary=") {
            var value = String(part.dropFirst("boundary=".count))
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = String(value.dropFirst().dropLast())
            }
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first delimiter may come without the leading CRLF: pretend one was there.
        buffer = [13, 10]
    }

    /// Pulls chunks from `next` (nil at end of body) and hands the selected part's bytes to `sink`.
    mutating func run(next: () throws -> [UInt8]?, sink: ([UInt8]) throws -> Void) throws {
        var selectedDone = false
        var inBody = false
        var selected = false
        var ended = false
        // Preamble: skip to the first delimiter.
        try fill(untilFound: delimiter, next: next, limit: 64 * 1024)
        guard let first = find(delimiter) else { throw Failure.malformed("no boundary found") }
        start = first + delimiter.count
        while !ended {
            if !inBody {
                // After a delimiter: "--" ends the body, CRLF starts a part's headers.
                try fill(untilAvailable: 2, next: next)
                guard available >= 2 else { throw Failure.malformed("truncated after boundary") }
                if buffer[start] == 45, buffer[start + 1] == 45 {
                    ended = true
                    break
                }
                guard buffer[start] == 13, buffer[start + 1] == 10 else { throw Failure.malformed("bad boundary line") }
                start += 2
                let terminator: [UInt8] = [13, 10, 13, 10]
                try fill(untilFound: terminator, next: next, limit: 16 * 1024)
                guard let end = find(terminator) else { throw Failure.malformed("part headers too long or truncated") }
                let headers = String(decoding: buffer[start..<end], as: UTF8.self)
                start = end + 4
                selected = !selectedDone && Self.isFilePart(headers)
                inBody = true
            }
            // Part body: everything up to the next delimiter.
            if let end = find(delimiter) {
                if selected { try sink(Array(buffer[start..<end])) }
                start = end + delimiter.count
                if selected { selectedDone = true }
                selected = false
                inBody = false
                compact()
                continue
            }
            // Emit what cannot be the start of a delimiter, keep the tail.
            let safe = available - (delimiter.count - 1)
            if safe > 0 {
                if selected { try sink(Array(buffer[start..<(start + safe)])) }
                start += safe
            }
            compact()
            guard let chunk = try next() else { throw Failure.malformed("body ended inside a part") }
            buffer.append(contentsOf: chunk)
        }
        // Drain the epilogue.
        while try next() != nil {}
        if !selectedDone { throw Failure.noFilePart }
    }

    private var available: Int { buffer.count - start }

    private mutating func compact() {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }

    private mutating func fill(untilFound needle: [UInt8], next: () throws -> [UInt8]?, limit: Int) throws {
        while find(needle) == nil {
            guard available < limit, let chunk = try next() else { return }
            compact()
            buffer.append(contentsOf: chunk)
        }
    }

    private mutating func fill(untilAvailable count: Int, next: () throws -> [UInt8]?) throws {
        while available < count {
            guard let chunk = try next() else { return }
            compact()
            buffer.append(contentsOf: chunk)
        }
    }

    /// Index of `needle` in the unread part of the buffer.
    private func find(_ needle: [UInt8]) -> Int? {
        guard available >= needle.count, let first = needle.first else { return nil }
        return buffer.withUnsafeBufferPointer { buf -> Int? in
            guard let base = buf.baseAddress else { return nil }
            var i = start
            let last = buf.count - needle.count
            while i <= last {
                guard let hit = memchr(base + i, Int32(first), last - i + 1) else { return nil }
                let index = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + index, needle, needle.count) == 0 { return index }
                i = index + 1
            }
            return nil
        }
    }

    private static func isFilePart(_ headers: String) -> Bool {
        for line in headers.split(separator: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
            let lower = line.lowercased()
            return lower.contains("name=\"file\"") || lower.contains("name=\"artifact\"") || lower.contains("filename=")
        }
        return false
    }
}
