import CKernels
import FixedPoint
import QBin
import XCTest
@testable import Simulator

/// The fast element-wise kernels (add / subtract, multiply, channelAffine, requantize, max / average pool, global
/// pools) and the depth-multiplier depthwise conv against their scalar references, bit for bit, on random
/// models whose inputs include the type's extremes and the zero point, with int32 activations and
/// extreme multipliers / shifts, both rounding profiles, 1 and 2 threads.
final class FastElementwiseTests: XCTestCase {
    private let s32 = QType.int32

    /// Random input of `count` values of `type`, every seventh one replaced by an edge value
    /// (min, max, the zero point, min + 1, max - 1, 0).
    private func edgyInput(_ rng: inout TestRNG, _ count: Int, _ type: QType, zero: Int32) -> [Int32] {
        let lo = Int32(type.minValue), hi = Int32(clamping: type.maxValue)
        let edges = [lo, hi, zero, lo + 1, hi - 1, Swift.min(Swift.max(0, lo), hi)]
        var v = rng.values(count, type)
        for i in stride(from: rng.int(0...6), to: count, by: 7) { v[i] = edges[rng.int(0...edges.count - 1)] }
        return v
    }

    /// A multiplier attribute pair: mostly ordinary (`[2^30, 2^31)`, shift in `shifts`), sometimes 0,
    /// 2^31 - 1 or a shift at the ends of what the profiles support.
    private func multiplier(_ rng: inout TestRNG, shifts: ClosedRange<Int>) -> (Int32, Int32) {
        switch rng.int(0...9) {
        case 0: return (0, Int32(rng.int(shifts)))
        case 1: return (Int32.max, Int32(rng.int(shifts)))
        case 2: return (rng.int32((1 << 30)...((1 << 31) - 1)), -31)
        default: return (rng.int32((1 << 30)...((1 << 31) - 1)), Int32(rng.int(shifts)))
        }
    }

    private func clamp(_ rng: inout TestRNG, _ type: QType) -> [Int32] {
        let lo = Int32(type.minValue), hi = Int32(clamping: type.maxValue)
        return rng.bool() ? [lo, hi] : [lo / 2 + hi / 4, hi / 2 + hi / 4]
    }

    /// Runs `model` on `input` with the reference and the fast kernels (1 and 2 threads), both profiles,
    /// and fails at the first op whose output differs.
    private func assertMatches(_ model: QModel, _ input: [Int32], batch: Int, _ context: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        for profile in RoundingProfile.allCases {
            try assertFastMatchesReference(model, profile: profile, input: input, batch: batch, context: context, file: file, line: line)
        }
    }

    func testDepthwiseWithMultiplierMatchesReference() throws {
        var rng = TestRNG(seed: 21)
        for trial in 0..<24 {
            let cin = rng.int(1...9), dm = rng.int(2...4)
            let kh = rng.int(1...3), kw = rng.int(1...3)
            let stride = (rng.int(1...2), rng.int(1...2)), dilation = (rng.int(1...2), rng.int(1...2))
            let pad = (rng.int(0...2), rng.int(0...1), rng.int(0...2), rng.int(0...1))
            let h = rng.int(((kh - 1) * dilation.0 + 1)...7), w = rng.int(((kw - 1) * dilation.1 + 1)...7)
            let outH = (h + pad.0 + pad.1 - ((kh - 1) * dilation.0 + 1)) / stride.0 + 1
            let outW = (w + pad.2 + pad.3 - ((kw - 1) * dilation.1 + 1)) / stride.1 + 1
            // i32 weights (the wide path) hold small values: the accumulator bound (format section 5.3) must fit
            // int32, which no i32 input can.
            let inType = [u8, s8, s8][trial % 3], wType = trial % 3 == 2 ? s32 : QType.signed(2 + trial % 7)!
            let cout = cin * dm
            var b = ModelBuilder()
            let zin = [Int32(inType.minValue), Int32(clamping: inType.maxValue), rng.int32(Swift.max(inType.minValue, -128)...Swift.min(inType.maxValue, 127))][rng.int(0...2)]
            let x = b.input([h, w, cin], inType, zero: zin)
            let outType = rng.bool() ? u8 : s8
            let y = b.activation("y", [outH, outW, cout], outType, zero: rng.int32(outType.minValue...outType.maxValue))
            let (m, s) = multiplier(&rng, shifts: -10...(-2))
            let perChannel = rng.bool()
            let weights = wType == s32 ? (0..<(cout * kh * kw)).map { _ in rng.int32(-32_768...32_767) } : rng.values(cout * kh * kw, wType)
            b.op(.depthwiseConv2D, [x, b.constant("w", [cout, kh, kw], wType, weights, perChannel: true),
                                    b.constant("b", [cout], .int32, (0..<cout).map { _ in rng.int32(-3000...3000) })], y,
                 window(kernel: (kh, kw), stride: stride, dilation: dilation, padding: pad)
                    .merging(["depth_multiplier": [Int32(dm)], "clamp": clamp(&rng, outType),
                              "multiplier": perChannel ? (0..<cout).map { _ in multiplier(&rng, shifts: -10...(-2)).0 } : [m],
                              "shift": perChannel ? (0..<cout).map { _ in Int32(rng.int(-10...(-2))) } : [s]]))
            let batch = trial % 2 == 0 ? 1 : 3
            try assertMatches(b.finished(outputs: [y]), edgyInput(&rng, batch * h * w * cin, inType, zero: zin), batch: batch,
                              "depthwise trial \(trial) dm \(dm) in \(inType) w \(wType)")
        }
    }

