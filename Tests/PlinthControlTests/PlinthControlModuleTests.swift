import XCTest

final class PlinthControlModuleTests: XCTestCase {
    func testModuleBuilds() {
        XCTAssertTrue(true)
    }
}
