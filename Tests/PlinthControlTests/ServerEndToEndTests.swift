import Foundation
import PlinthControl
import PlinthCrypto
import PlinthHTTP
import Synchronization
import XCTest

/// The control plane behind the real epoll server, with real sockets and files on disk.
final class ServerEndToEndTests: XCTestCase {
    /// Upload size for the memory test: `PLINTH_E2E_UPLOAD_MB` (1024 for the full claim), 256 by default.
    static var uploadMiB: Int {
        ProcessInfo.processInfo.environment["PLINTH_E2E_UPLOAD_MB"].flatMap(Int.init) ?? 256
    }

    final class Running {
        let directory: String
        let plane: ControlPlane
        let server: HTTPServer
        let port: Int
        let adminBasic: String

        init(directory: String) throws {
            self.directory = directory
            var configuration = ControlHarness.configuration(directory: directory, adminPassword: "admin-password-1")
            configuration.maxArtifactBytes = 4 << 30
            plane = try ControlPlane(configuration: configuration)
            let router = Router()
            plane.register(on: router)
            var serverConfiguration = HTTPServerConfiguration(listen: [.tcp(host: "127.0.0.1", port: 0)])
            serverConfiguration.eventLoopCount = 1
            serverConfiguration.handlerThreadCount = 4
            serverConfiguration.bodyTimeout = .seconds(5)
            server = HTTPServer(configuration: serverConfiguration, router: router)
            let bound = try server.start()
            guard case .tcp(_, let port)? = bound.first else { throw RawConnection.RawError.io("no port") }
            self.port = port
            adminBasic = "Basic " + Data("admin:admin-password-1".utf8).base64EncodedString()
        }

        func stop() {
            server.shutdown()
            plane.flush()
        }

        func request(_ method: String, _ path: String, body: [UInt8] = [], headers: [String: String] = [:]) throws
            -> (status: Int, headers: [String: String], body: [UInt8])
        {
            let connection = try RawConnection(port: port)
            var head =
                "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nAuthorization: \(adminBasic)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
            for (k, v) in headers { head += "\(k): \(v)\r\n" }
            try connection.write(head + "\r\n")
            try connection.write(body)
            return try connection.readResponse()
        }
    }

