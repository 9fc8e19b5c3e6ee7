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
                let response = try client.send(request, to: replica.endpoint)
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
