import XCTest

final class PlinthEngineModuleTests: XCTestCase {
    func testModuleBuilds() {
        XCTAssertTrue(true)
    }
}
