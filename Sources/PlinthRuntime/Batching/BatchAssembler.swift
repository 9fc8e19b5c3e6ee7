/// Stacks requests' inputs along dimension 0 and splits a batched result back per request.
enum BatchAssembler {
    /// The merged inputs of `parts` (each a request's inputs by name, all with the same names,
    /// datatypes and non-batch dimensions). Nil if they do not line up.
    static func merge(_ parts: [[String: WireTensor]]) -> [String: WireTensor]? {
        guard let first = parts.first else { return nil }
        var merged: [String: WireTensor] = [:]
        for (name, template) in first {
            var rows = 0
            var datas: [TensorData] = []
            for part in parts {
                guard let tensor = part[name], tensor.datatype == template.datatype,
                    tensor.shape.count == template.shape.count, !tensor.shape.isEmpty,
                    tensor.shape.dropFirst() == template.shape.dropFirst()
                else { return nil }
                rows += tensor.shape[0]
                datas.append(tensor.data)
            }
            guard let data = TensorData.concatenate(datas) else { return nil }
            merged[name] = WireTensor(
                name: name, datatype: template.datatype,
                shape: [rows] + template.shape.dropFirst(), data: data)
        }
        return merged
    }

    /// Splits each output along dimension 0 into pieces of `rows[i]` rows. Nil when an output's
    /// first dimension is not the total row count (such a model cannot be batched).
    static func split(_ outputs: [String: WireTensor], rows: [Int]) -> [[String: WireTensor]]? {
        let total = rows.reduce(0, +)
        var pieces = [[String: WireTensor]](repeating: [:], count: rows.count)
        for (name, tensor) in outputs {
            guard let first = tensor.shape.first, first == total else { return nil }
            let perRow = total == 0 ? 0 : tensor.data.count / total
            var start = 0
            for (index, count) in rows.enumerated() {
                let end = start + count * perRow
                pieces[index][name] = WireTensor(
                    name: name, datatype: tensor.datatype,
                    shape: [count] + tensor.shape.dropFirst(),
                    data: tensor.data.slice(start..<end))
                start = end
            }
        }
        return pieces
    }
}
