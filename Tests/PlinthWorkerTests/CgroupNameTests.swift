import XCTest

@testable import PlinthWorker

final class CgroupNameTests: XCTestCase {
    func testTwoDataDirectoriesWithOneNodeNameGetDistinctStableCgroups() {
        let a = ReplicaSandbox.agentCgroupName(nodeName: "node-a", dataDirectory: "/tmp/p1")
        let b = ReplicaSandbox.agentCgroupName(nodeName: "node-a", dataDirectory: "/tmp/p2")
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(a, ReplicaSandbox.agentCgroupName(nodeName: "node-a", dataDirectory: "/tmp/./p1/"))
        XCTAssertTrue(a.hasPrefix("plinth-node-a-"))
        XCTAssertEqual(a.count, "plinth-node-a-".count + 8)
    }
}
