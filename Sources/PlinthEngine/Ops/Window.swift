/// Output size and padding of a 2-D sliding window (Conv, MaxPool, AveragePool).
struct Window: Sendable {
    enum AutoPad: String, Sendable {
        case notSet = "NOTSET"
        case sameUpper = "SAME_UPPER"
        case sameLower = "SAME_LOWER"
        case valid = "VALID"
    }

    /// kH, kW; empty for a Conv whose weights are only known at run time (see `with(kernel:)`).
    private(set) var kernel: [Int]
    let strides: [Int]
    let dilations: [Int]
    let pads: [Int]  // hBegin, wBegin, hEnd, wEnd
    let autoPad: AutoPad
    let ceilMode: Bool

    init(_ ctx: NodeContext, kernel: [Int]?) throws(EngineError) {
        let k = ctx.ints("kernel_shape") ?? kernel ?? []
        guard k.count == 2 || (k.isEmpty && ctx.node.opType == "Conv") else {
            throw ctx.error("only 2-D windows are supported (kernel_shape \(k))")
        }
        self.kernel = k
        strides = ctx.ints("strides") ?? [1, 1]
        dilations = ctx.ints("dilations") ?? [1, 1]
        pads = ctx.ints("pads") ?? [0, 0, 0, 0]
        guard let ap = AutoPad(rawValue: ctx.string("auto_pad", "NOTSET")) else { throw ctx.error("unknown auto_pad") }
        autoPad = ap
        ceilMode = ctx.int("ceil_mode", 0) != 0
        guard strides.count == 2, dilations.count == 2, pads.count == 4, k.allSatisfy({ $0 > 0 && $0 < 1 << 16 }),
            strides.allSatisfy({ $0 > 0 && $0 < 1 << 16 }), dilations.allSatisfy({ $0 > 0 && $0 < 1 << 16 }),
            pads.allSatisfy({ $0 >= 0 && $0 < 1 << 16 })
        else { throw ctx.error("invalid strides/dilations/pads") }
    }

    func with(kernel k: [Int]) -> Window {
        var w = self
        w.kernel = k
        return w
    }

    /// For one spatial axis: output length and the padding before it.
    func geometry(axis d: Int, input: Int) -> (out: Int, padBegin: Int) {
        let span = (kernel[d] - 1) * dilations[d] + 1
        switch autoPad {
        case .sameUpper, .sameLower:
            let out = (input + strides[d] - 1) / strides[d]
            let total = max(0, (out - 1) * strides[d] + span - input)
            return (out, autoPad == .sameUpper ? total / 2 : total - total / 2)
        case .valid:
            return (input >= span ? (input - span) / strides[d] + 1 : 0, 0)
        case .notSet:
            let padded = input + pads[d] + pads[d + 2] - span
            guard padded >= 0 else { return (0, pads[d]) }
            var out = (ceilMode ? (padded + strides[d] - 1) / strides[d] : padded / strides[d]) + 1
            // A window may not start in the end padding.
            if ceilMode && (out - 1) * strides[d] >= input + pads[d] { out -= 1 }
            return (out, pads[d])
        }
    }

    /// End padding actually used (the window may extend past the declared pads with ceil_mode).
    func padEnd(axis d: Int, input: Int, out: Int, padBegin: Int) -> Int {
        switch autoPad {
        case .notSet: return pads[d + 2]
        case .valid: return 0
        default:
            let span = (kernel[d] - 1) * dilations[d] + 1
            return max(0, (out - 1) * strides[d] + span - input - padBegin)
        }
    }
}
