import Foundation
import PlinthCore
import PlinthGateway
import XCTest

/// Damaged journal files: recovery and folding must keep every intact record before the damage
/// and never trap, whatever the bytes.
final class UsageJournalHostileTests: XCTestCase {
    func testRandomDamageToASegmentNeverTrapsAndKeepsAPrefix() throws {
        let directory = try temporaryDirectory("hostile")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let events = (0..<30).map { makeEvent($0) }
        do {
            let journal = try UsageJournal(directory: directory)
            for e in events { try journal.append(e) }
            journal.close()
        }
        let file = try XCTUnwrap(segmentFiles(directory).first)
        let pristine = try Data(contentsOf: URL(fileURLWithPath: file))
        var state: UInt64 = 99
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 17
        }
        for _ in 0..<200 {
            var damaged = pristine
            for _ in 0..<(1 + Int(next() % 3)) {
                let at = 16 + Int(next() % UInt64(damaged.count - 16))
                damaged[at] = UInt8(truncatingIfNeeded: next())
            }
            if next() % 2 == 0 { damaged = damaged.prefix(16 + Int(next() % UInt64(damaged.count - 16))) }
            try damaged.write(to: URL(fileURLWithPath: file))
            let read = try UsageJournalReader(directory: directory).events()
            XCTAssertEqual(read, Array(events.prefix(read.count)), "what is read is an intact prefix")
            let sink = MemoryUsageSink()
            let report = try UsageJournalReader(directory: directory).fold(into: sink)
            XCTAssertEqual(report.events, read.count)
        }
    }
}
