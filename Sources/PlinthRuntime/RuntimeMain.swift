import PlinthCore
import PlinthHTTP

#if canImport(Glibc)
    import Glibc
#endif

/// Entry point of `plinth runtime`.
public enum RuntimeMain {
    /// Loads the model, serves it until SIGTERM/SIGINT, then drains and returns 0. Throws when
    /// the model cannot be loaded or the address cannot be bound.
    public static func run(_ configuration: RuntimeConfiguration) throws -> Int32 {
        let logger = Logger(component: "runtime")
        let server = try RuntimeServer(configuration: configuration)
        let addresses = try server.start()
        logger.info(
            "serving model",
            [
                "model": .string(configuration.name), "path": .string(configuration.modelPath),
                "listen": .string(addresses.map(\.description).joined(separator: ",")),
                "max_batch": .int(configuration.maxBatch), "max_delay_us": .int(configuration.maxDelayMicros),
                "threads": .int(configuration.threads),
                // The GPUs the worker gave this replica, so its log shows what it may use.
                "cuda_visible_devices": .string(environment("CUDA_VISIBLE_DEVICES")),
                "nvidia_visible_devices": .string(environment("NVIDIA_VISIBLE_DEVICES")),
            ])
        TerminationSignals.onTerminate {
            logger.info("terminating: draining requests")
            server.shutdown()
        }
        server.wait()
        logger.info("stopped")
        return 0
    }

    private static func environment(_ name: String) -> String {
        getenv(name).map { String(cString: $0) } ?? ""
    }
}
