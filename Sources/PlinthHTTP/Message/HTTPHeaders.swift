/// Ordered header fields; lookups are case-insensitive (ASCII), insertion order is kept.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    @usableFromInline var fields: [(name: String, value: String)]

    public init() { fields = [] }

    public init(dictionaryLiteral elements: (String, String)...) {
        fields = []
        // Room for the fields the server adds (X-Request-Id, Allow) without a reallocation.
        fields.reserveCapacity(elements.count + 2)
        for (name, value) in elements { fields.append((name: name, value: value)) }
    }

    /// Room for `count` fields without regrowing (a hot path that knows how many it adds).
    public mutating func reserveCapacity(_ count: Int) { fields.reserveCapacity(count) }

    /// Number of fields (a name given twice counts twice).
    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    /// The first value for `name`, nil when absent.
    public subscript(_ name: String) -> String? {
        // Through the buffer: iterating `fields` copied each tuple (two retains and releases).
        fields.withUnsafeBufferPointer { buffer in
            for i in buffer.indices where HTTPHeaders.equalsIgnoringCase(buffer[i].name, name) {
                return buffer[i].value
            }
            return nil
        }
    }

    /// Every value for `name`, in order.
    public func values(_ name: String) -> [String] {
        fields.compactMap { HTTPHeaders.equalsIgnoringCase($0.name, name) ? $0.value : nil }
    }

    /// Whether a field named `name` is present.
    public func contains(_ name: String) -> Bool {
        fields.contains { HTTPHeaders.equalsIgnoringCase($0.name, name) }
    }

    /// Appends a field, keeping existing ones with the same name.
    public mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// Replaces every field named `name` with one field.
    public mutating func set(_ name: String, _ value: String) {
        if let index = fields.firstIndex(where: { HTTPHeaders.equalsIgnoringCase($0.name, name) }) {
            fields[index].value = value
            var i = fields.count - 1
            while i > index {
                if HTTPHeaders.equalsIgnoringCase(fields[i].name, name) { fields.remove(at: i) }
                i -= 1
            }
        } else {
            fields.append((name: name, value: value))
        }
    }

    /// Removes every field named `name`.
    public mutating func remove(_ name: String) {
        fields.removeAll { HTTPHeaders.equalsIgnoringCase($0.name, name) }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }

    /// ASCII case-insensitive comparison without allocating.
    public static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        // Lengths first (O(1) for native strings): most comparisons in a lookup fail there.
        guard a.utf8.count == b.utf8.count else { return false }
        var a = a
        var b = b
        return a.withUTF8 { ua in
            b.withUTF8 { ub in
                for i in 0..<ua.count where ua[i] != ub[i] {
                    if ua[i] | 0x20 != ub[i] | 0x20 { return false }
                    let lower = ua[i] | 0x20
                    if lower < 0x61 || lower > 0x7A { return false }
                }
                return true
            }
        }
    }
}
