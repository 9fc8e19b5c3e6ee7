/// How an `external` model version is run: the argv of a program that serves the Open Inference
/// Protocol on the socket in `$PLINTH_SOCKET` (also `$PLINTH_LISTEN=unix:…`), plus extra
/// environment. `{artifact}` anywhere in an argument becomes the artifact's path inside the
/// replica folder on the worker.
public struct RuntimeManifest: Sendable, Codable, Hashable {
    public var command: [String]
    public var env: [String: String]?

    public init(command: [String], env: [String: String]? = nil) {
        self.command = command
        self.env = env
    }

    /// The placeholder the worker replaces with the artifact's path.
    public static let artifactPlaceholder = "{artifact}"
    public static let maxArguments = 64
    public static let maxArgumentBytes = 4096
    public static let maxCommandBytes = 32 * 1024
    public static let maxEnvironmentEntries = 64
    public static let maxEnvironmentValueBytes = 4096
    /// Set by the sandbox for every replica; a manifest may not set them (they would be overwritten).
    public static let reservedNames: Set<String> = [
        "PATH", "HOME", "TMPDIR", "LANG", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES",
    ]

    /// A manifest field that is not acceptable, and why.
    public struct Problem: Error, Sendable, Equatable {
        public var field: String
        public var message: String
    }

    /// The first problem with this manifest, or nil when a worker can run it.
    public func problem() -> Problem? {
        guard let program = command.first else { return Problem(field: "command", message: "must not be empty") }
        guard command.count <= Self.maxArguments else {
            return Problem(field: "command", message: "at most \(Self.maxArguments) arguments")
        }
        var total = 0
        for (index, argument) in command.enumerated() {
            let field = "command[\(index)]"
            if argument.utf8.contains(0) { return Problem(field: field, message: "must not contain NUL") }
            if argument.utf8.count > Self.maxArgumentBytes {
                return Problem(field: field, message: "at most \(Self.maxArgumentBytes) bytes")
            }
            total += argument.utf8.count
        }
        guard total <= Self.maxCommandBytes else {
            return Problem(field: "command", message: "at most \(Self.maxCommandBytes) bytes in all")
        }
        if program.contains(Self.artifactPlaceholder) {
            return Problem(
                field: "command[0]",
                message: "the artifact is read-only and not executable; run it with an interpreter")
        }
        if !Self.isProgram(program) {
            return Problem(
                field: "command[0]",
                message: "must be an absolute path or a plain program name (searched in the sandbox's PATH)")
        }
        let entries = env ?? [:]
        guard entries.count <= Self.maxEnvironmentEntries else {
            return Problem(field: "env", message: "at most \(Self.maxEnvironmentEntries) variables")
        }
        for (name, value) in entries.sorted(by: { $0.key < $1.key }) {
            let field = "env.\(name)"
            guard Self.isEnvironmentName(name) else {
                return Problem(
                    field: "env", message: "'\(name.prefix(64))' is not a variable name ([A-Za-z_][A-Za-z0-9_]*, ≤ 128)")
            }
            if name.hasPrefix("PLINTH_") || Self.reservedNames.contains(name) {
                return Problem(field: field, message: "reserved; the sandbox sets it")
            }
            if value.utf8.contains(0) { return Problem(field: field, message: "must not contain NUL") }
            if value.utf8.count > Self.maxEnvironmentValueBytes {
                return Problem(field: field, message: "at most \(Self.maxEnvironmentValueBytes) bytes")
            }
        }
        return nil
    }

    /// `command` with the placeholder replaced by `artifactPath`.
    public func resolvedCommand(artifactPath: String) -> [String] {
        command.map { $0.replacing(Self.artifactPlaceholder, with: artifactPath) }
    }

    static func isProgram(_ program: String) -> Bool {
        if program.hasPrefix("/") { return program.utf8.count > 1 && !program.hasSuffix("/") }
        guard !program.isEmpty, program != ".", program != ".." else { return false }
        return program.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D || byte == 0x2B
        }
    }

    static func isEnvironmentName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 128 else { return false }
        func isLetter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F }
        return isLetter(first) && bytes.allSatisfy { isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }
}
