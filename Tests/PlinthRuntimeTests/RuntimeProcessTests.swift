import Foundation
import PlinthHTTP
import PlinthTestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `plinth runtime` as a real child process: serves, then drains and exits 0 on SIGTERM.
final class RuntimeProcessTests: XCTestCase {
    func testRuntimeProcessServesAndStopsGracefullyOnSIGTERM() throws {
        guard FileManager.default.isExecutableFile(atPath: PlinthProcess.binaryPath()) else {
            throw XCTSkip("plinth binary not built (scripts/test builds it)")
        }
        let vector = try EngineVector.load("logreg_30")
        let socket = "/tmp/plinth-rtp-\(UUID().uuidString.prefix(8)).sock"
        defer { unlink(socket) }
        let process = try PlinthProcess([
            "runtime", "--model", vector.modelPath, "--listen", "unix:\(socket)",
            "--name", "lr", "--max-delay-us", "1000",
        ])
        XCTAssertTrue(process.waitForStderr(containing: "serving model", timeout: 60), process.stderrText)
        let client = HTTPClient()
        let values = vector.inputs[0].floats[0..<30].map { "\($0)" }.joined(separator: ",")
        let body = "{\"inputs\":[{\"name\":\"X\",\"shape\":[1,30],\"datatype\":\"FP32\",\"data\":[\(values)]}]}"
        let response = try client.send(
            HTTPClientRequest(method: .POST, path: "/v2/models/lr/infer", body: Array(body.utf8)),
            to: .unix(path: socket))
        XCTAssertEqual(response.status, 200)
        XCTAssertNotNil(response.headers["Plinth-Compute-Us"])
        process.signal(SIGTERM)
        XCTAssertEqual(process.waitForExit(timeout: 30), 0, process.stderrText)
        XCTAssertTrue(process.stderrText.contains("stopped"))
    }
}
