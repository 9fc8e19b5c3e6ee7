import XCTest

final class PlinthCryptoModuleTests: XCTestCase {
    func testModuleBuilds() {
        XCTAssertTrue(true)
    }
}
