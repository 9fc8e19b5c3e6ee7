import Foundation

/// Helpers shared by test targets: temporary directories and the built `plinth` binary.
public enum TestSupport {
    /// A fresh temporary directory, removed by the caller.
    public static func temporaryDirectory(_ prefix: String = "plinth-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
