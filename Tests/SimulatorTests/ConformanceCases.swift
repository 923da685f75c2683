import FixedPoint
import Ops
import QBin
@testable import Simulator

/// One case of the conformance suite (`fixtures/conformance/README.md`): a small model, integer inputs
/// (or float inputs, for the graph-input edge), and the batch size. The expected outputs are what the
/// reference kernels compute; `ConformanceSuiteTests` records and checks them.
struct ConformanceCase {
    var name: String
    var model: QModel
    var batch: Int
    /// Stored integers of the graph input, `batch` samples one after another.
    var input: [Int32]
    /// Float inputs whose quantization (`docs/qbin-format.md`, section 5.4) gives `input`.
    var floatInput: [Float]? = nil
}

/// Builds every case from fixed seeds: each op kind at every width 2...8, then the edge cases.
enum ConformanceCases {
    static let widths = 2...8

    static func all() -> [ConformanceCase] {
        OpRegistry.install()
        var cases: [ConformanceCase] = []
        for bits in widths {
            for kind in QOpKind.allCases { cases.append(opCase(kind, bits: bits)) }
        }
        return cases + edgeCases()
    }

    /// Even widths gemmlowp, odd widths single: both profiles over every op kind.
    static func profile(_ bits: Int) -> RoundingProfile { bits % 2 == 0 ? .gemmlowp : .single }

    /// `(top, bottom, left, right)`: valid, same at stride 1, same at stride 2 (more at the bottom and
    /// right, TensorFlow's rule), and explicit with more at the top and left.
    static let paddings: [(Int, Int, Int, Int)] = [(0, 0, 0, 0), (1, 1, 1, 1), (0, 1, 0, 1), (2, 0, 1, 0)]

    static func opCase(_ kind: QOpKind, bits: Int) -> ConformanceCase {
        var g = CaseGenerator(name: "\(kind)_\(bits)bit", bits: bits, profile: profile(bits))
        let pad = paddings[bits % paddings.count]
        let signedInput = bits % 3 == 1
        switch kind {
        case .conv2D:
            let groups = bits % 2 == 1 ? 2 : 1, cin = groups == 1 ? 3 : 4, cout = 3 * groups
            let stride = pad == paddings[2] ? (2, 2) : (1, 1), dilation = bits == 5 ? (2, 1) : (1, 1)
            let x = g.input([6, 5, cin], signed: signedInput)
            g.conv(.conv2D, x, cout: cout, cinPerGroup: cin / groups, kernel: (3, 2), stride: stride, dilation: dilation,
                   padding: pad, extra: ["groups": [Int32(groups)]])
        case .depthwiseConv2D:
            let multiplier = bits % 2 == 0 ? 1 : 2
            let x = g.input([5, 5, 3], signed: signedInput)
            g.conv(.depthwiseConv2D, x, cout: 3 * multiplier, cinPerGroup: nil, kernel: (3, 3),
                   stride: pad == paddings[2] ? (2, 2) : (1, 1), dilation: (1, 1), padding: pad,
                   extra: ["depth_multiplier": [Int32(multiplier)]])
        case .conv2DTranspose:
            let x = g.input([3, 4, 2], signed: signedInput)
            let padding = [(0, 0, 0, 0), (1, 0, 1, 0), (1, 1, 0, 1)][bits % 3]
            let full = (h: 2 * 2 + 3 - padding.0 - padding.1, w: 3 * 2 + 3 - padding.2 - padding.3)
            g.conv(.conv2DTranspose, x, cout: 3, cinPerGroup: 2, kernel: (3, 3), stride: (2, 2), dilation: (1, 1), padding: padding,
                   extra: ["output_size": [Int32(full.h - bits % 2), Int32(full.w)]], outputHW: (full.h - bits % 2, full.w))
        case .dense:
            let x = g.input(bits % 2 == 0 ? [7] : [3, 5], signed: signedInput)
            g.dense(x)
        case .channelAffine:
            let x = g.input([3, 2, 4], signed: signedInput)
            g.affine(x)
        case .add, .subtract:
            let x = g.input([3, 3, 2], signed: signedInput)
            let y = g.requantize(x, signed: !signedInput)
            g.rescaledSum(kind, [x, y] + (kind == .add && bits % 2 == 1 ? [x] : []))
        case .multiply:
            let x = g.input([3, 3, 2], signed: signedInput)
            let y = g.requantize(x, signed: !signedInput)
            g.multiply(x, y)
        case .concatenate:
            let x = g.input([2, 3, 2], signed: signedInput)
            let y = g.requantize(x, signed: !signedInput)
            g.concatenate([x, y, x], axis: bits % 3)
        case .maxPool2D, .averagePool2D:
            let x = g.input([5, 6, 2], signed: signedInput)
            g.pool(kind, x, kernel: (2, 3), stride: bits % 2 == 0 ? (2, 2) : (1, 2), padding: pad)
        case .globalAveragePool2D, .globalMaxPool2D:
            let x = g.input([3, 4, 5], signed: signedInput)
            g.globalPool(kind, x)
        case .flatten, .reshape:
            let x = g.input([3, 2, 4], signed: signedInput)
            g.copy(kind, x, to: kind == .flatten ? [24] : [6, 4])
        case .zeroPadding2D:
            let x = g.input([2, 3, 2], signed: signedInput)
            g.zeroPadding(x, [(1, 0, 2, 1), (0, 2, 0, 0), (3, 1, 1, 2)][bits % 3])
        case .requantize:
            let x = g.input([4, 5], signed: signedInput)
            _ = g.requantize(x, signed: !signedInput, wide: true)
        case .lookupTable:
            // Signed inputs at every width: entry k holds the output for input min + k.
            let x = g.input([3, 7], signed: bits % 2 == 0 || bits == 3)
            g.lookupTable(x, packedTable: bits % 2 == 1)
        case TVSmoothingKind.kind:
            let x = g.input([5, 6, 2], signed: signedInput)
            g.tvSmoothing(x)
        case .registered(let code):
            preconditionFailure("registered op kind \(code) has no conformance case: add it here and record (fixtures/conformance/README.md)")
        case .layerNorm:
            // Rows of 1 to 9 values (a 1-value row normalizes to 0: the output is beta).
            let x = g.input(bits % 2 == 0 ? [2, 3, 2 * bits - 3] : [4, bits == 3 ? 1 : bits], signed: signedInput)
            g.layerNorm(x)
        }
        return g.finished()
    }