    private func makeDirectory() -> String {
        let directory = NSTemporaryDirectory() + "plinth-e2e-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        return directory
    }

    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kb = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return kb * 1024
        }
        return 0
    }

    /// Polls until `condition` holds or `seconds` pass (robust under CPU contention).
    private func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    func testLargeUploadStreamsWithBoundedMemoryAndSurvivesARestart() throws {
        let directory = makeDirectory()
        var running: Running? = try Running(directory: directory)
        guard let server = running else { return }
        XCTAssertEqual(try server.request("POST", "/v1/tenants", body: Array(#"{"name":"acme"}"#.utf8)).status, 201)
        XCTAssertEqual(
            try server.request(
                "POST", "/v1/tenants/acme/models", body: Array(#"{"name":"big","format":"external"}"#.utf8)
            ).status, 201)
        let keyReply = try server.request("POST", "/v1/tenants/acme/keys", body: Array(#"{"role":"developer"}"#.utf8))
        let key = try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: Data(keyReply.body)) as? [String: Any])?["key"] as? String)

        let size = Self.uploadMiB << 20
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        for i in chunk.indices { chunk[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13) }
        let hasher = SHA256Hasher()
        for _ in 0..<Self.uploadMiB { hasher.update(chunk) }
        let expected = Hex.encode(hasher.finalize())

        let baseline = Self.residentBytes()
        let peak = Atomic<Int>(baseline)
        let sampling = Atomic<Bool>(true)
        let sampler = Thread {
            while sampling.load(ordering: .relaxed) {
                let now = Self.residentBytes()
                if now > peak.load(ordering: .relaxed) { peak.store(now, ordering: .relaxed) }
                usleep(20_000)
            }
        }
        sampler.start()
        let connection = try RawConnection(port: server.port)
        try connection.write(
            "PUT /v1/tenants/acme/models/big/versions/1/artifact?sha256=\(expected) HTTP/1.1\r\nHost: localhost\r\n"
                + "X-API-Key: \(key)\r\nContent-Type: application/octet-stream\r\nContent-Length: \(size)\r\n\r\n")
        for _ in 0..<Self.uploadMiB { try connection.write(chunk) }
        let reply = try connection.readResponse()
        sampling.store(false, ordering: .relaxed)
        while !sampler.isFinished { usleep(10_000) }
        XCTAssertEqual(reply.status, 201, String(decoding: reply.body, as: UTF8.self))
        let growth = peak.load(ordering: .relaxed) - baseline
        print("upload of \(Self.uploadMiB) MiB: RSS growth \(growth >> 20) MiB (baseline \(baseline >> 20) MiB)")
        XCTAssertLessThan(growth, 100 << 20, "server RSS grew by \(growth >> 20) MiB during the upload")
        let blob = "\(directory)/blobs/sha256/\(expected.prefix(2))/\(expected)"
        XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: blob)[.size] as? Int), size)

        // Restart on the same directory: everything acknowledged is still there.
        server.stop()
        running = nil
        let again = try Running(directory: directory)
        defer { again.stop() }
        let version = try again.request("GET", "/v1/tenants/acme/models/big/versions/1")
        XCTAssertEqual(version.status, 200)
        let view = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(version.body)) as? [String: Any])
        XCTAssertEqual(view["sha256"] as? String, expected)
        XCTAssertEqual(view["state"] as? String, "ready")
        let connection2 = try RawConnection(port: again.port)
        try connection2.write(
            "GET /v1/tenants/acme HTTP/1.1\r\nHost: x\r\nX-API-Key: \(key)\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(try connection2.readResponse().status, 200)
    }

    func testUploadCutOffHalfwayLeavesNoVersionAndNoTempFile() throws {
        let directory = makeDirectory()
        let server = try Running(directory: directory)
        defer { server.stop() }
        XCTAssertEqual(try server.request("POST", "/v1/tenants", body: Array(#"{"name":"acme"}"#.utf8)).status, 201)
        XCTAssertEqual(
            try server.request("POST", "/v1/tenants/acme/models", body: Array(#"{"name":"m","format":"onnx"}"#.utf8))
                .status, 201)
        let connection = try RawConnection(port: server.port)
        try connection.write(
            "PUT /v1/tenants/acme/models/m/versions/1/artifact HTTP/1.1\r\nHost: localhost\r\n"
                + "Authorization: \(server.adminBasic)\r\nContent-Length: \(8 << 20)\r\n\r\n")
        let half = [UInt8](repeating: 5, count: 4 << 20)
        try connection.write(half)
        let tmp = directory + "/blobs/tmp"
        XCTAssertTrue(waitUntil(20) { !((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []).isEmpty })
        connection.abort()
        XCTAssertTrue(waitUntil(20) { ((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []).isEmpty })
        XCTAssertEqual(try server.request("GET", "/v1/tenants/acme/models/m/versions/1").status, 404)
        let blobs = try FileManager.default.subpathsOfDirectory(atPath: directory + "/blobs/sha256")
        XCTAssertEqual(blobs, [])
    }

    func testChunkedUploadOverQuotaIsStoppedWhileStreaming() throws {
        let directory = makeDirectory()
        let server = try Running(directory: directory)
        defer { server.stop() }
        XCTAssertEqual(
            try server.request(
                "POST", "/v1/tenants", body: Array(#"{"name":"acme","quotas":{"maxArtifactBytes":1048576}}"#.utf8)
            ).status, 201)
        XCTAssertEqual(
            try server.request("POST", "/v1/tenants/acme/models", body: Array(#"{"name":"m","format":"onnx"}"#.utf8))
                .status, 201)
        let connection = try RawConnection(port: server.port)
        try connection.write(
            "PUT /v1/tenants/acme/models/m/versions/1/artifact HTTP/1.1\r\nHost: localhost\r\n"
                + "Authorization: \(server.adminBasic)\r\nTransfer-Encoding: chunked\r\n\r\n")
        let piece = [UInt8](repeating: 1, count: 256 << 10)
        // Keep sending past the quota; the server answers 413 and stops reading.
        for _ in 0..<16 {
            do { try connection.write(Array("40000\r\n".utf8) + piece + Array("\r\n".utf8)) } catch { break }
        }
        let reply = try connection.readResponse()
        XCTAssertEqual(reply.status, 413)
        // A declared length over the quota is refused before any body byte is sent.
        let declared = try RawConnection(port: server.port)
        try declared.write(
            "PUT /v1/tenants/acme/models/m/versions/2/artifact HTTP/1.1\r\nHost: localhost\r\n"
                + "Authorization: \(server.adminBasic)\r\nContent-Length: \(64 << 20)\r\n\r\n")
        XCTAssertEqual(try declared.readResponse().status, 413)
        XCTAssertTrue(
            waitUntil(10) {
                ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/blobs/tmp")) ?? []).isEmpty
            })
        XCTAssertEqual(try server.request("GET", "/v1/tenants/acme/models/m/versions/1").status, 404)
    }

    func testDownloadStreamsTheArtifactBack() throws {
        let directory = makeDirectory()
        let server = try Running(directory: directory)
        defer { server.stop() }
        XCTAssertEqual(try server.request("POST", "/v1/tenants", body: Array(#"{"name":"acme"}"#.utf8)).status, 201)
        XCTAssertEqual(
            try server.request("POST", "/v1/tenants/acme/models", body: Array(#"{"name":"m","format":"onnx"}"#.utf8))
                .status, 201)
        let bytes = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 % 253) }
        XCTAssertEqual(
            try server.request("PUT", "/v1/tenants/acme/models/m/versions/1/artifact", body: bytes).status, 201)
        let download = try server.request("GET", "/v1/tenants/acme/models/m/versions/1/artifact")
        XCTAssertEqual(download.status, 200)
        XCTAssertEqual(download.body, bytes)
    }
}
