import Foundation

#if canImport(Glibc)
import Glibc
#endif
import PlinthControl
import PlinthCore
import PlinthGateway
import PlinthHTTP
import PlinthWorker

/// `plinth serve`: control plane, gateway and a local worker in one process.
enum ServeCommand {
    static let command = Command(
        name: "serve",
        summary: "Run Plinth on this machine: control plane, gateway and a local worker, SQLite in --data.",
        usageLine:
            "serve [--data DIR] [--listen HOST:PORT] [--event-loops N] [--access-log] [--heartbeat-interval S] [--worker-grace S] [--usage-journal-hours H] [--usage-journal-mb M] [--usage-sync-ms MS]",
        flags: [
            FlagSpec("data", help: "data directory (default ./plinth-data)"),
            FlagSpec("listen", help: "address to listen on: HOST:PORT, [IPv6]:PORT or unix:PATH (default 127.0.0.1:8080)"),
            FlagSpec("event-loops", help: "event-loop threads (default: half the cores, at least 1)"),
            FlagSpec("access-log", value: false, help: "log one JSON line per request"),
            FlagSpec("heartbeat-interval", help: "seconds between worker heartbeats (default 5)"),
            FlagSpec("worker-grace", help: "seconds without a heartbeat before a worker's replicas move (default 30)"),
            FlagSpec("usage-journal-hours", help: "hours folded usage-journal segments are kept (default 24)"),
            FlagSpec("usage-journal-mb", help: "most megabytes of folded usage-journal segments kept (default 1024)"),
            FlagSpec(
                "usage-sync-ms",
                help: "longest wait before a metered response's usage record is fsynced, in ms (default 10): the most usage a power failure can lose"),
        ],
        run: { args in try run(args) })

    static let maxDataDirectoryPathBytes = 60

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
        let dataDirectory = args.value("data") ?? "./plinth-data"
        let listen: ListenAddress
        do {
            listen = try ListenAddress.parse(args.value("listen") ?? "127.0.0.1:8080")
        } catch {
            throw UsageError("--listen: \(error)")
        }
        var configuration = HTTPServerConfiguration(listen: [listen])
        // Half the cores: in `plinth serve` the replicas run on this machine too, and a loop per
        // core made the loops hand requests to each other and wake more often (docs/benchmarks.md).
        configuration.eventLoopCount = try args.int(
            "event-loops", default: max(1, ProcessInfo.processInfo.activeProcessorCount / 2), range: 1...256)
        configuration.accessLog = args.has("access-log")

        let journalRetention = UsageJournalReader.Retention(
            maxAgeSeconds: Double(try args.int("usage-journal-hours", default: 24, range: 0...87_600)) * 3600,
            maxBytes: Int64(try args.int("usage-journal-mb", default: 1024, range: 0...1_048_576)) << 20)
        let usageSyncMillis = try args.int("usage-sync-ms", default: 10, range: 1...10_000)
        let log = Logger(component: "serve")
        try DataDirectory.prepare(dataDirectory)
        let absoluteData = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        // Replica sockets live at <data>/worker/replicas/<id>/run/replica.sock and a Unix socket
        // path has 107 usable bytes.
        guard absoluteData.utf8.count <= maxDataDirectoryPathBytes else {
            throw CLIError(
                "data directory path \(absoluteData) is \(absoluteData.utf8.count) bytes; at most \(maxDataDirectoryPathBytes) fit the replicas' Unix socket paths")
        }

        var controlConfiguration = ControlPlaneConfiguration(dataDirectory: absoluteData)
        controlConfiguration.adminPassword = ProcessInfo.processInfo.environment["PLINTH_ADMIN_PASSWORD"]
        controlConfiguration.artifactValidator = { path, format in
            try EngineArtifactValidator.validate(path: path, format: format)
        }
        controlConfiguration.workers = WorkerSettings(
            heartbeatIntervalSeconds: Double(try args.int("heartbeat-interval", default: 5, range: 1...300)),
            missingAfterSeconds: Double(try args.int("worker-grace", default: 30, range: 1...86_400)))
        let metrics = MetricsRegistry()
        controlConfiguration.replicaColdStartObserver = ClusterMetrics.coldStartObserver(metrics)
        let control = try ControlPlane(configuration: controlConfiguration)
        ClusterMetrics.registerReplicaCensus(metrics, control: control)
        DataDirectory.restrictDatabaseFiles(absoluteData)

        let binary = ReplicaSandbox.ownExecutable()
        let sandbox = try ReplicaSandbox.forNode(
            dataDirectory: absoluteData + "/worker", nodeName: LocalWorker.nodeName, plinthBinary: binary,
            logger: Logger(component: "worker"))
        let supervisor = ReplicaSupervisor(sandbox: sandbox)
        supervisor.start()
        let directory = ControlPlaneDirectory(control: control)
        let localWorker = LocalWorker(
            control: control, supervisor: supervisor, directory: directory, plinthBinary: binary,
            runtimeAccessLog: configuration.accessLog)
        localWorker.start()

        let journal = try UsageJournal(
            directory: absoluteData + "/usage", options: .init(flushInterval: .milliseconds(usageSyncMillis)))
        let usageFolder = UsageFolder(
            journal: journal, sink: UsageLedger(store: control.store), retention: journalRetention)
        usageFolder.start()
        var gatewayConfiguration = GatewayConfiguration(serverVersion: PlinthVersion.current)
        gatewayConfiguration.maxPayloadBytes = 64 << 20
        gatewayConfiguration.payloadLogDirectory = PayloadLogLayout.root(dataDirectory: absoluteData)
        let gateway = Gateway(
            configuration: gatewayConfiguration, directory: directory,
            journal: journal, metrics: metrics)

        let router = Router()
        HealthRoutes.register(on: router)
        control.register(on: router)
        gateway.register(on: router)

        let server = HTTPServer(configuration: configuration, router: router)
        let bound = try server.start()
        log.info(
            "plinth serve listening",
            [
                "listen": .string(bound.map(\.description).joined(separator: ",")),
                "data": .string(absoluteData), "version": .string(PlinthVersion.current),
                "isolation": .string(sandbox.isolation.description),
            ])
        TerminationSignals.onTerminate {
            log.info("shutting down")
            server.shutdown()
        }
        server.wait()
        gateway.shutdown()
        localWorker.stop()
        _ = supervisor.shutdown(timeoutSeconds: 10)
        usageFolder.stop()
        control.flush()
        log.info("stopped")
        return 0
    }
}

/// Creates the data directory with owner-only permissions.
enum DataDirectory {
    /// Mode 0711: others may traverse to their own replica folder (the sandbox's unprivileged uid
    /// must reach it) but not list or read anything; every secret inside is a 0600 file.
    static func prepare(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CLIError("data directory '\(path)' is not a directory") }
            var info = stat()
            if stat(path, &info) == 0, info.st_mode & 0o011 != 0o011 {
                chmod(path, (info.st_mode & 0o7777) | 0o011)
            }
            return
        }
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        chmod(path, 0o711)
    }

    /// The database holds password and key hashes: owner-only, like the JWT key. SQLite gives
    /// new -wal/-shm files the database file's mode.
    static func restrictDatabaseFiles(_ directory: String) {
        for suffix in ["", "-wal", "-shm"] {
            chmod(directory + "/plinth.db" + suffix, 0o600)
        }
    }
}

/// A runtime failure reported as one line with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
