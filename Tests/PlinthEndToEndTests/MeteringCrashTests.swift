import Foundation
import PlinthCore
import PlinthGateway
import PlinthHTTP
import PlinthTestSupport
import Synchronization
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The usage journal under a crash: load through the gateway, `kill -9` the server mid-load,
/// restart it, and the successes metered equal the complete 2xx responses the load generator
/// received — no loss, no double count, nothing billed that never reached the client.
final class MeteringCrashTests: XCTestCase {
    struct LoadResult {
        var received2xx: [String] = []
        /// Requests sent whose answer never arrived (cut by the kill): the server may or may not
        /// have completed them.
        var inFlight: [String] = []
        var otherStatuses: [Int] = []
        /// The first other answer, for the failure message.
        var firstOther: String?
    }

    func testKill9UnderLoadMetersEveryDeliveredSuccessExactlyOnce() throws {
        let directory = try TestSupport.temporaryDirectory("plinth-crash")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = try PlinthCluster(dataDirectory: directory.path + "/data")
        defer { cluster.stop() }
        let key = try cluster.tenantWithKey("acme", role: "invoker")
        let developer = try cluster.key("acme", role: "developer")
        try cluster.deploy(
            tenant: "acme", key: developer, model: "churn", file: PlinthCluster.vectorsDirectory + "/logreg_30.onnx",
            deployment: "scorer")

        // Load: 4 keep-alive connections, each request with its own X-Request-Id.
        let results = Mutex([LoadResult](repeating: LoadResult(), count: 4))
        let stop = Atomic<Bool>(false)
        let endpoint = cluster.endpoint
        let group = DispatchGroup()
        for worker in 0..<4 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let client = HTTPClient()
                var local = LoadResult()
                var n = 0
                while !stop.load(ordering: .relaxed) {
                    n += 1
                    let id = "load-\(worker)-\(n)"
                    let request = HTTPClientRequest(
                        method: .POST, path: "/v2/models/scorer/infer",
                        headers: ["Authorization": "Bearer " + key, "X-Request-Id": id, "Content-Type": "application/json"],
                        body: PlinthCluster.logregRequest())
                    do {
                        let response = try client.send(request, to: endpoint)
                        if (200..<300).contains(response.status) {
                            local.received2xx.append(id)
                        } else {
                            local.otherStatuses.append(response.status)
                            if local.firstOther == nil {
                                local.firstOther = "\(response.status) " + String(decoding: response.body.prefix(300), as: UTF8.self)
                            }
                        }
                    } catch {
                        local.inFlight.append(id)
                        break
                    }
                }
                results.withLock { $0[worker] = local }
            }
        }
        // Let the load run, then kill the server mid-flight.
        usleep(2_000_000)
        cluster.server.signal(SIGKILL)
        _ = cluster.server.waitForExit(timeout: 10)
        stop.store(true, ordering: .relaxed)
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)

        let load = results.withLock { $0 }
        let delivered = Set(load.flatMap(\.received2xx))
        let inFlight = Set(load.flatMap(\.inFlight))
        XCTAssertGreaterThan(delivered.count, 50, "too little load before the kill")
        let others = load.flatMap(\.otherStatuses)
        XCTAssertEqual(
            others.count, 0,
            "every request before the kill should have succeeded: \(others.count) did not, first: "
                + "\(load.compactMap(\.firstOther)); server log: \(cluster.server.stderrText.suffix(3000))")

        // Restart on the same data directory: recovery settles what the killed process left
        // (pending → abandoned, mid-send → delivered); the fold catches up from its stored cursor.
        try cluster.restart()
        let metered = try waitForStableUsage(cluster)

        // Every billed event the journal holds, by request id.
        let events = try UsageJournalReader(directory: cluster.dataDirectory + "/usage").events()
        let successes = events.filter { (200..<300).contains($0.status) && !$0.shadow }
        var counts: [String: Int] = [:]
        for event in successes { counts[event.requestID, default: 0] += 1 }
        XCTAssertEqual(counts.values.filter { $0 > 1 }.count, 0, "a request was journaled twice")
        let journaled = Set(counts.keys)
        XCTAssertEqual(delivered.subtracting(journaled), [], "a delivered 2xx was not metered")
        XCTAssertEqual(journaled.subtracting(delivered), [], "a request was billed that the client never got")
        // Folding across the crash counted each billed success exactly once: the usage API
        // reports exactly what the load generator received.
        XCTAssertEqual(metered, delivered.count)
        print(
            "metering: delivered=\(delivered.count) journaled=\(journaled.count) folded=\(metered) inFlightAtKill=\(inFlight.count)")
    }

    /// Succeeded count of the usage API once it stops changing.
    func waitForStableUsage(_ cluster: PlinthCluster) throws -> Int {
        var last = -1
        var stableSince = Date()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let r = try cluster.call(.GET, "/v1/tenants/acme/usage")
            let now = ((r.json as? [String: Any])?["succeeded"] as? Int) ?? -1
            if now != last {
                last = now
                stableSince = Date()
            } else if Date().timeIntervalSince(stableSince) > 2 {
                return now
            }
            usleep(250_000)
        }
        return last
    }
}
