import Foundation
import PlinthHTTP

/// The `/v1` API over HTTP for the CLI's client commands. Credentials come from flags, then
/// the environment: `--token`/`PLINTH_TOKEN` (API key or JWT), else `--user`/`PLINTH_USER` with
/// `PLINTH_PASSWORD` (the password is never a flag, so it stays out of shell history and `ps`).
struct APIClient {
    let endpoint: HTTPEndpoint
    let authorization: String?
    let client = HTTPClient()

    static let flags: [FlagSpec] = [
        FlagSpec("url", help: "Plinth URL (default $PLINTH_URL or http://127.0.0.1:8080)"),
        FlagSpec("token", help: "API key (plk_…) or JWT (default $PLINTH_TOKEN)"),
        FlagSpec("user", help: "user for HTTP Basic; password from $PLINTH_PASSWORD (default $PLINTH_USER)"),
    ]

    init(_ args: ParsedArguments) throws {
        let env = ProcessInfo.processInfo.environment
        let url = args.value("url") ?? env["PLINTH_URL"] ?? "http://127.0.0.1:8080"
        do { endpoint = try HTTPEndpoint(url: url) } catch { throw UsageError("--url: \(error)") }
        if let token = args.value("token") ?? env["PLINTH_TOKEN"], !token.isEmpty {
            authorization = "Bearer " + token
        } else if let user = args.value("user") ?? env["PLINTH_USER"] {
            guard let password = env["PLINTH_PASSWORD"] else {
                throw UsageError("--user needs the password in $PLINTH_PASSWORD")
            }
            authorization = "Basic " + Data((user + ":" + password).utf8).base64EncodedString()
        } else {
            authorization = nil
        }
    }

    /// Sends a JSON request and returns the decoded JSON object; a non-2xx answer throws the
    /// server's error message.
    @discardableResult
    func call(_ method: HTTPMethod, _ path: String, json: [String: Any]? = nil) throws -> Any? {
        var headers = HTTPHeaders()
        if let authorization { headers.set("Authorization", authorization) }
        var body: [UInt8] = []
        if let json {
            body = Array(try JSONSerialization.data(withJSONObject: json))
            headers.set("Content-Type", "application/json")
        }
        let response = try send(HTTPClientRequest(method: method, path: path, headers: headers, body: body))
        return try Self.decode(response)
    }

    /// Streams the file at `path` as the request body.
    func upload(_ method: HTTPMethod, _ requestPath: String, file path: String) throws -> Any? {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CLIError("cannot read \(path)") }
        defer { try? handle.close() }
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        var headers = HTTPHeaders()
        if let authorization { headers.set("Authorization", authorization) }
        headers.set("Content-Type", "application/octet-stream")
        var request = HTTPClientRequest(method: method, path: requestPath, headers: headers)
        let reader = FileChunks(path: path)
        request.body = .stream(length: size) { write in
            try reader.forEach(write)
        }
        return try Self.decode(try send(request))
    }

    private func send(_ request: HTTPClientRequest) throws -> HTTPClientResponse {
        do {
            return try client.send(request, to: endpoint)
        } catch let error as HTTPClientError {
            throw CLIError("cannot reach \(endpoint): \(error)")
        }
    }

    private static func decode(_ response: HTTPClientResponse) throws -> Any? {
        let object = response.body.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(response.body))
        guard (200..<300).contains(response.status) else {
            let message = (object as? [String: Any])?["error"] as? String ?? String(decoding: response.body.prefix(300), as: UTF8.self)
            throw CLIError("HTTP \(response.status): \(message)")
        }
        return object
    }

    /// Pretty-printed JSON for the terminal.
    static func render(_ value: Any?) -> String {
        guard let value, JSONSerialization.isValidJSONObject(value),
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys])
        else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Percent-encodes one path segment.
    static func segment(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }
}

/// Reads a file in 1 MiB chunks (uploads never hold the whole file).
struct FileChunks: Sendable {
    let path: String

    func forEach(_ body: ([UInt8]) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIError("cannot read \(path)") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CLIError("read \(path) failed (errno \(errno))")
            }
            if n == 0 { return }
            try body(Array(buffer[0..<n]))
        }
    }
}
