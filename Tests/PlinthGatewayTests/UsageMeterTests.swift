import PlinthHTTP
import XCTest

@testable import PlinthGateway

final class UsageMeterTests: XCTestCase {
    func testRuntimeUsageHeadersAreReadAndMalformedOnesIgnored() {
        var meter = UsageMeter(
            principal: GatewayHarness.tenantA, deployment: "d", start: 0, bytesIn: 0, requestID: "r")
        meter.absorbRuntimeHeaders([
            "plinth-queue-us": "12", "Plinth-Compute-Us": "0340", "Plinth-Request-Rows": "3", "Plinth-Batch-Size": "8",
        ])
        XCTAssertEqual(meter.runtimeQueueMicros, 12)
        XCTAssertEqual(meter.computeMicros, 340)
        XCTAssertEqual(meter.requestRows, 3)
        XCTAssertEqual(meter.runtimeBatchRows, 8)

        for bad in ["", "-1", "+5", " 5", "5 ", "1e3", "0x10", "١٢", "1234567890123456789"] {
            var fresh = UsageMeter(
                principal: GatewayHarness.tenantA, deployment: "d", start: 0, bytesIn: 0, requestID: "r")
            fresh.absorbRuntimeHeaders([
                "Plinth-Queue-Us": bad, "Plinth-Compute-Us": bad, "Plinth-Request-Rows": bad, "Plinth-Batch-Size": bad,
            ])
            XCTAssertEqual(fresh.runtimeQueueMicros, 0, bad)
            XCTAssertEqual(fresh.computeMicros, 0, bad)
            XCTAssertEqual(fresh.requestRows, 1, bad)
            XCTAssertEqual(fresh.runtimeBatchRows, 0, bad)
        }
        var zeroRows = UsageMeter(principal: GatewayHarness.tenantA, deployment: "d", start: 0, bytesIn: 0, requestID: "r")
        zeroRows.absorbRuntimeHeaders(["Plinth-Request-Rows": "0", "Plinth-Batch-Size": "0"])
        XCTAssertEqual(zeroRows.requestRows, 1)
        XCTAssertEqual(zeroRows.runtimeBatchRows, 0)
        XCTAssertEqual(HTTPHeaders.decimalValue("123456789012345678"), 123_456_789_012_345_678)
    }
}
