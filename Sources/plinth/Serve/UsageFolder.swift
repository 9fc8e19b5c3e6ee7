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
    private let stopping = Mutex(false)
    private let done = DispatchSemaphore(value: 0)
    private let logger = Logger(component: "usage-fold")

    init(journal: UsageJournal, sink: UsageLedger) {
        self.journal = journal
        self.sink = sink
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
        } catch {
            logger.error("usage fold failed", ["error": .string("\(error)")])
        }
    }
}
