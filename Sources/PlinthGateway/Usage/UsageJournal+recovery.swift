import Foundation
import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

extension UsageJournal {
    /// Settles the newest segment, which the dead (or closed) process was writing: pending
    /// records become abandoned and those caught mid-send delivered, a torn tail or unused
    /// preallocated space is cut, a newest segment whose header itself is torn is removed.
    /// Returns the newest sequence. Older segments were settled when they were left, except
    /// records whose response outlived a rotation: readers apply the same rule to those.
    static func recover(directory: String, logger: Logger) throws -> (Recovery, UInt64?) {
        var segments = try JournalFormat.segments(in: directory)
        var recovery = Recovery(existingSegments: segments.count, truncatedBytes: 0, removedSegments: 0)
        while let last = segments.last {
            let path = directory + "/" + JournalFormat.fileName(segment: last)
            let scanner = JournalSegmentScanner(path: path, segment: last)
            var unsettled: [(offset: Int64, state: UsageRecordState)] = []
            let result = try scanner.scan(from: 0) { record in
                if !record.state.isFinal { unsettled.append((record.offset, record.state.afterCrash)) }
                return true
            }
            if result.stop == .invalidHeader {
                // Only the segment being created when the process died can lack a header.
                logger.warning("removing usage segment with a torn header", ["path": .string(path)])
                unlink(path)
                recovery.removedSegments += 1
                segments.removeLast()
                continue
            }
            if unsettled.isEmpty && result.validEnd == result.fileSize { break }
            let fd = try Syscall.check("open", path) { open(path, O_WRONLY | O_CLOEXEC) }
            defer { Glibc.close(fd) }
            for (offset, state) in unsettled {
                try Syscall.pwriteAll(
                    fd, JournalFormat.littleEndian(state.rawValue), offset: offset + Int64(JournalFormat.stateOffset),
                    path: path)
                if state == .abandoned { recovery.abandonedRecords += 1 } else { recovery.deliveredRecords += 1 }
            }
            if result.validEnd < result.fileSize {
                _ = try Syscall.check("ftruncate", path) { ftruncate(fd, off_t(result.validEnd)) }
                recovery.truncatedBytes = result.fileSize - result.validEnd
            }
            _ = try Syscall.check("fsync", path) { fsync(fd) }
            logger.warning(
                "recovered usage segment",
                [
                    "path": .string(path), "truncated_bytes": .int(Int(recovery.truncatedBytes)),
                    "abandoned": .int(recovery.abandonedRecords), "delivered": .int(recovery.deliveredRecords),
                ])
            break
        }
        if recovery.removedSegments > 0 { try Syscall.syncDirectory(directory) }
        return (recovery, segments.last)
    }
}
