import Foundation
import PlinthCore

/// Entry point: picks the subcommand from a table and runs it.
enum CommandLineInterface {
    static func run(_ args: [String]) -> Int32 {
        guard let first = args.first else {
            Console.err(Commands.usage)
            return 2
        }
        if first == "--help" || first == "-h" || first == "help" {
            Console.out(Commands.usage)
            return 0
        }
        if first == "--version" {
            Console.out("plinth \(PlinthVersion.current)")
            return 0
        }
        guard let command = Commands.all.first(where: { $0.name == first }) else {
            Console.err("plinth: unknown command '\(first)'\n\n" + Commands.usage)
            return 2
        }
        let rest = Array(args.dropFirst())
        if rest.contains("--help") || rest.contains("-h") {
            Console.out(command.help)
            return 0
        }
        do {
            let parsed = try FlagParser.parse(rest, spec: command.flags, maxPositional: command.maxPositional)
            return try command.run(parsed)
        } catch let error as UsageError {
            Console.err("plinth \(command.name): \(error.message)\n\n" + command.help)
            return 2
        } catch {
            Console.err("plinth \(command.name): \(error)")
            return 1
        }
    }
}

/// Writes whole lines to stdout/stderr without touching Glibc's non-Sendable globals.
enum Console {
    static func out(_ text: String) { Logger.write(text.hasSuffix("\n") ? text : text + "\n", fd: 1) }
    static func err(_ text: String) { Logger.write(text.hasSuffix("\n") ? text : text + "\n", fd: 2) }
}
