import Foundation
import PlinthStore

/// `plinth backup`: online copy of the data directory's database, safe while the server runs.
enum BackupCommand {
    static let command = Command(
        name: "backup",
        summary: "Write a consistent copy of the data directory's database to a file (safe while serving).",
        usageLine: "backup --data DIR --to FILE",
        flags: [
            FlagSpec("data", help: "data directory of the server (default ./plinth-data)"),
            FlagSpec("to", help: "file to write the backup to (must not exist)"),
        ],
        run: { args in
            guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
            let data = args.value("data") ?? "./plinth-data"
            let target = try args.require("to")
            let database = data + "/plinth.db"
            guard FileManager.default.fileExists(atPath: database) else {
                throw CLIError("no database at \(database): is --data the server's data directory?")
            }
            guard !FileManager.default.fileExists(atPath: target) else {
                throw CLIError("\(target) already exists; refusing to overwrite it")
            }
            let store = try Store(path: database, readers: 1)
            defer { store.close() }
            try store.backup(to: target)
            Console.out("backup written to \(target)")
            return 0
        })
}
