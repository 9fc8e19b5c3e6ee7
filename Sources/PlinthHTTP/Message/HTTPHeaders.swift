/// Ordered header fields; lookups are case-insensitive (ASCII), insertion order is kept.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// A struct, not a tuple: an array of tuples is destroyed through the runtime's generic tuple
    /// witness, element by element (under 1 % of a gateway request, measured).
    @usableFromInline struct Field: Sendable {
        @usableFromInline var name: String
        @usableFromInline var value: String

        @usableFromInline init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    @usableFromInline var fields: [Field]

    public init() { fields = [] }

    public init(dictionaryLiteral elements: (String, String)...) {
        fields = []
        // Room for the fields the server adds (X-Request-Id, Allow) without a reallocation.
        fields.reserveCapacity(elements.count + 2)
        for (name, value) in elements { fields.append(Field(name: name, value: value)) }
    }

    /// Room for `count` fields without regrowing (a hot path that knows how many it adds).
    public mutating func reserveCapacity(_ count: Int) { fields.reserveCapacity(count) }

    /// Number of fields (a name given twice counts twice).
    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    /// The first value for `name`, nil when absent.
    @inlinable
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
        fields.append(Field(name: name, value: value))
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
            fields.append(Field(name: name, value: value))
        }
    }

    /// Removes every field named `name`.
    public mutating func remove(_ name: String) {
        fields.removeAll { HTTPHeaders.equalsIgnoringCase($0.name, name) }
    }

    public struct Iterator: IteratorProtocol {
        @usableFromInline var base: IndexingIterator<[Field]>

        @usableFromInline init(base: IndexingIterator<[Field]>) { self.base = base }

        @inlinable
        public mutating func next() -> (name: String, value: String)? {
            guard let field = base.next() else { return nil }
            return (field.name, field.value)
        }
    }

    @inlinable
    public func makeIterator() -> Iterator { Iterator(base: fields.makeIterator()) }

    /// ASCII case-insensitive comparison without allocating or copying either string.
    @inlinable
    public static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        // Lengths first (O(1) for native strings), inlined at the caller: most comparisons in a
        // lookup fail there, and a call per field was a large share of the gateway's header work.
        guard a.utf8.count == b.utf8.count else { return false }
        return sameLengthEqualsIgnoringCase(a, b)
    }

    @usableFromInline
    static func sameLengthEqualsIgnoringCase(_ a: String, _ b: String) -> Bool {
        let fast = a.utf8.withContiguousStorageIfAvailable { ua in
            b.utf8.withContiguousStorageIfAvailable { ub in equalsIgnoringCase(ua, ub) }
        }
        if let fast, let result = fast { return result }
        let x = Array(a.utf8)
        let y = Array(b.utf8)  // bridged strings only
        return x.withUnsafeBufferPointer { equalsIgnoringCase($0, y) }
    }

    private static func equalsIgnoringCase(_ ua: UnsafeBufferPointer<UInt8>, _ ub: some Collection<UInt8>) -> Bool {
        for (x, y) in zip(ua, ub) where x != y {
            let lower = x | 0x20
            if lower != y | 0x20 || lower < 0x61 || lower > 0x7A { return false }
        }
        return true
    }
}
