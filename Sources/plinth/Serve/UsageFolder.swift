import Foundation
import PlinthControl
import PlinthCore
import PlinthGateway
import Synchronization

/// Folds the gateway's usage journal into the per-minute rows of the database, up to what the
/// journal has fsynced, about once a second and once more at shutdown.
final class UsageFolder: Sendable {
    let journal: UsageJournal
    let sink: UsageLedger
    let retention: UsageJournalReader.Retention
    private let stopping = Mutex(false)
    private let done = DispatchSemaphore(value: 0)
    private let logger = Logger(component: "usage-fold")

    init(journal: UsageJournal, sink: UsageLedger, retention: UsageJournalReader.Retention = .init()) {
        self.journal = journal
        self.sink = sink
        self.retention = retention
    }

    func start() {
        let thread = Thread { [self] in
            while !stopping.withLock({ $0 }) {
                foldOnce()
                Thread.sleep(forTimeInterval: 1)
            }
            done.signal()
        }
        thread.name = "plinth-usage-fold"
        thread.start()
    }

    /// Flushes the journal, folds what is left and closes it.
    func stop() {
        stopping.withLock { $0 = true }
        _ = done.wait(timeout: .now() + 5)
        try? journal.flush()
        foldOnce()
        journal.close()
    }

    func foldOnce() {
        do {
            let reader = UsageJournalReader(directory: journal.directory)
            let limit = journal.durablePosition
            let report = try reader.fold(into: sink, upTo: limit)
            logger.debug(
                "usage folded",
                ["events": .int(report.events), "limit": .string(limit.description),
                 "cursor": .string(report.cursor?.description ?? "-")])
            for segment in report.corruptSegments {
                logger.error("usage journal segment holds an invalid record; the rest of it was skipped",
                    ["segment": .int(Int(segment))])
            }
            // The cursor is stored with the folded rows, so segments before it are in the store.
            if let cursor = report.cursor {
                let removed = try reader.prune(before: cursor, retention: retention)
                if removed > 0 { logger.debug("usage journal segments removed", ["count": .int(removed)]) }
            }
        } catch {
            logger.error("usage fold failed", ["error": .string("\(error)")])
        }
    }
}
