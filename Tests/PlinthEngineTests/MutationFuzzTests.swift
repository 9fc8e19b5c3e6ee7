import Foundation
import PlinthEngine
import XCTest

/// Seeded random corruption of every vector model: loading and running must fail cleanly or succeed.
final class MutationFuzzTests: XCTestCase {
    /// xorshift64*: deterministic across platforms.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    static func mutate(_ bytes: [UInt8], _ rng: inout Rng) -> [UInt8] {
        var b = bytes
        for _ in 0..<(1 + rng.below(4)) {
            guard !b.isEmpty else { break }
            switch rng.below(5) {
            case 0: b[rng.below(b.count)] ^= UInt8(1 << rng.below(8))
            case 1: b[rng.below(b.count)] = UInt8(truncatingIfNeeded: rng.next())
            case 2: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: rng.below(b.count + 1))
            case 3: b.removeSubrange(rng.below(b.count)..<b.count)
            default:
                // Varint-shaped garbage: large lengths and 10-byte negatives.
                let at = rng.below(b.count)
                b.replaceSubrange(at..<min(at + 3, b.count), with: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
            }
        }
        return b
    }

    func testRandomlyCorruptedModelsNeverCrash() throws {
        var rng = Rng(state: 0x9E37_79B9_7F4A_7C15)
        var loaded = 0
        var rejected = 0
        let cases = try VectorCase.all().filter { c in
            let size = (try? FileManager.default.attributesOfItem(atPath: c.modelPath)[.size] as? Int) ?? nil
            return (size ?? .max) < 64 * 1024
        }
        XCTAssertGreaterThan(cases.count, 100)
        for c in cases {
            let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: c.modelPath)))
            var feeds: [String: Tensor] = [:]
            for i in c.inputs { feeds[i.name] = i.tensor }
            for _ in 0..<100 {
                let bytes = Self.mutate(original, &rng)
                guard let model = try? InferenceModel(bytes: bytes, directory: nil) else {
                    rejected += 1
                    continue
                }
                loaded += 1
                _ = try? model.run(feeds)
            }
        }
        XCTAssertGreaterThan(loaded + rejected, 10000)
        XCTAssertGreaterThan(rejected, 0)
        XCTAssertGreaterThan(loaded, 0)
    }
}
