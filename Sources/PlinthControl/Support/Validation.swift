/// Name and label rules shared by every object.
enum Validation {
    /// RFC 1123 DNS label: 1–63 of [a-z0-9-], starting and ending alphanumeric.
    static func isDNSLabel(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func alnum(_ b: UInt8) -> Bool { (b >= 97 && b <= 122) || (b >= 48 && b <= 57) }
        guard let first = bytes.first, let last = bytes.last, alnum(first), alnum(last) else { return false }
        return bytes.allSatisfy { alnum($0) || $0 == 45 }
    }

    /// Version labels: 1–63 of [A-Za-z0-9._-], starting alphanumeric ("1", "v2", "2024.05.1").
    static func isVersionLabel(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func alnum(_ b: UInt8) -> Bool { (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57) }
        guard alnum(bytes[0]) else { return false }
        return bytes.allSatisfy { alnum($0) || $0 == 45 || $0 == 46 || $0 == 95 }
    }

    /// Usernames: 1–64 of [a-z0-9._@-].
    static func isUsername(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy {
            ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 46 || $0 == 95 || $0 == 64
        }
    }

    /// Labels: at most 32 pairs, keys 1–63 of [A-Za-z0-9._/-], values up to 256 characters.
    static func checkLabels(_ labels: [String: String]?, field: String = "labels") throws {
        guard let labels else { return }
        guard labels.count <= 32 else { throw ControlError.invalid(field: field, message: "at most 32 labels") }
        for (key, value) in labels {
            let bytes = Array(key.utf8)
            let ok =
                (1...63).contains(bytes.count)
                && bytes.allSatisfy {
                    ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 45
                        || $0 == 46 || $0 == 95 || $0 == 47
                }
            guard ok else { throw ControlError.invalid(field: "\(field).\(key)", message: "invalid label key") }
            guard value.utf8.count <= 256 else {
                throw ControlError.invalid(field: "\(field).\(key)", message: "label value longer than 256 bytes")
            }
        }
    }

    static func checkPassword(_ password: String, field: String = "password") throws {
        guard password.utf8.count >= 8 else {
            throw ControlError.invalid(field: field, message: "must be at least 8 characters")
        }
        guard password.utf8.count <= 1024 else {
            throw ControlError.invalid(field: field, message: "must be at most 1024 bytes")
        }
    }
}
