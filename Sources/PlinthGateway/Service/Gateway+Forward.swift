import PlinthCore
import PlinthHTTP

extension Gateway {
    /// Sends `request` to the least-loaded ready replica of the version. A replica that refuses the
    /// connection is ejected at once and the request retried once on another replica: safe,
    /// because nothing reached the runtime. Any failure after that point is not retried.
    func forward(_ request: HTTPClientRequest, to version: VersionBalancer, clients: [HTTPClient]) throws(HTTPError)
        -> HTTPClientResponse
    {
        let client = ReplicaClients.pick(clients)
        var excluded: String?
        for attempt in 0..<2 {
            guard let replica = version.acquire(excluding: excluded) else {
                if attempt == 0 {
                    throw HTTPError(
                        503, "no ready replica for this deployment, retry later",
                        headers: ["Retry-After": String(configuration.overloadRetryAfterSeconds)])
                }
                throw HTTPError(502, "the model replica could not be reached")
            }
            do {
                let response = try client.send(replica.addressing(request), to: replica.endpoint)
                if replica.wasNotRelayed(response) {
                    version.finish(replica.id, refused: true)
                    metrics.replicaEjected()
                    excluded = replica.id
                    continue
                }
                version.finish(replica.id, refused: false)
                return response
            } catch HTTPClientError.connectFailed(let why) {
                version.finish(replica.id, refused: true)
                metrics.replicaEjected()
                logger.warning(
                    "replica refused connection, ejected", ["replica": .string(replica.id), "error": .string(why)])
                excluded = replica.id
            } catch HTTPClientError.timedOut {
                version.finish(replica.id, refused: false)
                throw HTTPError(504, "the model did not answer within the deployment's request timeout")
            } catch {
                version.finish(replica.id, refused: false)
                throw HTTPError(502, "the model replica failed to answer")
            }
        }
        throw HTTPError(502, "the model replica could not be reached")
    }
}

extension Gateway {
    /// `forward` on an event loop through its non-blocking upstream client; `completion` runs on
    /// that loop. Same policy: a refused connection ejects the replica and retries once on another
    /// (the client itself replays once when a pooled socket dies before any answer byte); a
    /// timeout is 504; any other failure after the request went out is 502, not retried.
    func forward(
        _ request: HTTPClientRequest, to version: VersionBalancer, loop: HTTPEventLoop, timeout: Duration,
        excluding excluded: String? = nil, completion: @escaping (Result<HTTPClientResponse, HTTPError>) -> Void
    ) {
        guard let replica = version.acquire(excluding: excluded) else {
            if excluded == nil {
                completion(
                    .failure(
                        HTTPError(
                            503, "no ready replica for this deployment, retry later",
                            headers: ["Retry-After": String(configuration.overloadRetryAfterSeconds)])))
            } else {
                completion(.failure(HTTPError(502, "the model replica could not be reached")))
            }
            return
        }
        loop.upstream.send(
            replica.addressing(request), to: replica.endpoint, timeout: timeout, pipelined: replica.pipelined
        ) { [self] result in
            switch result {
            case .success(let response) where replica.wasNotRelayed(response):
                // The worker's forwarder reached no replica: like a refused connection.
                refused(
                    replica.id, request, version: version, loop: loop, timeout: timeout, excluded: excluded,
                    completion: completion)
            case .success(let response):
                version.finish(replica.id, refused: false)
                completion(.success(response))
            case .failure(.connectFailed(let why)):
                logger.warning(
                    "replica refused connection, ejected", ["replica": .string(replica.id), "error": .string(why)])
                refused(
                    replica.id, request, version: version, loop: loop, timeout: timeout, excluded: excluded,
                    completion: completion)
            case .failure(.timedOut):
                version.finish(replica.id, refused: false)
                completion(.failure(HTTPError(504, "the model did not answer within the deployment's request timeout")))
            case .failure:
                version.finish(replica.id, refused: false)
                completion(.failure(HTTPError(502, "the model replica failed to answer")))
            }
        }
    }
    /// A refused replica is ejected; the request goes to another one, once.
    private func refused(
        _ replicaID: String, _ request: HTTPClientRequest, version: VersionBalancer, loop: HTTPEventLoop,
        timeout: Duration, excluded: String?, completion: @escaping (Result<HTTPClientResponse, HTTPError>) -> Void
    ) {
        version.finish(replicaID, refused: true)
        metrics.replicaEjected()
        if excluded == nil {
            forward(request, to: version, loop: loop, timeout: timeout, excluding: replicaID, completion: completion)
        } else {
            completion(.failure(HTTPError(502, "the model replica could not be reached")))
        }
    }
}

extension ReplicaEndpoint {
    /// The request as this replica gets it: through a worker's forwarder it also names the replica
    /// and carries that node's data-plane secret; to a local socket it is unchanged.
    func addressing(_ request: HTTPClientRequest) -> HTTPClientRequest {
        guard let dataSecret else { return request }
        var addressed = request
        addressed.headers.add(DataPlaneHeaders.replica, id)
        addressed.headers.add(DataPlaneHeaders.authorization, "Bearer " + dataSecret)
        return addressed
    }

    /// The forwarder's own 503 saying nothing reached a replica (safe to retry elsewhere).
    func wasNotRelayed(_ response: HTTPClientResponse) -> Bool {
        dataSecret != nil && response.status == 503 && response.headers[DataPlaneHeaders.notRelayed] != nil
    }
}
