import Foundation
import PlinthCore
import PlinthHTTP

/// `plinth serve`: control plane, gateway and a local worker in one process.
enum ServeCommand {
    static let command = Command(
        name: "serve",
        summary: "Run Plinth on this machine: control plane, gateway and a local worker, SQLite in --data.",
        usageLine: "serve [--data DIR] [--listen HOST:PORT] [--event-loops N]",
        flags: [
            FlagSpec("data", help: "data directory (default ./plinth-data)"),
            FlagSpec("listen", help: "address to listen on: HOST:PORT, [IPv6]:PORT or unix:PATH (default 127.0.0.1:8080)"),
            FlagSpec("event-loops", help: "event-loop threads (default: one per core)"),
            FlagSpec("access-log", value: false, help: "log one JSON line per request"),
        ],
        run: { args in try run(args) })

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
        let dataDirectory = args.value("data") ?? "./plinth-data"
        let listen: ListenAddress
        do {
            listen = try ListenAddress.parse(args.value("listen") ?? "127.0.0.1:8080")
        } catch {
            throw UsageError("--listen: \(error)")
        }
        let log = Logger(component: "serve")
        try DataDirectory.prepare(dataDirectory)

        let router = Router()
        HealthRoutes.register(on: router)

        var configuration = HTTPServerConfiguration(listen: [listen])
        configuration.eventLoopCount = try args.int(
            "event-loops", default: configuration.eventLoopCount, range: 1...256)
        configuration.accessLog = args.has("access-log")
        let server = HTTPServer(configuration: configuration, router: router)
        let bound = try server.start()
        log.info(
            "plinth serve listening",
            [
                "listen": .string(bound.map(\.description).joined(separator: ",")),
                "data": .string(dataDirectory), "version": .string(PlinthVersion.current),
            ])
        TerminationSignals.onTerminate {
            log.info("shutting down")
            server.shutdown()
        }
        server.wait()
        log.info("stopped")
        return 0
    }
}

/// Creates the data directory with owner-only permissions.
enum DataDirectory {
    static func prepare(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CLIError("data directory '\(path)' is not a directory") }
            return
        }
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
}

/// A runtime failure reported as one line with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
