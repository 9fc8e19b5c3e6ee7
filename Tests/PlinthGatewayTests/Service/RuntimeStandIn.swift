import Foundation
import PlinthGateway
import PlinthHTTP
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A tiny Open Inference Protocol runtime stand-in on a real `HTTPServer` listening on a Unix
/// socket: echoes the body (or sleeps, or fails) and reports what it saw in response headers.
final class RuntimeStandIn: Sendable {
    enum Behaviour: Sendable {
        case echo
        case slow(Duration)
        case failing
    }

    let name: String
    let path: String
    let server: HTTPServer
    private let counters = Counters()

    /// Requests seen and in progress, shared with the handler closure.
    final class Counters: Sendable {
        let served = Atomic<Int>(0)
        let active = Atomic<Int>(0)
    }

    init(name: String, behaviour: Behaviour = .echo) throws {
        self.name = name
        path = RuntimeStandIn.socketPath(name)
        let router = Router()
        let counters = self.counters
        router.add(.POST, "/v2/models/{model}/infer", options: RouteOptions(maxBodyBytes: 64 << 20)) { request in
            counters.active.wrappingAdd(1, ordering: .relaxed)
            defer { counters.active.wrappingSubtract(1, ordering: .relaxed) }
            counters.served.wrappingAdd(1, ordering: .relaxed)
            switch behaviour {
            case .echo: break
            case .slow(let delay):
                Thread.sleep(
                    forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
            case .failing: return .error(500, "model exploded")
            }
            var headers = HTTPHeaders()
            headers.add("Content-Type", request.headers["Content-Type"] ?? "application/octet-stream")
            if let length = request.headers["Inference-Header-Content-Length"] {
                headers.add("Inference-Header-Content-Length", length)
            }
            headers.add("Plinth-Queue-Us", "3")
            headers.add("Plinth-Compute-Us", "7")
            headers.add("Plinth-Batch-Size", "2")
            headers.add("Plinth-Request-Rows", "1")
            headers.add("X-Runtime", name)
            headers.add("X-Seen-Path", request.path)
            headers.add("X-Seen-Headers", request.headers.map { $0.name.lowercased() }.sorted().joined(separator: ","))
            return HTTPResponse(status: 200, headers: headers, body: .bytes(request.body))
        }
        router.add(.GET, "/v2/models/{model}") { request in
            .jsonBytes(
                Array(
                    #"{"name":"\#(request.pathParameters["model"] ?? "")","versions":["1"],"platform":"plinth","inputs":[],"outputs":[]}"#
                        .utf8))
        }
        var configuration = HTTPServerConfiguration(listen: [.unix(path: path)])
        configuration.eventLoopCount = 1
        configuration.handlerThreadCount = 8
        configuration.shutdownDeadline = .milliseconds(200)
        server = HTTPServer(configuration: configuration, router: router)
        _ = try server.start()
    }

    var endpoint: HTTPEndpoint { .unix(path: path) }
    var servedCount: Int { counters.served.load(ordering: .relaxed) }
    var activeCount: Int { counters.active.load(ordering: .relaxed) }

    func replica(ready: Bool = true) -> ReplicaEndpoint {
        ReplicaEndpoint(id: name, endpoint: endpoint, ready: ready)
    }

    func stop() {
        server.shutdown()
        unlink(path)
    }

    static func socketPath(_ name: String) -> String {
        "/tmp/pgw-\(name)-\(UUID().uuidString.prefix(8)).sock"
    }
}

/// A Unix socket that accepts connections, reads a little and closes them without answering.
final class ClosingListener: Sendable {
    let path: String
    private let fd: Int32

    init() throws {
        path = RuntimeStandIn.socketPath("closing")
        let listenFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        fd = listenFD
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(listenFD, 16) == 0 else { throw HTTPClientError.connectFailed("test listener") }
        Thread.detachNewThread {
            while true {
                let client = accept(listenFD, nil, nil)
                if client < 0 { return }
                var buffer = [UInt8](repeating: 0, count: 4096)
                _ = read(client, &buffer, buffer.count)
                close(client)
            }
        }
    }

    var endpoint: HTTPEndpoint { .unix(path: path) }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        unlink(path)
    }
}
