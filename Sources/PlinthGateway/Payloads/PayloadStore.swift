import Foundation
import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

/// The payload files of every deployment under one root (`PayloadLogLayout`): appends records to
/// the deployment's current segment, starts a new segment past a size or an hour, and deletes
/// segments past the policy's retention or size budget. Files 0600, folders 0700.
///
/// `@unchecked Sendable`: only the recorder's single writer thread calls it.
final class PayloadStore: @unchecked Sendable {
    private struct Segment {
        var fd: Int32
        var name: String
        var bytes: Int
        var opened: Date
    }

    let root: String
    private var segments: [String: Segment] = [:]
    private var policies: [String: PayloadLoggingPolicy] = [:]
    private let logger = Logger(component: "gateway")

    /// A new segment starts after an hour, so retention deletes in hour-sized steps.
    static let segmentMaxAge: TimeInterval = 3600

    init(root: String) {
        self.root = root
    }

    /// Segment size: an eighth of the budget, so deleting the oldest frees a useful share, within 64 KiB–8 MiB.
    static func segmentLimit(_ policy: PayloadLoggingPolicy) -> Int {
        Int(min(max(policy.maxBytes / 8, 64 << 10), 8 << 20))
    }

    /// Appends one record; false when the file system refused (logged once per failure kind).
    func append(_ record: PayloadRecord, now: Date = Date()) -> Bool {
        let directory = PayloadLogLayout.directory(root: root, tenant: record.tenant, deployment: record.deployment)
        do {
            try ensureDirectory(directory, record.policy)
            let line = record.jsonLine()
            var segment = try currentSegment(directory, record.policy, now: now)
            try Self.writeAll(segment.fd, line)
            segment.bytes += line.count
            segments[directory] = segment
            return true
        } catch {
            logger.warning(
                "payload record not written",
                ["deployment": .string(record.deployment), "error": .string("\(error)")])
            return false
        }
    }

    /// Applies every known deployment's retention (policies are read from each folder's
    /// `policy.json`, so folders of deployments that stopped logging are still cleaned up).
    func sweep(now: Date = Date()) {
        let fm = FileManager.default
        for tenant in (try? fm.contentsOfDirectory(atPath: root)) ?? [] {
            let tenantPath = root + "/" + tenant
            for deployment in (try? fm.contentsOfDirectory(atPath: tenantPath)) ?? [] {
                let directory = tenantPath + "/" + deployment
                guard let policy = policies[directory] ?? Self.readPolicy(directory) else { continue }
                enforce(directory, policy, now: now)
            }
        }
    }

    func closeAll() {
        for segment in segments.values { close(segment.fd) }
        segments.removeAll()
    }

    /// Deletes segments whose newest record is older than the retention, then the oldest while
    /// the folder is over its byte budget.
    func enforce(_ directory: String, _ policy: PayloadLoggingPolicy, now: Date) {
        let names = PayloadLogLayout.recordFiles(
            (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        var files: [(name: String, bytes: Int64, modified: TimeInterval)] = []
        for name in names.reversed() {  // oldest first
            var info = stat()
            guard stat(directory + "/" + name, &info) == 0 else { continue }
            files.append((name, Int64(info.st_size), TimeInterval(info.st_mtim.tv_sec)))
        }
        let cutoff = now.timeIntervalSince1970 - Double(policy.retentionHours) * 3600
        var total = files.reduce(Int64(0)) { $0 + $1.bytes }
        let current = segments[directory]?.name
        for file in files {
            // The segment being written only goes by age: the budget check runs as it is opened.
            let expired = file.modified < cutoff
            guard expired || (total > policy.maxBytes && file.name != current) else { continue }
            remove(directory, file.name)
            total -= file.bytes
        }
    }

    private func remove(_ directory: String, _ name: String) {
        if let segment = segments[directory], segment.name == name {
            close(segment.fd)
            segments[directory] = nil
        }
        unlink(directory + "/" + name)
    }

    private func currentSegment(_ directory: String, _ policy: PayloadLoggingPolicy, now: Date) throws -> Segment {
        if let segment = segments[directory], segment.bytes < Self.segmentLimit(policy),
            now.timeIntervalSince(segment.opened) < Self.segmentMaxAge
        {
            return segment
        }
        if let old = segments[directory] {
            close(old.fd)
            segments[directory] = nil
        }
        // Names must keep growing (retention deletes the smallest), also if the clock steps back.
        var micros = Int64(now.timeIntervalSince1970 * 1_000_000)
        let existing = PayloadLogLayout.recordFiles(
            (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        if let newest = existing.first.flatMap({ Int64($0.dropLast(PayloadLogLayout.recordFileExtension.count)) }) {
            micros = max(micros, newest + 1)
        }
        while true {
            let name = Self.segmentName(micros)
            let fd = open(directory + "/" + name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o600)
            if fd >= 0 {
                fchmod(fd, 0o600)
                let segment = Segment(fd: fd, name: name, bytes: 0, opened: now)
                segments[directory] = segment
                enforce(directory, policy, now: now)
                return segment
            }
            guard errno == EEXIST else { throw PayloadStoreError.io("open \(name): errno \(errno)") }
            micros += 1
        }
    }

    /// `0001700000000000000.jsonl`: names sort by start time.
    static func segmentName(_ micros: Int64) -> String {
        let digits = String(max(0, micros))
        return String(repeating: "0", count: max(0, 19 - digits.count)) + digits + PayloadLogLayout.recordFileExtension
    }

    private func ensureDirectory(_ directory: String, _ policy: PayloadLoggingPolicy) throws {
        if policies[directory] == policy { return }
        var path = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/") {
            path += "/" + part
            if mkdir(path, 0o700) != 0, errno != EEXIST { throw PayloadStoreError.io("mkdir \(path): errno \(errno)") }
        }
        let data = try JSONEncoder().encode(policy)
        let temporary = directory + "/." + PayloadLogLayout.policyFileName + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PayloadStoreError.io("write policy: errno \(errno)") }
        defer { close(fd) }
        try Self.writeAll(fd, Array(data))
        guard rename(temporary, directory + "/" + PayloadLogLayout.policyFileName) == 0 else {
            throw PayloadStoreError.io("rename policy: errno \(errno)")
        }
        policies[directory] = policy
    }

    static func readPolicy(_ directory: String) -> PayloadLoggingPolicy? {
        guard let data = FileManager.default.contents(atPath: directory + "/" + PayloadLogLayout.policyFileName)
        else { return nil }
        return try? JSONDecoder().decode(PayloadLoggingPolicy.self, from: data)
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw PayloadStoreError.io("write: errno \(errno)")
            }
            offset += n
        }
    }
}

enum PayloadStoreError: Error, CustomStringConvertible {
    case io(String)

    var description: String {
        switch self {
        case .io(let message): message
        }
    }
}
