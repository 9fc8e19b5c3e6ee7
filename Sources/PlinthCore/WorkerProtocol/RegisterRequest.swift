/// `POST /v1/workers/register` body: a node introduces itself (with its node token as Bearer).
public struct RegisterRequest: Codable, Sendable, Equatable {
    public var nodeName: String
    public var agentVersion: String
    public var capacity: NodeCapacity
    public var isolation: IsolationLevel

    public init(nodeName: String, agentVersion: String, capacity: NodeCapacity, isolation: IsolationLevel) {
        self.nodeName = nodeName
        self.agentVersion = agentVersion
        self.capacity = capacity
        self.isolation = isolation
    }
}

/// Answer to a registration: the id to use in heartbeats and how often to send them.
public struct RegisterResponse: Codable, Sendable, Equatable {
    public var workerID: String
    public var heartbeatIntervalSeconds: Double

    public init(workerID: String, heartbeatIntervalSeconds: Double) {
        self.workerID = workerID
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
    }
}
