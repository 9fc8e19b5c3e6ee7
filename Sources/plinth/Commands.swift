import Foundation
import PlinthCore

/// One subcommand: its flags, help text and body.
struct Command: Sendable {
    let name: String
    let summary: String
    let usageLine: String
    let flags: [FlagSpec]
    let run: @Sendable (ParsedArguments) throws -> Int32
    var maxPositional: Int = 1

    init(
        name: String, summary: String, usageLine: String, flags: [FlagSpec],
        run: @escaping @Sendable (ParsedArguments) throws -> Int32, maxPositional: Int = 1
    ) {
        self.name = name
        self.summary = summary
        self.usageLine = usageLine
        self.flags = flags
        self.run = run
        self.maxPositional = maxPositional
    }

    var help: String {
        var text = "usage: plinth \(usageLine)\n\n\(summary)\n"
        if !flags.isEmpty {
            text += "\nflags:\n"
            for flag in flags {
                let left = "  --\(flag.name)" + (flag.takesValue ? " VALUE" : "")
                text += left.padding(toLength: max(left.count + 2, 28), withPad: " ", startingAt: 0) + flag.help + "\n"
            }
        }
        return text
    }
}

enum Commands {
    static let all: [Command] = [
        ServeCommand.command,
        WorkerCommand.command,
        BackupCommand.command,
        RuntimeCommand.command,
        BenchCommand.command,
        ClientCommands.tenants,
        ClientCommands.keys,
        ClientCommands.models,
        ClientCommands.deploy,
        Command(
            name: "version", summary: "Print the version.", usageLine: "version", flags: [],
            run: { _ in
                Console.out("plinth \(PlinthVersion.current)")
                return 0
            }),
    ]

    static var usage: String {
        var text = "usage: plinth <command> [flags]\n\nPlinth: a multi-tenant inference platform in one binary.\n\ncommands:\n"
        for command in all {
            text += "  " + command.name.padding(toLength: 12, withPad: " ", startingAt: 0) + command.summary + "\n"
        }
        text += "\nRun 'plinth <command> --help' for a command's flags.\n"
        return text
    }
}
