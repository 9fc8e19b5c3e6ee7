/// Deterministic per-request sampling: the same request id always gets the same answer for the same
/// purpose (so a retried request is mirrored or logged like its first try), different purposes are
/// independent (a salt), and no random-number syscall runs per request.
enum RequestSample {
    static let shadowSalt: UInt64 = 0x5348_4144_4f57_0001
    static let payloadSalt: UInt64 = 0x5041_594c_4f41_4401

    /// Whether `requestID` falls in the sampled `fraction` (0–1) for `salt`.
    static func keeps(_ requestID: String, fraction: Double, salt: UInt64) -> Bool {
        if fraction >= 1 { return true }
        guard fraction > 0 else { return false }
        // Uniform in [0, 1) from the top 53 bits of a mixed FNV-1a hash.
        let unit = Double(hash(requestID, salt: salt) >> 11) * 0x1p-53
        return unit < fraction
    }

    /// FNV-1a over the UTF-8 bytes, finished with SplitMix64's mixer so nearby ids spread out.
    static func hash(_ text: String, salt: UInt64) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ salt
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        return h ^ (h >> 31)
    }
}
