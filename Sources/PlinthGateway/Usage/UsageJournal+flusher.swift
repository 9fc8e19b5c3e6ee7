import Foundation
import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

extension UsageJournal {
    /// The flusher thread: waits for appended events (or pending ones to settle), lets a group
    /// gather for up to `flushInterval`, then runs a sync cycle; at close, seals the segments.
    func flushLoop() {
        condition.lock()
        while !closed {
            // After a failure nothing can be made durable any more: idle until closed.
            if failure != nil {
                condition.wait()
                continue
            }
            let unsettled = durable < UsageCursor(segment: current.sequence, offset: Int64(written))
            if !unsettled && !flushRequested {
                condition.wait()
                continue
            }
            // Gather a group — or, with nothing new, give pending records an interval to settle.
            if !flushRequested && appended &- durableCount < UInt64(options.flushEvery) {
                let deadline = Date().addingTimeInterval(Self.seconds(options.flushInterval))
                while !closed && !flushRequested && appended &- durableCount < UInt64(options.flushEvery)
                    && Date() < deadline
                {
                    _ = condition.wait(until: deadline)
                }
            }
            flushRequested = false
            syncCycle()
        }
        if failure == nil { syncCycle() }
        sealLocked()
        Glibc.close(lockFD)
        condition.broadcast()
        condition.unlock()
        flusherDone.signal()
    }

    /// Finds how far records are final (from `durable` on), syncs, and publishes that position.
    /// Called and returns with the lock held; releases it for the scan and the syncs.
    func syncCycle() {
        cyclesStarted += 1
        let cycle = cyclesStarted
        let target = appended
        let alreadySynced = durableCount
        let from = durable
        var segments = retired
        segments.append((current, written))
        condition.unlock()

        // Scan after every store seen so far: a state read final here is inside the sync below.
        var reached = from
        for (i, (segment, end)) in segments.enumerated() where segment.sequence >= from.segment {
            var offset = segment.sequence == from.segment ? Int(from.offset) : Int(JournalFormat.headerSize)
            while offset < end, segment.state(at: offset)?.isFinal == true {
                offset += JournalFormat.recordSize(payload: Int(segment.length(at: offset)))
            }
            reached = UsageCursor(segment: segment.sequence, offset: Int64(offset))
            if offset < end { break }
            if i + 1 < segments.count {
                reached = UsageCursor(segment: segments[i + 1].segment.sequence, offset: JournalFormat.headerSize)
            }
        }

        var error: JournalError?
        if target != alreadySynced || reached != from {
            do throws(JournalError) {
                let newest = segments[segments.count - 1].segment.sequence
                if newest > creationSynced { try Syscall.syncDirectory(directory) }
                for (segment, end) in segments where segment.sequence >= from.segment {
                    if segment.sequence < reached.segment {
                        try segment.seal(end: end)  // passed: every record in it is final
                    } else if segment.sequence > creationSynced {
                        try segment.syncAll()
                    } else {
                        try segment.sync(from: segment.sequence == from.segment ? Int(from.offset) : 0, to: end)
                    }
                }
                creationSynced = max(creationSynced, newest)
            } catch let e {
                error = e
            }
        }

        condition.lock()
        if let error {
            failure = error
            logger.error("usage journal sync failed; metering stopped", ["error": .string("\(error)")])
        } else {
            if reached > durable { durable = reached }
            durableCount = max(durableCount, target)
            retired.removeAll { $0.segment.sequence < reached.segment }
        }
        cyclesDone = cycle
        condition.broadcast()
    }

    /// Cuts the unused preallocated tail of every open segment and syncs it (at close).
    private func sealLocked() {
        for (segment, end) in retired + [(current, written)] {
            do throws(JournalError) {
                try segment.seal(end: end)
            } catch {
                logger.error("usage journal seal failed", ["error": .string("\(error)")])
            }
        }
        retired = []
    }

    static func seconds(_ d: Duration) -> Double {
        let c = d.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
