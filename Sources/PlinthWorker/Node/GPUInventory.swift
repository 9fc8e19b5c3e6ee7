import Foundation
import PlinthCore

/// The node's GPUs, from `nvidia-smi --query-gpu=index,name,memory.total,uuid
/// --format=csv,noheader,nounits` when it is installed; none otherwise.
public enum GPUInventory {
    public static let arguments = ["--query-gpu=index,name,memory.total,uuid", "--format=csv,noheader,nounits"]

    /// Runs nvidia-smi (searched in PATH, /usr/bin, /usr/local/bin); [] when absent or failing.
    public static func detect(searchPath: String? = ProcessInfo.processInfo.environment["PATH"]) -> [GPUDevice] {
        let directories = (searchPath ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"]
        guard
            let tool = directories.map({ $0 + "/nvidia-smi" }).first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else {
            return []
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return []
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return [] }
        return parse(String(decoding: data, as: UTF8.self))
    }

    /// Parses nvidia-smi's CSV: "0, NVIDIA H100 80GB HBM3, 81559, GPU-5c3e…" per line (MiB).
    /// Malformed lines are skipped.
    public static func parse(_ csv: String) -> [GPUDevice] {
        var devices: [GPUDevice] = []
        for line in csv.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard fields.count == 4, let index = Int(fields[0]), index >= 0, !fields[1].isEmpty,
                let mebibytes = UInt64(fields[2]), !fields[3].isEmpty
            else { continue }
            devices.append(GPUDevice(index: index, name: fields[1], memoryBytes: mebibytes << 20, uuid: fields[3]))
        }
        return devices.sorted { $0.index < $1.index }
    }
}
