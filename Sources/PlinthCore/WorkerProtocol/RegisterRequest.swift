/// `POST /v1/workers/register` body: a node introduces itself (with its node token as Bearer).
public struct RegisterRequest: Codable, Sendable, Equatable {
    public var nodeName: String
    public var agentVersion: String
    public var capacity: NodeCapacity
    public var isolation: IsolationLevel
    /// Where the node's data-plane forwarder listens ("http://host:port"), when it runs one
    /// (`plinth worker --data-listen`); nil: its replicas are reachable only through Unix sockets
    /// on the node itself.
    public var dataEndpoint: String?

    public init(
        nodeName: String, agentVersion: String, capacity: NodeCapacity, isolation: IsolationLevel,
        dataEndpoint: String? = nil
    ) {
        self.nodeName = nodeName
        self.agentVersion = agentVersion
        self.capacity = capacity
        self.isolation = isolation
        self.dataEndpoint = dataEndpoint
    }
}

/// Answer to a registration: the id to use in heartbeats and how often to send them.
public struct RegisterResponse: Codable, Sendable, Equatable {
    public var workerID: String
    public var heartbeatIntervalSeconds: Double
    /// A fresh random secret for a node that announced a `dataEndpoint`: its forwarder accepts
    /// only requests that carry it (the gateway sends it). Never logged.
    public var dataSecret: String?

    public init(workerID: String, heartbeatIntervalSeconds: Double, dataSecret: String? = nil) {
        self.workerID = workerID
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
        self.dataSecret = dataSecret
    }
}