    /// `add` / `subtract` of the input and a rescaled copy of it (channelAffine, requantize), two and
    /// three inputs; int32 activations with left shifts up to 30 exercise the wrapping shift.
    func testAddSubtractMultiplyChannelAffineRequantizeMatchReference() throws {
        var rng = TestRNG(seed: 23)
        for trial in 0..<36 {
            let inType = [u8, s8, s32][trial % 3], midType = rng.bool() ? u8 : s8, outType = [u8, s8, s32][rng.int(0...2)]
            let c = rng.int(1...17), shape = trial % 4 == 0 ? [c] : [rng.int(1...5), rng.int(1...5), c]
            let count = shape.reduce(1, *)
            var b = ModelBuilder()
            let zin = inType == s32 ? rng.int32(-1000...1000) : rng.int32(inType.minValue...inType.maxValue)
            let x = b.input(shape, inType, zero: zin)
            let mid = b.activation("mid", shape, midType, zero: rng.int32(midType.minValue...midType.maxValue))
            let scaleType = s8
            // channelAffine only on <= 8-bit inputs: on i32 its accumulator bound exceeds int32 (format section 5.3);
            // b up to the bound, |x - zin| * |a| <= 255 * 128.
            if inType != s32 && rng.bool() {
                let perChannel = rng.bool()
                b.op(.channelAffine, [x, b.constant("a", [c], scaleType, rng.values(c, scaleType), perChannel: true),
                                      b.constant("b", [c], .int32, (0..<c).map { _ in rng.int32(-(2_147_483_647 - 255 * 128)...(2_147_483_647 - 255 * 128)) })], mid,
                     ["multiplier": perChannel ? (0..<c).map { _ in multiplier(&rng, shifts: -20...2).0 } : [multiplier(&rng, shifts: -20...2).0],
                      "shift": perChannel ? (0..<c).map { _ in Int32(rng.int(-20...2)) } : [Int32(rng.int(-20...2))],
                      "clamp": clamp(&rng, midType)])
            } else {
                let (m, s) = multiplier(&rng, shifts: -12...4)
                b.op(.requantize, [x], mid, ["multiplier": [m], "shift": [s], "clamp": clamp(&rng, midType)])
            }
            let inputs = trial % 5 == 4 ? [x, mid, x] : [x, mid]
            let kind: QOpKind = inputs.count == 2 && rng.bool() ? .subtract : .add
            let y = b.activation("y", shape, outType, zero: outType == s32 ? rng.int32(-100...100) : rng.int32(outType.minValue...outType.maxValue))
            let pairs = inputs.map { _ in multiplier(&rng, shifts: -12...2) }
            let out = multiplier(&rng, shifts: -20...2)
            b.op(kind, inputs, y, ["left_shift": [Int32(inType == s32 ? [0, 1, 30][rng.int(0...2)] : rng.int(0...20))],
                                   "input_multiplier": pairs.map(\.0), "input_shift": pairs.map(\.1),
                                   "output_multiplier": [out.0], "output_shift": [out.1], "clamp": clamp(&rng, outType)])
            // Then multiply (FastMultiply): the sum times the middle tensor, requantized.
            let productType = [u8, s8, s32][rng.int(0...2)]
            let z = b.activation("z", shape, productType,
                                 zero: productType == s32 ? rng.int32(-100...100) : rng.int32(productType.minValue...productType.maxValue))
            let (pm, ps) = multiplier(&rng, shifts: -31...2)
            b.op(.multiply, [y, mid], z, ["multiplier": [pm], "shift": [ps], "clamp": clamp(&rng, productType)])
            let batch = trial % 2 == 0 ? 1 : 4
            try assertMatches(b.finished(outputs: [z]), edgyInput(&rng, batch * count, inType, zero: zin), batch: batch,
                              "element-wise trial \(trial) \(kind) of \(inputs.count) and multiply, \(inType) -> \(midType) -> \(outType) -> \(productType), shape \(shape)")
        }
    }

