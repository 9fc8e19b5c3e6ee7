import XCTest

final class PlinthRuntimeModuleTests: XCTestCase {
    func testModuleBuilds() {
        XCTAssertTrue(true)
    }
}
