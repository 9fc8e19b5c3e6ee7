import Foundation
import PlinthControl
import PlinthCore
import PlinthCrypto
import PlinthHTTP
import Synchronization
import XCTest

final class RegistryTests: XCTestCase {
    private func artifactPath(_ h: ControlHarness, _ digest: String) -> String {
        "\(h.directory)/blobs/sha256/\(digest.prefix(2))/\(digest)"
    }

    private func tempFiles(_ h: ControlHarness) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: h.directory + "/blobs/tmp")) ?? []
    }

    func testUploadStoresContentAddressedBlobAndDownloadsBack() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        h.createModel(tenant: "acme", name: "m")
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let hex = SHA256.hex(bytes)
        var headers = h.admin
        headers.set("Content-Type", "application/octet-stream")
        let reply = h.expect(
            201, .PUT, "/v1/tenants/acme/models/m/versions/1/artifact", query: "sha256=\(hex)", headers: headers,
            body: bytes)
        XCTAssertEqual(reply.json["sha256"] as? String, hex)
        XCTAssertEqual(reply.json["sizeBytes"] as? Int, bytes.count)
        XCTAssertEqual(reply.json["state"] as? String, "ready")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: artifactPath(h, hex))), Data(bytes))
        XCTAssertEqual(tempFiles(h), [])

        var request = HTTPRequest(method: .GET, path: "/v1/tenants/acme/models/m/versions/1/artifact", headers: h.admin)
        request.remoteAddress = "127.0.0.1:1"
        let response = h.router.handle(request)
        XCTAssertEqual(response.status, 200)
        guard case .stream(let length, let produce) = response.body else { return XCTFail("expected a streamed body") }
        XCTAssertEqual(length, bytes.count)
        let collected = Mutex<[UInt8]>([])
        try produce(HTTPBodyWriter { chunk in collected.withLock { $0 += chunk } })
        XCTAssertEqual(collected.withLock { $0 }, bytes)
        XCTAssertEqual(h.expect(409, .PUT, "/v1/tenants/acme/models/m/versions/1/artifact", body: [1]).status, 409)
    }

    func testDigestMismatchIs400AndLeavesNothing() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        h.createModel(tenant: "acme", name: "m")
        let wrong = String(repeating: "ab", count: 32)
        h.expect(400, .PUT, "/v1/tenants/acme/models/m/versions/1/artifact", query: "sha256=\(wrong)", body: [1, 2, 3])
        var headers = h.admin
        headers.set("Content-Digest", "sha-256=:\(Data(SHA256.hash([9])).base64EncodedString()):")
        h.expect(400, .PUT, "/v1/tenants/acme/models/m/versions/1/artifact", headers: headers, body: [1, 2, 3])
        h.expect(404, .GET, "/v1/tenants/acme/models/m/versions/1")
        XCTAssertEqual(tempFiles(h), [])
        headers.set("Content-Digest", "sha-256=:\(Data(SHA256.hash([1, 2, 3])).base64EncodedString()):")
        h.expect(201, .PUT, "/v1/tenants/acme/models/m/versions/1/artifact", headers: headers, body: [1, 2, 3])
    }

    func testUploadOverTheTenantQuotaIs413BeforeWriting() throws {
        let h = try ControlHarness()
        h.createTenant("acme", quotas: ["maxArtifactBytes": 1000])
        h.createModel(tenant: "acme", name: "m")
        h.upload(tenant: "acme", model: "m", version: "1", bytes: [UInt8](repeating: 1, count: 600))
        h.expect(413, .PUT, "/v1/tenants/acme/models/m/versions/2/artifact", body: [UInt8](repeating: 2, count: 600))
        h.expect(404, .GET, "/v1/tenants/acme/models/m/versions/2")
        XCTAssertEqual(tempFiles(h), [])
        h.upload(tenant: "acme", model: "m", version: "3", bytes: [UInt8](repeating: 3, count: 400))
        let usage = h.expect(200, .GET, "/v1/tenants/acme").json["usage"] as? [String: Any]
        XCTAssertEqual(usage?["artifactBytes"] as? Int, 1000)
    }

    func testUploadWithoutDeclaredLengthIsCountedWhileStreaming() throws {
        let h = try ControlHarness()
        h.createTenant("acme", quotas: ["maxArtifactBytes": 100_000])
        h.createModel(tenant: "acme", name: "m")
        var request = HTTPRequest(
            method: .PUT, path: "/v1/tenants/acme/models/m/versions/1/artifact", headers: h.admin)
        request.remoteAddress = "127.0.0.1:1"
        request.bodyStream = HTTPBodyStream(bytes: [UInt8](repeating: 7, count: 300_000), chunkSize: 10_000)
        // The memory stream declares its length; the quota check must still fire while counting
        // when it does not, which the end-to-end chunked upload test covers. Here: up-front 413.
        XCTAssertEqual(h.router.handle(request).status, 413)
        XCTAssertEqual(tempFiles(h), [])
    }

    func testSameBytesTwiceShareOneBlobUntilTheLastVersionGoes() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        h.createTenant("globex")
        h.createModel(tenant: "acme", name: "m")
        h.createModel(tenant: "globex", name: "m")
        let bytes = Array("shared weights".utf8)
        let hex = SHA256.hex(bytes)
        h.upload(tenant: "acme", model: "m", version: "1", bytes: bytes)
        h.upload(tenant: "acme", model: "m", version: "2", bytes: bytes)
        h.upload(tenant: "globex", model: "m", version: "1", bytes: bytes)
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(h.directory)/blobs/sha256/\(hex.prefix(2))")
        XCTAssertEqual(files, [hex])
        h.expect(204, .DELETE, "/v1/tenants/acme/models/m/versions/1")
        h.expect(204, .DELETE, "/v1/tenants/globex")
        XCTAssertTrue(FileManager.default.fileExists(atPath: artifactPath(h, hex)))
        h.expect(204, .DELETE, "/v1/tenants/acme/models/m")
        XCTAssertFalse(FileManager.default.fileExists(atPath: artifactPath(h, hex)))
    }

    func testValidatorFailureMarksTheVersionFailedWith422() throws {
        struct Unsupported: Error, CustomStringConvertible {
            var description: String { "unsupported operators: LSTM (ai.onnx opset 17), Loop" }
        }
        let h = try ControlHarness {
            $0.artifactValidator = { path, format in
                let bytes = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
                if bytes.starts(with: Array("bad".utf8)) { throw Unsupported() }
                return ArtifactSignature(
                    inputs: [TensorSignature(name: "x", datatype: "FP32", shape: [-1, 4])],
                    outputs: [TensorSignature(name: "y", datatype: "FP32", shape: [-1, 1])])
            }
        }
        h.createTenant("acme")
        h.createModel(tenant: "acme", name: "m")
        let rejected = h.expect(
            422, .PUT, "/v1/tenants/acme/models/m/versions/1/artifact", body: Array("bad model".utf8))
        XCTAssertTrue(rejected.text.contains("LSTM"), rejected.text)
        let failed = h.expect(200, .GET, "/v1/tenants/acme/models/m/versions/1")
        XCTAssertEqual(failed.json["state"] as? String, "failed")
        XCTAssertTrue((failed.json["reason"] as? String ?? "").contains("Loop"))
        // A failed version cannot be deployed.
        let spec: [String: Any] = ["versions": [["model": "m", "version": "1"]], "instanceClass": "cpu-small"]
        let invalid = h.expect(422, .PUT, "/v1/tenants/acme/deployments/d", json: spec)
        XCTAssertEqual(invalid.json["field"] as? String, "versions[0]")

        let good = h.expect(201, .PUT, "/v1/tenants/acme/models/m/versions/2/artifact", body: Array("good".utf8))
        let signature = good.json["signature"] as? [String: Any]
        XCTAssertEqual(((signature?["inputs"] as? [[String: Any]])?.first)?["name"] as? String, "x")
    }

    func testMultipartUploadFromABrowserStoresOnlyTheFilePart() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        h.createModel(tenant: "acme", name: "m")
        let payload = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 % 251) } + Array("\r\n--not-the-boundary".utf8)
        let boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n".utf8)
        body += Array(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"model.onnx\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                .utf8)
        body += payload
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        for chunkSize in [1, 7, 4096, 1 << 20] where chunkSize != 1 || body.count < 200_000 {
            var headers = h.admin
            headers.set("Content-Type", "multipart/form-data; boundary=\(boundary)")
            let version = "c\(chunkSize)"
            var request = HTTPRequest(
                method: .PUT, path: "/v1/tenants/acme/models/m/versions/\(version)/artifact", headers: headers)
            request.remoteAddress = "127.0.0.1:1"
            request.bodyStream = HTTPBodyStream(bytes: body, chunkSize: chunkSize)
            let response = h.router.handle(request)
            XCTAssertEqual(response.status, 201, "chunk size \(chunkSize)")
            let view = h.expect(200, .GET, "/v1/tenants/acme/models/m/versions/\(version)")
            XCTAssertEqual(view.json["sha256"] as? String, SHA256.hex(payload), "chunk size \(chunkSize)")
        }
        var headers = h.admin
        headers.set("Content-Type", "multipart/form-data; boundary=\(boundary)")
        h.expect(
            400, .PUT, "/v1/tenants/acme/models/m/versions/x/artifact", headers: headers,
            body: Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\ntruncated".utf8))
        XCTAssertEqual(tempFiles(h), [])
    }

    func testConcurrentUploadsOfOneVersionStoreItOnce() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        h.createModel(tenant: "acme", name: "m")
        let statuses = Mutex<[Int]>([])
        let router = h.router
        let headers = h.admin
        DispatchQueue.concurrentPerform(iterations: 6) { i in
            var request = HTTPRequest(
                method: .PUT, path: "/v1/tenants/acme/models/m/versions/1/artifact", headers: headers,
                body: [UInt8](repeating: UInt8(i), count: 200_000))
            request.remoteAddress = "127.0.0.1:1"
            let status = router.handle(request).status
            statuses.withLock { $0.append(status) }
        }
        let all = statuses.withLock { $0 }.sorted()
        XCTAssertEqual(all.filter { $0 == 201 }.count, 1, "\(all)")
        XCTAssertEqual(all.filter { $0 == 409 }.count, 5, "\(all)")
        let stored = h.expect(200, .GET, "/v1/tenants/acme/models/m/versions/1").json["sha256"] as? String
        let blobs = try FileManager.default.subpathsOfDirectory(atPath: h.directory + "/blobs/sha256")
            .filter { $0.count > 3 }
        XCTAssertEqual(blobs.map { String($0.suffix(64)) }, [stored ?? ""])
        XCTAssertEqual(tempFiles(h), [])
    }

    func testVersionInUseCannotBeDeleted() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        h.createModel(tenant: "acme", name: "m")
        h.upload(tenant: "acme", model: "m", version: "1")
        h.deploy(tenant: "acme", name: "d", model: "m", version: "1")
        h.expect(409, .DELETE, "/v1/tenants/acme/models/m/versions/1")
        h.expect(409, .DELETE, "/v1/tenants/acme/models/m")
        h.expect(204, .DELETE, "/v1/tenants/acme/deployments/d")
        h.expect(204, .DELETE, "/v1/tenants/acme/models/m/versions/1")
    }

    func testModelNamesAreValidatedAndUniquePerTenant() throws {
        let h = try ControlHarness()
        h.createTenant("acme", quotas: ["maxModels": 2])
        h.createTenant("globex")
        let bad = h.expect(422, .POST, "/v1/tenants/acme/models", json: ["name": "Not_DNS", "format": "onnx"])
        XCTAssertEqual(bad.json["field"] as? String, "name")
        h.expect(422, .POST, "/v1/tenants/acme/models", json: ["name": "ok", "format": "pickle"])
        h.createModel(tenant: "acme", name: "m")
        h.createModel(tenant: "globex", name: "m")
        h.expect(409, .POST, "/v1/tenants/acme/models", json: ["name": "m", "format": "onnx"])
        h.createModel(tenant: "acme", name: "n", format: "external")
        h.expect(403, .POST, "/v1/tenants/acme/models", json: ["name": "o", "format": "onnx"])
        h.expect(400, .POST, "/v1/tenants/acme/models", body: Array("{not json".utf8))
        h.expect(400, .PUT, "/v1/tenants/acme/models/m/versions/empty/artifact", body: [])
        h.expect(404, .PUT, "/v1/tenants/acme/models/nope/versions/1/artifact", body: [1])
        h.expect(422, .PUT, "/v1/tenants/acme/models/m/versions/bad%20version/artifact", body: [1])
    }

    func testListsArePaginatedAndFilterableByLabel() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        for i in 0..<7 {
            h.expect(
                201, .POST, "/v1/tenants/acme/models",
                json: [
                    "name": "m\(i)", "format": "onnx", "labels": ["team": i % 2 == 0 ? "vision" : "text"],
                ])
        }
        var names: [String] = []
        var cursor: String?
        repeat {
            let query = "limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = h.expect(200, .GET, "/v1/tenants/acme/models", query: query)
            names += ((page.json["items"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
            cursor = page.json["nextCursor"] as? String
        } while cursor != nil
        XCTAssertEqual(names, (0..<7).map { "m\($0)" })
        let vision = h.expect(200, .GET, "/v1/tenants/acme/models", query: "label=team%3Dvision")
        XCTAssertEqual(
            ((vision.json["items"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String },
            ["m0", "m2", "m4", "m6"])
        h.expect(400, .GET, "/v1/tenants/acme/models", query: "cursor=%%%")
        h.expect(400, .GET, "/v1/tenants/acme/models", query: "limit=0")
    }
}
