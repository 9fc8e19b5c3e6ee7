import Foundation
import PlinthCore
import XCTest

@testable import PlinthWorker

#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway agent data directory, cgroup base and sandbox for end-to-end isolation tests.
/// They run the real `plinth sandbox-exec` (PLINTH_BIN, else .build/debug/plinth).
final class SandboxHarness {
    let root: String
    let cacheDirectory: String
    let dataDirectory: String
    let hierarchy: CgroupHierarchy
    let isolation: IsolationLevel
    let sandbox: ReplicaSandbox

    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    /// The plinth binary, or an XCTSkip saying why the end-to-end tests cannot run.
    static func launcherPath() throws -> String {
        let path = ProcessInfo.processInfo.environment["PLINTH_BIN"] ?? packageRoot + "/.build/debug/plinth"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw XCTSkip(
                "no plinth binary at \(path): build it first (swift build --product plinth) or set PLINTH_BIN")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["sandbox-exec"]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard output.contains("usage: plinth sandbox-exec") else {
            throw XCTSkip("\(path) has no 'sandbox-exec' subcommand yet (wire it to SandboxLauncher.main)")
        }
        return path
    }

    init(requireNamespaces: Bool = true) throws {
        let launcher = try SandboxHarness.launcherPath()
        root = "/tmp/plinth-worker-test-" + UUID().uuidString.prefix(8).lowercased()
        cacheDirectory = root + "/cache"
        dataDirectory = root + "/data"
        for dir in [root, cacheDirectory, dataDirectory] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            chmod(dir, 0o711)
        }
        hierarchy = CgroupHierarchy.detect(agentName: "plinth-test-" + root.suffix(8))
        isolation = IsolationProbe.detect(launcherPath: launcher, hierarchy: hierarchy, scratchDirectory: root)
        sandbox = ReplicaSandbox(
            isolation: isolation, hierarchy: hierarchy, launcherPath: launcher,
            replicasDirectory: dataDirectory + "/replicas", hiddenPaths: [dataDirectory, cacheDirectory])
        if requireNamespaces && !(isolation.pidNamespace && isolation.mountNamespace && isolation.networkNamespace) {
            cleanUp()
            throw XCTSkip("this host does not allow PID/mount/network namespaces: \(isolation)")
        }
    }

    /// Writes a read-only file into the fake artifact cache and returns its path.
    func cachedFile(_ name: String, _ contents: String) throws -> String {
        let path = cacheDirectory + "/" + name
        try contents.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o444)
        return path
    }

    static let limits = InstanceLimits(
        instanceClass: "test", cpuMillicores: 1000, memoryBytes: 256 << 20, maxProcesses: 64, maxOpenFiles: 200)

    /// Runs `command` in the sandbox to completion; returns its exit status and output.
    func run(
        _ id: String, _ command: [String], files: [String: String] = [:],
        limits: InstanceLimits = SandboxHarness.limits
    ) throws -> (ExitStatus, String) {
        let running = try sandbox.launch(
            ReplicaLaunch(id: id, command: command, files: files, limits: limits))
        defer {
            sandbox.uids.release(id)
            close(running.outputFD)
            running.cgroup?.remove()
        }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let n = buffer.withUnsafeMutableBytes { read(running.outputFD, $0.baseAddress, $0.count) }
            if n > 0 {
                output += buffer[0..<n]
                continue
            }
            if let status = ChildProcess.poll(running.pid) {
                while true {
                    let m = buffer.withUnsafeMutableBytes { read(running.outputFD, $0.baseAddress, $0.count) }
                    if m <= 0 { break }
                    output += buffer[0..<m]
                }
                return (status, String(decoding: output, as: UTF8.self))
            }
            usleep(5000)
        }
        kill(running.pid, SIGKILL)
        throw XCTSkip("replica \(id) did not finish within 30 s (machine overloaded?)")
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: root)
        for base in hierarchy.bases.values { rmdir(base) }
    }

    /// Polls `condition` until it holds or `timeout` seconds pass.
    static func waitUntil(timeout: Double = 20, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}
