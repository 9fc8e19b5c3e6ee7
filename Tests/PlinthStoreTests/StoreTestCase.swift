import Foundation
import PlinthStore
import XCTest

/// Gives each test a fresh directory, removed afterwards.
class StoreTestCase: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "plinth-store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func path(_ name: String = "plinth.db") -> String { directory + "/" + name }

    func openStore(_ name: String = "plinth.db", readers: Int = 2) throws -> Store {
        try Store(path: path(name), readers: readers)
    }
}
