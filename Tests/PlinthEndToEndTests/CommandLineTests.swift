import PlinthTestSupport
import XCTest

/// The real `plinth` binary's argument handling.
final class CommandLineTests: XCTestCase {
    func testVersionPrintsVersionAndExitsZero() throws {
        let r = try PlinthProcess.run(["version"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.hasPrefix("plinth "), r.stdout)
    }

    func testHelpListsCommands() throws {
        let r = try PlinthProcess.run(["--help"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("serve"))
        XCTAssertTrue(r.stdout.contains("backup"))
    }

    func testCommandHelpShowsItsFlags() throws {
        let r = try PlinthProcess.run(["serve", "--help"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("--listen"))
    }

    func testUnknownCommandsAndFlagsExitTwoWithUsageOnStderr() throws {
        let cases: [[String]] = [
            [], ["bogus"], ["serve", "--bogus"], ["serve", "--listen"], ["serve", "extra-arg"],
            ["backup", "--to"], ["serve", "--event-loops", "zero"],
        ]
        for args in cases {
            let r = try PlinthProcess.run(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("usage: plinth"), "\(args): \(r.stderr)")
            XCTAssertEqual(r.stdout, "", "\(args)")
        }
    }

    func testBadListenAddressIsAUsageError() throws {
        let r = try PlinthProcess.run(["serve", "--listen", "not-an-address", "--data", NSTemporaryDirectory() + "x"])
        XCTAssertEqual(r.status, 2, r.stderr)
    }

    func testBackupWithoutDatabaseFailsWithOneLine() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try PlinthProcess.run(["backup", "--data", dir.path, "--to", dir.path + "/b.db"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("no database"), r.stderr)
    }
}
