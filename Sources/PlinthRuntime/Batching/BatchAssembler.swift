/// Stacks requests' inputs along dimension 0 and splits a batched result back per request.
/// Inputs and outputs are positional (the model's order), as `ServedModel.run` takes them.
enum BatchAssembler {
    /// The merged inputs of `parts` (each a request's inputs, all with the same datatypes and
    /// non-batch dimensions position by position). Nil if they do not line up.
    static func merge(_ parts: [[WireTensor]]) -> [WireTensor]? {
        guard let first = parts.first else { return nil }
        var merged: [WireTensor] = []
        merged.reserveCapacity(first.count)
        for (index, template) in first.enumerated() {
            var rows = 0
            var datas: [TensorData] = []
            for part in parts {
                guard index < part.count, part.count == first.count else { return nil }
                let tensor = part[index]
                guard tensor.name == template.name, tensor.datatype == template.datatype,
                    tensor.shape.count == template.shape.count, !tensor.shape.isEmpty,
                    tensor.shape.dropFirst() == template.shape.dropFirst()
                else { return nil }
                rows += tensor.shape[0]
                datas.append(tensor.data)
            }
            guard let data = TensorData.concatenate(datas) else { return nil }
            merged.append(
                WireTensor(
                    name: template.name, datatype: template.datatype,
                    shape: [rows] + template.shape.dropFirst(), data: data))
        }
        return merged
    }

    /// Splits each output along dimension 0 into pieces of `rows[i]` rows. Nil when an output's
    /// first dimension is not the total row count (such a model cannot be batched).
    static func split(_ outputs: [WireTensor], rows: [Int]) -> [[WireTensor]]? {
        let total = rows.reduce(0, +)
        var pieces = [[WireTensor]](repeating: [], count: rows.count)
        for index in pieces.indices { pieces[index].reserveCapacity(outputs.count) }
        for tensor in outputs {
            guard let first = tensor.shape.first, first == total else { return nil }
            let perRow = total == 0 ? 0 : tensor.data.count / total
            var start = 0
            for (index, count) in rows.enumerated() {
                let end = start + count * perRow
                pieces[index].append(
                    WireTensor(
                        name: tensor.name, datatype: tensor.datatype,
                        shape: [count] + tensor.shape.dropFirst(),
                        data: tensor.data.slice(start..<end)))
                start = end
            }
        }
        return pieces
    }
}
