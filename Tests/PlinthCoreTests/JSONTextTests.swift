import PlinthCore
import XCTest

final class JSONTextTests: XCTestCase {
    func testQuotedEscapesControlCharactersQuotesAndBackslashes() {
        XCTAssertEqual(JSONText.quoted("a\"b\\c\n\u{01}"), "\"a\\\"b\\\\c\\n\\u0001\"")
    }
}
