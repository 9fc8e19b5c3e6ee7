/// What a worker node offers.
public struct NodeCapacity: Codable, Sendable, Equatable {
    /// Schedulable CPU in thousandths of a core.
    public var cpuMillicores: Int
    public var memoryBytes: UInt64
    public var gpus: [GPUDevice]

    public init(cpuMillicores: Int, memoryBytes: UInt64, gpus: [GPUDevice] = []) {
        self.cpuMillicores = cpuMillicores
        self.memoryBytes = memoryBytes
        self.gpus = gpus
    }
}

/// One GPU as `nvidia-smi` reports it.
public struct GPUDevice: Codable, Sendable, Equatable {
    public var index: Int
    public var name: String
    public var memoryBytes: UInt64
    public var uuid: String

    public init(index: Int, name: String, memoryBytes: UInt64, uuid: String) {
        self.index = index
        self.name = name
        self.memoryBytes = memoryBytes
        self.uuid = uuid
    }
}
