import Dispatch
import Foundation
import PlinthCore
import PlinthHTTP
import Synchronization

/// Downloads artifacts into the cache in the background, so a large model never delays
/// heartbeats. One download per digest at a time; a failed one is retried after
/// `retryDelaySeconds`.
public final class ArtifactFetcher: Sendable {
    /// Where an artifact stands.
    public enum Status: Sendable, Equatable {
        case cached(path: String)
        case downloading
        case failed(ArtifactError)
    }

    public let cache: ArtifactCache
    let client: HTTPClient
    let endpoint: HTTPEndpoint
    let token: String
    let retryDelaySeconds: Double
    let logger: Logger
    let queue = DispatchQueue(label: "plinth-artifact-fetcher", attributes: .concurrent)
    let state = Mutex(FetchState())

    struct FetchState {
        var inFlight: Set<String> = []
        var failures: [String: (error: ArtifactError, retryAt: Date)] = [:]
    }

    public init(
        cache: ArtifactCache, client: HTTPClient, endpoint: HTTPEndpoint, token: String, retryDelaySeconds: Double = 10,
        logger: Logger
    ) {
        self.cache = cache
        self.client = client
        self.endpoint = endpoint
        self.token = token
        self.retryDelaySeconds = retryDelaySeconds
        self.logger = logger
    }

    /// The artifact's status; starts a download when it is neither cached nor being fetched
    /// (nor waiting out a retry delay).
    public func request(_ artifact: ArtifactReference) -> Status {
        guard ArtifactCache.isValidDigest(artifact.sha256) else { return .failed(.invalidDigest(artifact.sha256)) }
        if cache.contains(artifact.sha256), let path = try? cache.path(for: artifact.sha256) {
            return .cached(path: path)
        }
        let start = state.withLock { state -> Status? in
            if state.inFlight.contains(artifact.sha256) { return .downloading }
            if let failure = state.failures[artifact.sha256], failure.retryAt > Date() { return .failed(failure.error) }
            state.inFlight.insert(artifact.sha256)
            return nil
        }
        if let start { return start }
        queue.async { [self] in
            let result: ArtifactError?
            do {
                try download(artifact)
                result = nil
            } catch let error as ArtifactError {
                result = error
            } catch {
                result = .downloadFailed("\(error)")
            }
            state.withLock { state in
                state.inFlight.remove(artifact.sha256)
                if let result {
                    state.failures[artifact.sha256] = (result, Date().addingTimeInterval(retryDelaySeconds))
                } else {
                    state.failures[artifact.sha256] = nil
                }
            }
            if let result {
                logger.warning(
                    "artifact download failed", ["sha256": .string(artifact.sha256), "error": .string("\(result)")])
            }
        }
        return .downloading
    }

    /// Streams `artifact` from the control plane into the cache (verified there).
    func download(_ artifact: ArtifactReference) throws {
        guard artifact.downloadPath.hasPrefix("/"), !artifact.downloadPath.contains("://") else {
            throw ArtifactError.downloadFailed("bad download path '\(artifact.downloadPath)'")
        }
        var headers = HTTPHeaders()
        headers.set("Authorization", "Bearer " + token)
        let request = HTTPClientRequest(method: .GET, path: artifact.downloadPath, headers: headers)
        let started = Date()
        try cache.store(digest: artifact.sha256, sizeBytes: artifact.sizeBytes) { write in
            do {
                try client.send(
                    request, to: endpoint,
                    onHead: { status, _ in
                        guard status == 200 else { throw ArtifactError.downloadFailed("HTTP \(status)") }
                    }, onChunk: write)
            } catch let error as ArtifactError {
                throw error
            } catch {
                throw ArtifactError.downloadFailed("\(error)")
            }
        }
        logger.info(
            "artifact cached",
            [
                "sha256": .string(artifact.sha256), "bytes": .int(Int(clamping: artifact.sizeBytes)),
                "seconds": .double(Date().timeIntervalSince(started)),
            ])
    }
}