    /// Two-input add / subtract (`qc_add2_requant`) at every kernel level the CPU runs: one input's multiplier
    /// exactly 1/2 (2^30, shift 0: TFLite's larger-scale input, which the avx512 levels halve instead of
    /// multiplying), both, or neither; left shifts 0-24 (24 wraps 8-bit inputs); ReLU clamps (the output's
    /// clamped-below form) and full ones; both profiles; lengths with a partial last vector.
    func testTwoInputAddMatchesReferenceAtEveryLevel() throws {
        let before = qc_isa_active()
        defer { _ = qc_isa_select(before) }
        for level in 0..<Int32(QC_ISA_COUNT.rawValue) where qc_isa_cpu_supports(level) != 0 {
            XCTAssertEqual(qc_isa_select(level), 0)
            var rng = TestRNG(seed: 37)
            for trial in 0..<24 {
                let inType = [u8, s8][trial % 2], outType = [u8, s8][(trial / 2) % 2]
                let shape = [rng.int(1...5), rng.int(1...7), [16, 3, 32, 21][trial % 4]]
                var b = ModelBuilder()
                let x = b.input(shape, inType, zero: rng.int32(inType.minValue...inType.maxValue))
                let w = b.activation("w", shape, inType, zero: rng.int32(inType.minValue...inType.maxValue))
                b.op(.requantize, [x], w, ["multiplier": [rng.int32((1 << 30)...((1 << 31) - 1))], "shift": [Int32(rng.int(-2...0))],
                                           "clamp": [Int32(inType.minValue), Int32(inType.maxValue)]])
                let half = trial % 4
                let pairs: [(Int32, Int32)] = (0..<2).map { i in
                    half == i + 1 || half == 3 ? (1 << 30, 0) : (rng.int32((1 << 30)...((1 << 31) - 1)), Int32(rng.int(-3...(-1))))
                }
                let zout = rng.int32(outType.minValue...outType.maxValue)
                let relu = trial % 3 != 2
                let y = b.activation("y", shape, outType, zero: zout)
                b.op(trial % 5 == 4 ? .subtract : .add, [w, x], y,
                     ["left_shift": [Int32([20, 0, 1, 24, 20, 7][trial % 6])],
                      "input_multiplier": pairs.map(\.0), "input_shift": pairs.map(\.1),
                      "output_multiplier": [rng.int32((1 << 30)...((1 << 31) - 1))], "output_shift": [Int32(rng.int(-21...(-14)))],
                      "clamp": relu ? [zout, Int32(outType.maxValue)] : [Int32(outType.minValue), Int32(outType.maxValue)]])
                let count = shape.reduce(1, *), batch = trial % 2 == 0 ? 1 : 3
                try assertMatches(b.finished(outputs: [y]), edgyInput(&rng, batch * count, inType, zero: 0), batch: batch,
                                  "\(String(cString: qc_isa_name(level))) add trial \(trial), halved \(half), relu \(relu)")
            }
        }
    }

