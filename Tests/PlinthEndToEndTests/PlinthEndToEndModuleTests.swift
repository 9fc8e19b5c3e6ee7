import XCTest

final class PlinthEndToEndModuleTests: XCTestCase {
    func testModuleBuilds() {
        XCTAssertTrue(true)
    }
}
