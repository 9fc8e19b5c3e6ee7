import Foundation
import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

extension UsageJournal {
    /// Makes the newest segment end on a record boundary (a crash can leave a torn last record)
    /// and removes a newest segment whose header itself is torn. Returns the newest sequence.
    static func recover(directory: String, logger: Logger) throws -> (Recovery, UInt64?) {
        var segments = try JournalFormat.segments(in: directory)
        var recovery = Recovery(existingSegments: segments.count, truncatedBytes: 0, removedSegments: 0)
        while let last = segments.last {
            let path = directory + "/" + JournalFormat.fileName(segment: last)
            let scanner = JournalSegmentScanner(path: path, segment: last)
            let result = try scanner.scan(from: 0) { _, _ in true }
            if result.stop == .invalidHeader {
                // Only the segment being created when the process died can lack a header.
                logger.warning("removing usage segment with a torn header", ["path": .string(path)])
                unlink(path)
                recovery.removedSegments += 1
                segments.removeLast()
                continue
            }
            if result.validEnd < result.fileSize {
                let fd = try Syscall.check("open", path) { open(path, O_WRONLY | O_CLOEXEC) }
                defer { Glibc.close(fd) }
                _ = try Syscall.check("ftruncate", path) { ftruncate(fd, off_t(result.validEnd)) }
                _ = try Syscall.check("fsync", path) { fsync(fd) }
                recovery.truncatedBytes = result.fileSize - result.validEnd
                logger.warning(
                    "truncated torn tail of usage segment",
                    ["path": .string(path), "bytes": .int(Int(recovery.truncatedBytes))])
            }
            break
        }
        if recovery.removedSegments > 0 { try Syscall.syncDirectory(directory) }
        return (recovery, segments.last)
    }
}
