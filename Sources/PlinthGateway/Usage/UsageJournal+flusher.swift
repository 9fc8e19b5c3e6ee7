import Foundation
import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

extension UsageJournal {
    /// The flusher thread: waits for pending events, lets a group gather for up to
    /// `flushInterval`, fdatasyncs outside the lock, publishes the durable position, rotates.
    func flushLoop() {
        condition.lock()
        while true {
            // After a failure nothing can be made durable any more: idle until closed.
            while failure != nil && !closed { condition.wait() }
            while pending == 0 && !closed && !flushRequested && written < options.maxSegmentBytes {
                condition.wait()
            }
            if !closed && !flushRequested && pending < options.flushEvery && written < options.maxSegmentBytes {
                // Gather a group: at most one interval, or until enough events are pending.
                let deadline = Date().addingTimeInterval(Self.seconds(options.flushInterval))
                while !closed && !flushRequested && pending < options.flushEvery && Date() < deadline {
                    _ = condition.wait(until: deadline)
                }
            }
            flushRequested = false
            let rotate = written >= options.maxSegmentBytes && !closed && failure == nil
            if rotate {
                rotateLocked()
            } else {
                syncLocked()
            }
            if closed {
                if failure == nil { syncLocked() }
                Glibc.close(fd)
                Glibc.close(lockFD)
                condition.broadcast()
                condition.unlock()
                flusherDone.signal()
                return
            }
        }
    }

    /// fdatasync of the current segment with the lock released meanwhile.
    private func syncLocked() {
        guard pending > 0 || durable.offset < written, failure == nil else { return }
        let fd = fd
        let segment = segment
        let upTo = written
        let count = appended
        pending = 0
        condition.unlock()
        let rc = fdatasync(fd)
        let err = errno
        condition.lock()
        if rc != 0 {
            failure = .io(operation: "fdatasync", path: segmentPath(segment), errno: err)
            logger.error("usage journal fsync failed; metering stopped", ["errno": .int(Int(err))])
        } else {
            if UsageCursor(segment: segment, offset: upTo) > durable {
                durable = UsageCursor(segment: segment, offset: upTo)
            }
            durableCount = max(durableCount, count)
        }
        condition.broadcast()
    }

    /// Opens the next segment, switches appends to it, then syncs and closes the old one.
    private func rotateLocked() {
        let next = segment + 1
        condition.unlock()
        let created = Result { try Self.createSegment(directory: directory, segment: next) }
        condition.lock()
        let newFD: Int32
        switch created {
        case .success(let fd): newFD = fd
        case .failure(let error):
            failure = (error as? JournalError) ?? .io(operation: "create", path: segmentPath(next), errno: EIO)
            logger.error("usage journal rotation failed; metering stopped", ["segment": .int(Int(next))])
            condition.broadcast()
            return
        }
        let oldFD = fd
        let oldSegment = segment
        let count = appended
        fd = newFD
        segment = next
        written = JournalFormat.headerSize
        pending = 0
        condition.unlock()
        let rc = fdatasync(oldFD)
        let err = errno
        Glibc.close(oldFD)
        condition.lock()
        if rc != 0 {
            failure = .io(operation: "fdatasync", path: segmentPath(oldSegment), errno: err)
        } else {
            let start = UsageCursor(segment: next, offset: JournalFormat.headerSize)
            if start > durable { durable = start }
            durableCount = max(durableCount, count)
        }
        condition.broadcast()
    }

    static func seconds(_ d: Duration) -> Double {
        let c = d.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