    /// A channel-broadcast `multiply` (squeeze-excite: `H x W x C` times a `1 x 1 x C` from a global
    /// average pool and reshape), either operand order, against the reference.
    func testChannelBroadcastMultiplyMatchesReference() throws {
        var rng = TestRNG(seed: 31)
        for trial in 0..<24 {
            let c = rng.int(1...19), shape = [rng.int(1...6), rng.int(1...6), c]
            let inType = [u8, s8][trial % 2], outType = [u8, s8, s32][rng.int(0...2)]
            var b = ModelBuilder()
            let zin = rng.int32(inType.minValue...inType.maxValue)
            let x = b.input(shape, inType, zero: zin)
            let pooled = b.activation("pooled", [c], inType, zero: rng.int32(inType.minValue...inType.maxValue))
            b.op(.globalAveragePool2D, [x], pooled, ["clamp": clamp(&rng, inType)])
            let gate = b.activation("gate", [1, 1, c], inType, zero: zin)
            b.op(.reshape, [pooled], gate, ["shape": [1, 1, Int32(c)]])
            let y = b.activation("y", shape, outType, zero: outType == s32 ? rng.int32(-100...100) : rng.int32(outType.minValue...outType.maxValue))
            let (m, s) = multiplier(&rng, shifts: -20...0)
            b.op(.multiply, trial % 2 == 0 ? [x, gate] : [gate, x], y, ["multiplier": [m], "shift": [s], "clamp": clamp(&rng, outType)])
            let batch = [1, 3, 5][trial % 3]
            try assertMatches(b.finished(outputs: [y]), edgyInput(&rng, batch * shape.reduce(1, *), inType, zero: zin), batch: batch,
                              "broadcast multiply trial \(trial), shape \(shape), gate operand \(trial % 2 == 0 ? 1 : 0)")
        }
    }

    /// `FastConcatenate` against the reference: the input and 1-2 requantized copies of it (other types
    /// and encodings) along every axis, identity multipliers (2^30, shift 1) among the random ones.
    func testConcatenateMatchesReference() throws {
        var rng = TestRNG(seed: 29)
        for trial in 0..<24 {
            let base = [rng.int(1...4), rng.int(1...4), rng.int(1...11)], axis = trial % 3
            var b = ModelBuilder()
            let inType = [u8, s8, s32][trial % 3], outType = [u8, s8][rng.int(0...1)]
            let zin = inType == s32 ? rng.int32(-1000...1000) : rng.int32(inType.minValue...inType.maxValue)
            let x = b.input(base, inType, zero: zin)
            var parts = [x]
            for k in 1..<(2 + trial % 2) {
                let type = rng.bool() ? u8 : s8
                let t = b.activation("p\(k)", base, type, zero: rng.int32(type.minValue...type.maxValue))
                let (m, sh) = multiplier(&rng, shifts: -8...2)
                b.op(.requantize, [x], t, ["multiplier": [m], "shift": [sh], "clamp": clamp(&rng, type)])
                parts.append(t)
            }
            var outShape = base
            outShape[axis] = base[axis] * parts.count
            let y = b.activation("y", outShape, outType, zero: rng.int32(outType.minValue...outType.maxValue))
            let pairs = parts.indices.map { i -> (Int32, Int32) in rng.int(0...3) == 0 ? (1 << 30, 1) : multiplier(&rng, shifts: -12...2) }
            b.op(.concatenate, parts, y, ["axis": [Int32(axis)], "input_multiplier": pairs.map(\.0), "input_shift": pairs.map(\.1)])
            let batch = trial % 2 == 0 ? 1 : 3
            try assertMatches(b.finished(outputs: [y]), edgyInput(&rng, batch * base.reduce(1, *), inType, zero: zin), batch: batch,
                              "concatenate trial \(trial) axis \(axis) of \(parts.count), \(inType) -> \(outType)")
        }
    }

