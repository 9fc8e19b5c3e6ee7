import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The built `plinth` executable, run as a real child process in end-to-end tests.
/// `scripts/test` builds it before `swift test`; `PLINTH_BIN` overrides the path.
public final class PlinthProcess: @unchecked Sendable {
    // Safe: `process` and the pipes are only touched from the test's thread.
    public let process: Process
    public let stdout = Pipe()
    public let stderr = Pipe()
    private let outputLock = NSLock()
    private var captured = Data()

    /// Path of the `plinth` binary (debug build of this package unless `PLINTH_BIN` is set).
    public static func binaryPath(file: String = #filePath) -> String {
        if let override = ProcessInfo.processInfo.environment["PLINTH_BIN"] { return override }
        var url = URL(fileURLWithPath: file)
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent(".build/debug/plinth").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return ".build/debug/plinth"
    }

    /// Starts `plinth` with `arguments`; stderr and stdout are captured.
    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: PlinthProcess.binaryPath())
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = stdout
        process.standardError = stderr
        let lock = outputLock
        stderr.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            lock.lock()
            self?.captured.append(data)
            lock.unlock()
        }
        try process.run()
    }

    /// Everything written to stderr so far.
    public var stderrText: String {
        outputLock.lock()
        defer { outputLock.unlock() }
        return String(decoding: captured, as: UTF8.self)
    }

    /// Polls stderr until `text` appears or `timeout` passes.
    @discardableResult
    public func waitForStderr(containing text: String, timeout: TimeInterval = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stderrText.contains(text) { return true }
            if !process.isRunning { return stderrText.contains(text) }
            usleep(20_000)
        }
        return false
    }

    public func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Waits for exit (killing it after `timeout`) and returns the exit status.
    public func waitForExit(timeout: TimeInterval = 30) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// Runs `plinth` to completion and returns status, stdout and stderr.
    public static func run(_ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 60)
        throws -> (status: Int32, stdout: String, stderr: String)
    {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binaryPath())
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// Extracts the first TCP port from the serve log line `"listen":"127.0.0.1:PORT"`.
    public static func port(fromLog log: String) -> Int? {
        guard let range = log.range(of: "\"listen\":\"") else { return nil }
        let rest = log[range.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        let address = rest[..<end].split(separator: ",").first.map(String.init) ?? ""
        guard let colon = address.lastIndex(of: ":") else { return nil }
        return Int(address[address.index(after: colon)...])
    }
}