    static func edgeCases() -> [ConformanceCase] {
        var cases: [ConformanceCase] = []
        // Squeeze-excite: H x W x C times a 1 x 1 x C gate, the gate as either operand.
        for (bits, gateFirst) in [(8, false), (5, true)] {
            var g = CaseGenerator(name: "multiply_channel_broadcast_\(bits)bit", bits: bits, profile: profile(bits))
            let x = g.input([3, 4, 5], signed: bits == 5)
            g.broadcastMultiply(x, gateFirst: gateFirst)
            cases.append(g.finished())
        }
        // Negative padding crops (Keras Cropping2D), alone and mixed with padding on other sides.
        for (bits, p) in [(8, (-1, 0, -1, 0)), (4, (-2, -1, 1, -3))] {
            var g = CaseGenerator(name: "zeroPadding2D_crop_\(bits)bit", bits: bits, profile: profile(bits))
            let x = g.input([5, 6, 2], signed: bits == 4)
            g.zeroPadding(x, p)
            cases.append(g.finished())
        }
        // layerNorm rows where the variance is 0 with epsilon 0 (V + E = 0: n = 0, out = requant(beta)),
        // and the extremes of an 8-bit row of 64 values with epsilon 1.
        for name in ["constant_rows", "extreme_rows"] {
            var g = CaseGenerator(name: "layerNorm_\(name)", bits: 8, profile: .gemmlowp)
            let x = g.input([64], signed: true)
            g.layerNorm(x, epsilon: name == "extreme_rows" ? 1 : 0)
            var c = g.finished()
            c.input = name == "constant_rows" ? [Int32](repeating: 17, count: 64) + [Int32](repeating: -128, count: 64)
                : [-128] + [Int32](repeating: 127, count: 63) + (0..<64).map { Int32($0 % 2 == 0 ? -128 : 127) }
            cases.append(c)
        }
        // Pool windows wholly in the padding: out = floor((2 + 3 + 3 - 2) / 2) + 1 = 4 rows, the first
        // and last windows see no input pixel (max gives zin, average clamp(zin)).
        for kind in [QOpKind.maxPool2D, .averagePool2D] {
            for bits in [3, 8] {
                var g = CaseGenerator(name: "\(kind)_window_in_padding_\(bits)bit", bits: bits, profile: profile(bits))
                let x = g.input([2, 2, 3], signed: bits == 3)
                g.pool(kind, x, kernel: (2, 2), stride: (2, 2), padding: (3, 3, 3, 3))
                cases.append(g.finished())
            }
        }
        // int32 extremes: accumulators that reach exactly +-(2^31 - 1), read out as i32; i32 activations
        // at the ends of their range through requantize.
        for profile in RoundingProfile.allCases {
            var g = CaseGenerator(name: "dense_int32_extremes_\(profile)", bits: 8, profile: profile)
            let x = g.input([16], signed: true, zero: 0)
            g.denseAtTheBound(x)
            var c = g.finished()
            c.input = [Int32](repeating: -128, count: 16) + [Int32](repeating: 127, count: 16)
            cases.append(c)

            var r = CaseGenerator(name: "requantize_int32_input_\(profile)", bits: 8, profile: profile)
            let wide = r.input([8], type: .int32, zero: 0)
            r.requantizeWide(wide)
            var rc = r.finished()
            rc.input = [Int32.min, Int32.min + 1, -1, 0, 1, Int32.max - 1, Int32.max, 1 << 30,
                        -(1 << 30), 123_456_789, -987_654_321, 65_536, -65_537, 2, -2, 3]
            cases.append(rc)

            // Exact ties of x * M (M = 2^-2, 2^-1, and 3 * 2^-3), where the profiles differ.
            for (label, m, s) in [("quarter", Int32(1 << 30), Int32(-1)), ("half", Int32(1 << 30), Int32(0)),
                                  ("three_eighths", Int32(3 << 28), Int32(0))] {
                var t = CaseGenerator(name: "requantize_ties_\(label)_\(profile)", bits: 8, profile: profile)
                let x = t.input([21], signed: true, zero: 0)
                t.requantizeExact(x, multiplier: m, shift: s)
                var tc = t.finished()
                tc.input = (-10...10).map(Int32.init) + (-10...10).map { Int32($0 * 3) }
                cases.append(tc)
            }
        }
        // Multipliers below 2^30, the (0, 0) flush, and left shifts.
        var m = CaseGenerator(name: "requantize_unnormalised_multipliers", bits: 8, profile: .gemmlowp)
        let x = m.input([10], signed: true)
        let a = m.requantizeExact(x, multiplier: 12_345, shift: 20)
        let b = m.requantizeExact(a, multiplier: 0, shift: 0)
        m.concatenateExact([a, b])
        cases.append(m.finished())
        cases.append(inputQuantizationCase())
        return cases
    }

