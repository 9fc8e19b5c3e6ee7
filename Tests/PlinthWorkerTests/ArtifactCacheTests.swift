import Foundation
import PlinthCore
import PlinthTestSupport
import XCTest

@testable import PlinthWorker

final class ArtifactCacheTests: XCTestCase {
    // SHA-256("hello world")
    let helloDigest = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"

    func makeCache() throws -> (ArtifactCache, URL) {
        let dir = try TestSupport.temporaryDirectory("plinth-artifacts")
        return (try ArtifactCache(directory: dir.path + "/cache"), dir)
    }

    func testVerifiedArtifactIsStoredReadOnlyInChunks() throws {
        let (cache, dir) = try makeCache()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try cache.store(digest: helloDigest, sizeBytes: 11) { write in
            try write(Array("hello ".utf8))
            try write(Array("world".utf8))
        }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "hello world")
        XCTAssertTrue(cache.contains(helloDigest))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o444)
    }

    func testCorruptOrOversizedArtifactsAreRejectedAndLeaveNothing() throws {
        let (cache, dir) = try makeCache()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [(UInt64, [String], ArtifactError)] = [
            (11, ["hello worle"], .digestMismatch(expected: helloDigest, actual: "")),
            (11, ["hello"], .sizeMismatch(expected: 11, actual: 5)),
            (11, ["hello world", "!"], .tooLarge(limit: 11)),
        ]
        for (size, chunks, expected) in cases {
            XCTAssertThrowsError(
                try cache.store(digest: helloDigest, sizeBytes: size) { write in
                    for chunk in chunks { try write(Array(chunk.utf8)) }
                }
            ) { error in
                switch (error as? ArtifactError, expected) {
                case (.digestMismatch?, .digestMismatch), (.sizeMismatch?, .sizeMismatch), (.tooLarge?, .tooLarge):
                    break
                default: XCTFail("expected \(expected), got \(error)")
                }
            }
        }
        XCTAssertFalse(cache.contains(helloDigest))
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: cache.directory), [], "no partial files left")
    }

    func testDigestsThatAreNotHexAreRejected() throws {
        let (cache, dir) = try makeCache()
        defer { try? FileManager.default.removeItem(at: dir) }
        for bad in ["../../etc/passwd", String(repeating: "A", count: 64), "abc", String(repeating: "g", count: 64)] {
            XCTAssertThrowsError(try cache.path(for: bad))
            XCTAssertFalse(cache.contains(bad))
        }
    }

    func testPlannerBuildsRuntimeAndExternalLaunches() throws {
        let planner = ReplicaPlanner(
            runtimeCommand: ["/usr/bin/plinth", "runtime"], replicasDirectory: "/data/replicas")
        let limits = InstanceLimits(instanceClass: "cpu-small", cpuMillicores: 1000, memoryBytes: 1 << 30)
        let artifact = ArtifactReference(
            sha256: helloDigest, sizeBytes: 11, downloadPath: "/v1/workers/artifacts/\(helloDigest)",
            fileName: "model.onnx")
        let onnx = DesiredReplica(
            id: "r-1", tenant: "acme", deployment: "fraud", version: "3", format: "onnx", artifact: artifact,
            limits: limits,
            environment: ["OMP_NUM_THREADS": "1", "PLINTH_SOCKET": "/evil"])
        let launch = try planner.launch(for: onnx, artifactPath: "/data/artifacts/\(helloDigest)")
        XCTAssertEqual(
            launch.command,
            [
                "/usr/bin/plinth", "runtime", "--model", "/data/replicas/r-1/artifact/model.onnx", "--listen",
                "unix:/data/replicas/r-1/run/replica.sock", "--name", "fraud", "--version", "3",
                "--event-loops", "1",
            ])
        XCTAssertEqual(launch.files, ["model.onnx": "/data/artifacts/\(helloDigest)"])
        XCTAssertEqual(launch.environment["OMP_NUM_THREADS"], "1")
        XCTAssertNil(launch.environment["PLINTH_SOCKET"], "tenant env cannot set reserved names")
        XCTAssertEqual(launch.environment["PLINTH_TENANT"], "acme")

        var external = onnx
        external.format = "external"
        external.command = ["python3", "serve.py"]
        XCTAssertEqual(try planner.launch(for: external, artifactPath: "/x").command, ["python3", "serve.py"])
        external.command = ["/usr/bin/python3", "{artifact}", "--model={artifact}"]
        XCTAssertEqual(
            try planner.launch(for: external, artifactPath: "/x").command,
            [
                "/usr/bin/python3", "/data/replicas/r-1/artifact/model.onnx",
                "--model=/data/replicas/r-1/artifact/model.onnx",
            ])
        external.artifact = nil
        XCTAssertThrowsError(try planner.launch(for: external, artifactPath: nil), "{artifact} needs an artifact")

        var bad = onnx
        bad.id = "../etc"
        XCTAssertThrowsError(try planner.launch(for: bad, artifactPath: "/x"))
        bad = onnx
        bad.format = "tensorflow"
        XCTAssertThrowsError(try planner.launch(for: bad, artifactPath: "/x"))
        XCTAssertThrowsError(try planner.launch(for: onnx, artifactPath: nil), "artifact must be cached first")
        bad = onnx
        bad.artifact?.fileName = "../model.onnx"
        XCTAssertThrowsError(try planner.launch(for: bad, artifactPath: "/x"))
    }
}
