/// Name, datatype and shape of one model input or output, as OIP metadata shows it.
package struct TensorSpec: Sendable, Equatable {
    package var name: String
    package var datatype: OIPDatatype
    /// Dimensions; -1 where any size is accepted.
    package var shape: [Int]
    /// Class labels (column order) of a classifier's probability output.
    package var labels: [String]?

    package init(name: String, datatype: OIPDatatype, shape: [Int], labels: [String]? = nil) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
        self.labels = labels
    }
}

/// What the runtime needs of a loaded model. `run` may be called from several threads at once.
package protocol ServedModel: Sendable {
    var inputs: [TensorSpec] { get }
    var outputs: [TensorSpec] { get }
    /// Runs the model on its inputs in `inputs` order (already checked against them); returns
    /// every output, in `outputs` order. Positional, so no name is looked up per request.
    func run(_ inputs: [WireTensor]) throws -> [WireTensor]
}

extension ServedModel {
    /// True when every input's first dimension is dynamic, so requests can be stacked along it.
    package var acceptsBatches: Bool {
        !inputs.isEmpty && inputs.allSatisfy { $0.shape.first == -1 }
    }
}