    /// The graph-input edge (`docs/qbin-format.md`, section 5.4): inputs in [-1, 1] at `s = 2 / 255`
    /// (MobileNet's preprocessing), exact binary32 ties, quotients where float64 division would round
    /// the other way, NaN, infinities, and clamping; an identity requantize passes them through.
    static func inputQuantizationCase() -> ConformanceCase {
        var g = CaseGenerator(name: "graph_input_quantization", bits: 8, profile: .gemmlowp)
        let scale: Float = 2.0 / 255
        let x = g.input([32], type: .unsigned(8)!, zero: 128, scale: scale)
        g.requantizeExact(x, multiplier: 1 << 30, shift: 1)
        var c = g.finished()
        var floats: [Float] = []
        // k + 1/2 steps: ties in binary32 for many k (and near-ties in float64).
        for k in stride(from: -6, through: 6, by: 1) { floats.append((Float(k) + 0.5) * scale) }
        // Pixels p / 127.5 - 1 as preprocessing computes them in float32.
        for p in [0, 1, 2, 3, 127, 128, 254, 255] as [Float] { floats.append(p / 127.5 - 1) }
        floats += [Float.nan, .infinity, -.infinity, 1.5, -1.5, 0, -0.0, Float.leastNonzeroMagnitude, -1, 1, 0.99999994]
        c.floatInput = floats
        let tensor = c.model.tensors[c.model.inputs[0]]
        c.input = floats.map { tensor.quantizeEdge($0) }
        c.batch = 1
        return c
    }
}
