/// How a process ended: an exit code, a fatal signal, or unknown (reaped elsewhere).
public struct ExitStatus: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Exit code when the process exited.
    public var code: Int32?
    /// Signal number when a signal killed it.
    public var signal: Int32?

    public init(code: Int32? = nil, signal: Int32? = nil) {
        self.code = code
        self.signal = signal
    }

    public static func exited(_ code: Int32) -> ExitStatus { ExitStatus(code: code) }
    public static func signaled(_ signal: Int32) -> ExitStatus { ExitStatus(signal: signal) }
    public static let unknown = ExitStatus()

    /// Decodes a raw waitpid(2) status.
    public init(waitStatus status: Int32) {
        let low = status & 0x7f
        if low == 0 {
            self.init(code: (status >> 8) & 0xff)
        } else if low != 0x7f {
            self.init(signal: low)
        } else {
            self.init()
        }
    }

    public var description: String {
        if let code { return "exit code \(code)" }
        if let signal {
            return "killed by signal \(signal)" + (signal == 9 ? " (SIGKILL)" : signal == 15 ? " (SIGTERM)" : "")
        }
        return "unknown exit status"
    }
}