    /// `FastZeroPadding2D` against the reference: padding and cropping (negative padding) on each side,
    /// rows wholly in the padding or cropped away, 1-19 channels, batches of 1-3.
    func testZeroPaddingMatchesReference() throws {
        var rng = TestRNG(seed: 67)
        for trial in 0..<24 {
            let h = rng.int(1...6), w = rng.int(1...7), c = rng.int(1...19)
            let pad = (rng.int(-1...2), rng.int(-1...3), rng.int(-1...2), rng.int(-1...3))
            let outH = h + pad.0 + pad.1, outW = w + pad.2 + pad.3
            guard outH > 0, outW > 0 else { continue }
            let type = [u8, s8][trial % 2]
            let zero = rng.int32(type.minValue...type.maxValue)
            var b = ModelBuilder()
            let x = b.input([h, w, c], type, zero: zero)
            let y = b.activation("y", [outH, outW, c], type, zero: zero)
            b.op(.zeroPadding2D, [x], y, ["padding": [Int32(pad.0), Int32(pad.1), Int32(pad.2), Int32(pad.3)]])
            let batch = [1, 2, 3][trial % 3]
            try assertMatches(b.finished(outputs: [y]), edgyInput(&rng, batch * h * w * c, type, zero: zero), batch: batch,
                              "zero padding trial \(trial) \(pad) on \(h)x\(w)x\(c)")
        }
    }

    /// `FastLookupTable` against the reference: 2- to 8-bit inputs (every table entry reachable), odd
    /// element counts, batches of 1-5 split over the threads.
    func testLookupTableMatchesReference() throws {
        var rng = TestRNG(seed: 73)
        for trial in 0..<12 {
            let bits = 2 + trial % 7, inType = trial % 2 == 0 ? QType.signed(bits)! : QType.unsigned(bits)!
            let shape = [rng.int(1...5), rng.int(1...7), rng.int(1...19)], outType = [u8, s8][trial % 2]
            var b = ModelBuilder()
            let x = b.input(shape, inType, zero: rng.int32(inType.minValue...inType.maxValue))
            let entries = (0..<(1 << bits)).map { _ in rng.int32(outType.minValue...outType.maxValue) }
            let y = b.activation("y", shape, outType, zero: rng.int32(outType.minValue...outType.maxValue))
            b.op(.lookupTable, [x, b.constant("t", [1 << bits], outType, entries)], y, [:])
            let batch = [1, 2, 5][trial % 3]
            try assertMatches(b.finished(outputs: [y]), rng.values(batch * shape.reduce(1, *), inType), batch: batch,
                              "lookup table trial \(trial) \(inType) -> \(outType) on \(shape)")
        }
    }

    /// The average pool's division by multiplying is exact for every window size up to 2^13 pixels at
    /// the edges of each quotient and of the range (`a < 2^30`), and on random numerators.
    func testAveragePoolDivisionMagicIsExact() {
        var rng = TestRNG(seed: 41)
        for n in Array(1...300) + [511, 512, 513, 1000, 4095, 4096, 4097, 8191, 8192] {
            let (magic, shift) = FastPool2D.divisionMagic(n)
            let top = (1 << 30) - 1
            var numerators = [0, 1, n - 1, n, n + 1, top, top - 1, top - top % n, top - top % n - 1]
            for _ in 0..<200 {
                let k = rng.int(0...(top / n))
                numerators += [k * n, Swift.max(0, k * n - 1), Swift.min(top, k * n + n - 1)]
            }
            for a in numerators where a >= 0 && a <= top {
                XCTAssertEqual(Int((UInt64(a) * magic) >> shift), a / n, "\(a) / \(n)")
            }
        }
    }

    /// An 8-bit input and a 91x90 window (8,190 pixels, just under the narrow path's 2^13) at the type's
    /// extremes: the int32 sums and the multiply-shift division against the reference's int64 sums.
    func testLargeAveragePoolWindowAtExtremesMatchesReference() throws {
        var rng = TestRNG(seed: 43)
        var b = ModelBuilder()
        let x = b.input([93, 92, 2], s8, zero: -7)
        let y = b.activation("y", [3, 3, 2], s8, zero: -7)
        b.op(.averagePool2D, [x], y, ["kernel": [91, 90], "stride": [1, 1], "padding": [0, 0, 0, 0], "clamp": [-128, 127]])
        let count = 2 * 93 * 92 * 2
        let input = (0..<count).map { i in i % 7 == 0 ? rng.int32(-128...127) : (i / 2 % 2 == 0 ? Int32(127) : -128) }
        try assertMatches(b.finished(outputs: [y]), input, batch: 2, "91x90 average pool over int8 extremes")
        try assertMatches(b.finished(outputs: [y]), [Int32](repeating: -128, count: count), batch: 2, "91x90 average pool of -128")
        try assertMatches(b.finished(outputs: [y]), [Int32](repeating: 127, count: count), batch: 2, "91x90 average pool of 127")
    }

