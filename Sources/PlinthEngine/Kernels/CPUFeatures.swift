import Foundation

/// What the CPU offers the kernels, read from /proc/cpuinfo (Linux lists a flag only when the
/// kernel also saves that register state, so "avx2" there means usable).
package enum CPUFeatures {
    /// True when the first processor's flags include both `avx2` and `fma`.
    package static func hasAVX2AndFMA(cpuinfo: String) -> Bool {
        for line in cpuinfo.split(separator: "\n", omittingEmptySubsequences: true) {
            guard line.hasPrefix("flags") else { continue }
            let flags = Set(line.split(separator: " ").map(String.init))
            return flags.contains("avx2") && flags.contains("fma")
        }
        return false
    }

    static func preferredImplementation() -> KernelDispatch.Implementation {
        if ProcessInfo.processInfo.environment["PLINTH_KERNELS"] == "generic" { return .generic }
        #if arch(x86_64)
            guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return .generic }
            return hasAVX2AndFMA(cpuinfo: text) ? .avx2 : .generic
        #else
            return .generic
        #endif
    }
}
