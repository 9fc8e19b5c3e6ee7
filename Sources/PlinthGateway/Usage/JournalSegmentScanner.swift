import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

/// One valid record read from a segment file.
struct JournalRecord {
    var event: UsageEvent
    var state: UsageRecordState
    /// File offset of the record's first byte.
    var offset: Int64
    /// File offset just past it.
    var end: Int64
}

/// Reads the records of one segment file in order, stopping at the end of its data (end of file,
/// or a zero length word in preallocated space) or at the first record that is torn or corrupt
/// (short, impossible length, CRC mismatch, unknown state, undecodable payload).
struct JournalSegmentScanner {
    /// How a scan ended.
    enum Stop: Equatable {
        /// Reached the end of the data or the requested limit cleanly.
        case end
        /// Hit an invalid record at `validEnd` (a torn tail after a crash, or corruption).
        case invalidRecord
        /// The segment header is missing or wrong.
        case invalidHeader
        /// The caller's handler asked to stop (batch full).
        case handlerStopped
    }

    struct Result {
        /// Offset just past the last valid record read.
        var validEnd: Int64
        var stop: Stop
        var fileSize: Int64
    }

    let path: String
    let segment: UInt64
    /// Bytes read per system call.
    var chunkSize = 256 * 1024

    /// Calls `handler` for each valid record starting at `from` (0 means the first record) and
    /// ending no later than `limit`; `handler` returns false to stop.
    func scan(from: Int64, limit: Int64? = nil, _ handler: (JournalRecord) throws -> Bool) throws -> Result {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw JournalError.io(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        let size = try Syscall.fileSize(fd, path: path)
        let header = try Syscall.pread(fd, count: Int(JournalFormat.headerSize), offset: 0, path: path)
        guard let version = JournalFormat.headerVersion(header[...], segment: segment) else {
            return Result(validEnd: 0, stop: .invalidHeader, fileSize: size)
        }
        let headerSize = version == 1 ? 8 : JournalFormat.recordHeaderSize
        let end = min(size, limit ?? size)
        var offset = max(from, JournalFormat.headerSize)
        var buffer: [UInt8] = []
        var bufferStart = offset  // file offset of buffer[0]
        var fileRead = offset  // file offset up to which bytes are in the buffer

        while offset < end {
            // Make sure the record header, then the whole record, is buffered.
            func ensure(_ n: Int) throws -> Bool {
                while Int(fileRead - offset) < n && fileRead < end {
                    let want = Int(min(Int64(max(chunkSize, n)), end - fileRead))
                    let bytes = try Syscall.pread(fd, count: want, offset: fileRead, path: path)
                    if bytes.isEmpty { break }
                    // Drop consumed bytes so the buffer stays about one chunk.
                    let consumed = Int(offset - bufferStart)
                    if consumed > 0 {
                        buffer.removeFirst(consumed)
                        bufferStart = offset
                    }
                    buffer.append(contentsOf: bytes)
                    fileRead += Int64(bytes.count)
                }
                return Int(fileRead - offset) >= n
            }
            guard try ensure(4) else { return Result(validEnd: offset, stop: .invalidRecord, fileSize: size) }
            let length = Int(JournalFormat.u32(buffer[...], at: Int(offset - bufferStart)))
            // A zero length word is where the writer stopped in a preallocated segment.
            if length == 0 && version >= 2 { return Result(validEnd: offset, stop: .end, fileSize: size) }
            let total = version == 1 ? headerSize + length : JournalFormat.recordSize(payload: length)
            guard length > 0, length <= JournalFormat.maxPayload, try ensure(total) else {
                return Result(validEnd: offset, stop: .invalidRecord, fileSize: size)
            }
            let at = Int(offset - bufferStart)
            let crc = JournalFormat.u32(buffer[...], at: at + 4)
            let payload = buffer[(at + headerSize)..<(at + headerSize + length)]
            let state =
                version == 1
                ? .delivered
                : UsageRecordState(rawValue: JournalFormat.u32(buffer[...], at: at + JournalFormat.stateOffset))
            guard CRC32.update(CRC32.checksum(buffer[at..<(at + 4)]), payload) == crc, let state,
                let event = UsageEvent.decode(payload)
            else { return Result(validEnd: offset, stop: .invalidRecord, fileSize: size) }
            let record = JournalRecord(event: event, state: state, offset: offset, end: offset + Int64(total))
            offset = record.end
            if try !handler(record) {
                return Result(validEnd: offset, stop: .handlerStopped, fileSize: size)
            }
        }
        return Result(validEnd: offset, stop: .end, fileSize: size)
    }
}