    /// Max / average pools (windows partly or wholly in the padding, narrow clamps) and global pools.
    func testPoolsMatchReference() throws {
        var rng = TestRNG(seed: 29)
        for trial in 0..<40 {
            let type = [u8, s8, s32][trial % 3]
            let kh = rng.int(1...3), kw = rng.int(1...3), stride = (rng.int(1...3), rng.int(1...2))
            let pad = (rng.int(0...kh), rng.int(0...1), rng.int(0...kw), rng.int(0...1))
            let h = rng.int(kh...7), w = rng.int(kw...7), c = rng.int(1...19)
            let outH = (h + pad.0 + pad.1 - kh) / stride.0 + 1, outW = (w + pad.2 + pad.3 - kw) / stride.1 + 1
            let zero = type == s32 ? rng.int32(-100...100) : rng.int32(type.minValue...type.maxValue)
            var b = ModelBuilder()
            let x = b.input([h, w, c], type, zero: zero)
            let pooled = b.activation("p", [outH, outW, c], type, zero: zero)
            let isMax = trial % 2 == 0
            var attributes = ["kernel": [Int32(kh), Int32(kw)], "stride": [Int32(stride.0), Int32(stride.1)],
                              "padding": [Int32(pad.0), Int32(pad.1), Int32(pad.2), Int32(pad.3)]]
            if !isMax { attributes["clamp"] = clamp(&rng, type) }
            b.op(isMax ? .maxPool2D : .averagePool2D, [x], pooled, attributes)
            let global = b.activation("g", [c], type, zero: zero)
            let globalMax = rng.bool()
            b.op(globalMax ? .globalMaxPool2D : .globalAveragePool2D, [pooled], global, globalMax ? [:] : ["clamp": clamp(&rng, type)])
            let batch = [1, 2, 5][trial % 3]
            try assertMatches(b.finished(outputs: [global]), edgyInput(&rng, batch * h * w * c, type, zero: zero), batch: batch,
                              "pool trial \(trial) \(isMax ? "max" : "avg") \(kh)x\(kw) stride \(stride) pad \(pad) on \(h)x\(w)x\(c) \(type)")
        }
    }

    /// The global pools' vector paths: 16-channel blocks and a tail, int32 sums (8-bit inputs) and int64
    /// sums (int32 inputs at their extremes, whose int32 sums would wrap), maxima.
    func testGlobalPoolVectorPathsMatchReference() throws {
        var rng = TestRNG(seed: 71)
        for (trial, (type, h, w, c)) in [(u8, 7, 7, 32), (s8, 3, 5, 35), (s32, 4, 4, 19), (u8, 64, 64, 16),
                                          (s8, 9, 9, 33), (s32, 2, 3, 48)].enumerated() {
            for kind in [QOpKind.globalAveragePool2D, .globalMaxPool2D] {
                let zero = type == s32 ? rng.int32(-100...100) : rng.int32(type.minValue...type.maxValue)
                var b = ModelBuilder()
                let x = b.input([h, w, c], type, zero: zero)
                let y = b.activation("g", [c], type, zero: zero)
                b.op(kind, [x], y, kind == .globalMaxPool2D ? [:] : ["clamp": [Int32(type.minValue), Int32(clamping: type.maxValue)]])
                let batch = 1 + trial % 2
                // Half the samples at one extreme, so that a sum that wraps in int32 shows.
                var input = edgyInput(&rng, batch * h * w * c, type, zero: zero)
                let edge = trial % 2 == 0 ? Int32(type.minValue) : Int32(clamping: type.maxValue)
                for i in 0..<(h * w * c) where i % 5 != 0 { input[i] = edge }
                try assertMatches(b.finished(outputs: [y]), input, batch: batch, "\(kind) on \(h)x\(w)x\(c) \(type)")
            }
        }
    }
}
