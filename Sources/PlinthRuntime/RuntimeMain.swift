import PlinthCore
import PlinthHTTP

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
            ])
        TerminationSignals.onTerminate {
            logger.info("terminating: draining requests")
            server.shutdown()
        }
        server.wait()
        logger.info("stopped")
        return 0
    }
}
