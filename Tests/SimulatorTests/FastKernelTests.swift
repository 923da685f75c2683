import CKernels
import FixedPoint
import QBin
import XCTest
@testable import Simulator

/// The fast kernels (int8 GEMM for conv2D / dense, vectorised depthwise) against the scalar reference,
/// bit for bit, on random models over many shapes, weight widths, both profiles and 1 and 2 threads.
final class FastKernelTests: XCTestCase {
    /// Random per-channel multipliers in [2^30, 2^31) with shifts that keep outputs mostly in range.
    private func requant(_ rng: inout TestRNG, channels: Int, shifts: ClosedRange<Int>, type: QType) -> [String: [Int32]] {
        let perChannel = rng.bool()
        let n = perChannel ? channels : 1
        let lo = Int32(type.minValue), hi = Int32(type.maxValue)
        let narrow = rng.bool()
        return ["multiplier": (0..<n).map { _ in rng.int32((1 << 30)...((1 << 31) - 1)) },
                "shift": (0..<n).map { _ in Int32(rng.int(shifts)) },
                "clamp": narrow ? [lo + (hi - lo) / 4, hi - (hi - lo) / 8] : [lo, hi]]
    }

    func testConv2DMatchesReference() throws {
        var rng = TestRNG(seed: 7)
        for trial in 0..<48 {
            // Grouped convs of up to 16 output channels run block-diagonal (`FastConv2D.blockDiagonal`), wider ones per group.
            let groups = trial % 8 == 7 ? 3 : trial % 4 == 3 ? 2 : 1
            let cinG = [1, 3, 4, 8, 5][rng.int(0...4)], coutG = [1, 4, 16, 17, 5][rng.int(0...4)]
            let kh = rng.int(1...3), kw = rng.int(1...3)
            let stride = (rng.int(1...2), rng.int(1...2)), dilation = (rng.int(1...2), rng.int(1...2))
            let pad = (rng.int(0...2), rng.int(0...1), rng.int(0...2), rng.int(0...1))
            let h = rng.int(((kh - 1) * dilation.0 + 1)...8), w = rng.int(((kw - 1) * dilation.1 + 1)...8)
            let outH = (h + pad.0 + pad.1 - ((kh - 1) * dilation.0 + 1)) / stride.0 + 1
            let outW = (w + pad.2 + pad.3 - ((kw - 1) * dilation.1 + 1)) / stride.1 + 1
            let bits = 2 + trial % 7
            let inType = [u8, s8, QType.unsigned(4)!][trial % 3]
            let outType = rng.bool() ? u8 : s8
            let wType = QType.signed(bits)!
            let cin = cinG * groups, cout = coutG * groups
            var b = ModelBuilder()
            let zin = rng.int32(inType.minValue...inType.maxValue)
            let x = b.input([h, w, cin], inType, zero: zin)
            let weights = b.constant("w", [cout, kh, kw, cinG], wType, rng.values(cout * kh * kw * cinG, wType), perChannel: true)
            var inputs = [x, weights]
            if rng.bool() { inputs.append(b.constant("b", [cout], .int32, (0..<cout).map { _ in rng.int32(-5000...5000) })) }
            let y = b.activation("y", [outH, outW, cout], outType, zero: rng.int32(outType.minValue...outType.maxValue))
            b.op(.conv2D, inputs, y, window(kernel: (kh, kw), stride: stride, dilation: dilation, padding: pad)
                .merging(["groups": [Int32(groups)]]).merging(requant(&rng, channels: cout, shifts: -10...(-4), type: outType)))
            let model = b.finished(outputs: [y])
            for profile in RoundingProfile.allCases {
                try assertFastMatchesReference(model, profile: profile, batch: trial % 2 == 0 ? 1 : 3, seed: UInt64(trial),
                                               context: "conv trial \(trial) \(profile) \(model.ops[0].attributes) in \(inType) w \(wType)")
            }
        }
    }

    /// A batch larger than `maxBatch`, split by samples over two threads in passes of 1...32 samples (and
    /// per op over rows when observed), gives the reference's outputs in the reference's order.
    func testSampleSplitsGiveTheReferenceOutputs() throws {
        var rng = TestRNG(seed: 31)
        var b = ModelBuilder()
        let x = b.input([6, 5, 2], u8, zero: 3)
        let h = b.activation("h", [4, 3, 8], u8, zero: 0)
        b.op(.conv2D, [x, b.constant("w", [8, 3, 3, 2], s8, rng.values(144, s8), perChannel: true)], h,
             window(kernel: (3, 3)).merging(["groups": [1]]).merging(requant(&rng, channels: 8, shifts: -9...(-7), type: u8)))
        let y = b.activation("y", [4, 3, 8], s8, zero: -5)
        b.op(.channelAffine, [h, b.constant("a", [8], s8, rng.values(8, s8), perChannel: true),
                              b.constant("b", [8], .int32, (0..<8).map { _ in rng.int32(-3000...3000) })], y,
             requant(&rng, channels: 8, shifts: -8...(-6), type: s8))
        let model = b.finished(outputs: [y])
        let batch = 37
        let input = rng.values(batch * 60, u8)
        let expected = try runReference(model, input, batch: batch)
        for maxBatch in [5, 32] {
            let fast = try IntegerSimulator(model: model, rounding: .gemmlowp, maxBatch: maxBatch)
            for threads in [1, 2] {
                for samplesPerPass in [0, 1, 3, 8, 32] {  // 0 is taken as 1
                    fast.threads = threads
                    fast.samplesPerPass = samplesPerPass
                    XCTAssertEqual(fast.runQuantized(input: input, batch: batch, observe: nil)[0], expected,
                                   "maxBatch \(maxBatch), threads \(threads), \(samplesPerPass) samples per pass")
                }
                var observed: [Int32] = []
                _ = fast.runQuantized(input: input, batch: batch) { op, _, values in if op == 1 { observed += values } }
                XCTAssertEqual(observed, expected, "observed, maxBatch \(maxBatch), threads \(threads)")
            }
        }
    }

    /// `FastConv2DTranspose` against the reference scatter: strides, dilations, padding that drops edge
    /// taps, output sizes larger than the taps reach; the GEMM path over one and several blocks of input
    /// pixels (more than `GEMMScratch.blockRows`), and the direct scatter for int32 inputs.
    func testConv2DTransposeMatchesReference() throws {
        var rng = TestRNG(seed: 17)
        for trial in 0..<32 {
            let cin = rng.int(1...9), cout = rng.int(1...19)
            let kh = rng.int(1...3), kw = rng.int(1...3)
            let stride = (rng.int(1...2), rng.int(1...2)), dilation = (rng.int(1...2), rng.int(1...2))
            let pad = (rng.int(0...1), 0, rng.int(0...1), 0)
            let large = trial % 8 == 7
            let h = large ? rng.int(9...12) : rng.int(1...5), w = large ? rng.int(8...12) : rng.int(1...5)
            let outH = (h - 1) * stride.0 + (kh - 1) * dilation.0 + 1 - pad.0 + rng.int(0...1)
            let outW = (w - 1) * stride.1 + (kw - 1) * dilation.1 + 1 - pad.2 + rng.int(0...1)
            // Trial 6 of 8 takes the scatter path with i32 weights of small values (no i32 input: its
            // accumulator bound, format section 5.3, cannot fit int32).
            let inType = [u8, s8, QType.unsigned(4)!][trial % 3], outType = rng.bool() ? u8 : s8
            let wType = trial % 8 == 6 ? QType.int32 : QType.signed(2 + trial % 7)!
            var b = ModelBuilder()
            let x = b.input([h, w, cin], inType, zero: inType == .int32 ? rng.int32(-1000...1000) : rng.int32(inType.minValue...inType.maxValue))
            let count = cout * kh * kw * cin
            let weights = wType == .int32 ? (0..<count).map { _ in rng.int32(-4096...4096) } : rng.values(count, wType)
            var inputs = [x, b.constant("w", [cout, kh, kw, cin], wType, weights, perChannel: true)]
            if rng.bool() { inputs.append(b.constant("b", [cout], .int32, (0..<cout).map { _ in rng.int32(-5000...5000) })) }
            let y = b.activation("y", [outH, outW, cout], outType, zero: rng.int32(outType.minValue...outType.maxValue))
            b.op(.conv2DTranspose, inputs, y, window(kernel: (kh, kw), stride: stride, dilation: dilation, padding: pad)
                .merging(["output_size": [Int32(outH), Int32(outW)]]).merging(requant(&rng, channels: cout, shifts: -10...(-4), type: outType)))
            let model = b.finished(outputs: [y])
            for profile in RoundingProfile.allCases {
                try assertFastMatchesReference(model, profile: profile, batch: trial % 2 == 0 ? 1 : 3, seed: UInt64(trial),
                                               context: "transposed conv trial \(trial) \(profile) \(model.ops[0].attributes) in \(inType) w \(wType)")
            }
        }
    }

    func testDenseMatchesReference() throws {
        var rng = TestRNG(seed: 11)
        for trial in 0..<30 {
            let inF = rng.int(1...70), outF = rng.int(1...40)
            let bits = 2 + trial % 7
            let inType = trial % 2 == 0 ? u8 : s8
            let wType = QType.signed(bits)!
            var b = ModelBuilder()
            let rows = trial % 5 == 0 ? [3, inF] : [inF]
            let x = b.input(rows, inType, zero: rng.int32(inType.minValue...inType.maxValue))
            let weights = b.constant("w", [outF, inF], wType, rng.values(outF * inF, wType), perChannel: rng.bool())
            let y = b.activation("y", Array(rows.dropLast()) + [outF], u8, zero: rng.int32(0...255))
            b.op(.dense, [x, weights, b.constant("b", [outF], .int32, (0..<outF).map { _ in rng.int32(-20000...20000) })], y,
                 requant(&rng, channels: outF, shifts: -9...(-3), type: u8))
            let model = b.finished(outputs: [y])
            for profile in RoundingProfile.allCases {
                try assertFastMatchesReference(model, profile: profile, batch: trial % 3 == 0 ? 1 : 3, seed: UInt64(trial),
                                               context: "dense trial \(trial) \(profile) \(inF)->\(outF) w\(bits)")
            }
        }
    }

    func testDepthwiseMatchesReference() throws {
        var rng = TestRNG(seed: 13)
        for trial in 0..<24 {
            let cin = rng.int(1...20), dm = rng.int(1...3)
            let kh = rng.int(1...3), kw = rng.int(1...3)
            let stride = (rng.int(1...2), rng.int(1...2)), dilation = (rng.int(1...2), rng.int(1...2))
            let pad = (rng.int(0...1), rng.int(0...1), rng.int(0...1), rng.int(0...1))
            let h = rng.int(((kh - 1) * dilation.0 + 1)...7), w = rng.int(((kw - 1) * dilation.1 + 1)...7)
            let outH = (h + pad.0 + pad.1 - ((kh - 1) * dilation.0 + 1)) / stride.0 + 1
            let outW = (w + pad.2 + pad.3 - ((kw - 1) * dilation.1 + 1)) / stride.1 + 1
            let wType = QType.signed(2 + trial % 7)!
            let cout = cin * dm
            var b = ModelBuilder()
            let x = b.input([h, w, cin], u8, zero: rng.int32(0...255))
            let y = b.activation("y", [outH, outW, cout], s8, zero: rng.int32(-128...127))
            b.op(.depthwiseConv2D, [x, b.constant("w", [cout, kh, kw], wType, rng.values(cout * kh * kw, wType), perChannel: true),
                                    b.constant("b", [cout], .int32, (0..<cout).map { _ in rng.int32(-3000...3000) })], y,
                 window(kernel: (kh, kw), stride: stride, dilation: dilation, padding: pad)
                    .merging(["depth_multiplier": [Int32(dm)]]).merging(requant(&rng, channels: cout, shifts: -8...(-2), type: s8)))
            let model = b.finished(outputs: [y])
            for profile in RoundingProfile.allCases {
                try assertFastMatchesReference(model, profile: profile, batch: trial % 2 == 0 ? 1 : 3, seed: UInt64(trial),
                                               context: "depthwise trial \(trial) \(profile)")
            }
        }
    }

    /// conv2D -> maxPool2D on the unobserved path (`ConvPoolFusion`): the conv's sums pooled, then
    /// requantized. Fused where the pool is the conv's only reader and nothing can wrap, separate where
    /// the conv's output is also a graph output, a window is empty, or a left shift could wrap; the
    /// outputs are the reference's either way (observed per op and plain, 1 and 2 threads).
    func testConvThenMaxPoolMatchesReferenceFusedOrNot() throws {
        var rng = TestRNG(seed: 71)
        for trial in 0..<24 {
            let cin = [1, 3, 8, 16][trial % 4], cout = [16, 8, 20, 32, 4][trial % 5]
            let kh = rng.int(1...3), kw = rng.int(1...3), stride = (rng.int(1...2), rng.int(1...2))
            let pad = (rng.int(0...1), rng.int(0...1), rng.int(0...1), rng.int(0...1))
            let h = rng.int(kh...9), w = rng.int(kw...9)
            let outH = (h + pad.0 + pad.1 - kh) / stride.0 + 1, outW = (w + pad.2 + pad.3 - kw) / stride.1 + 1
            let pool = (rng.int(1...Swift.min(3, outH)), rng.int(1...Swift.min(3, outW))), poolStride = (rng.int(1...2), rng.int(1...2))
            // Trial % 6 == 5: padding of a whole window (an empty window, not fused).
            let poolPad = trial % 6 == 5 ? (pool.0, 0, 0, 0) : (rng.int(0...(pool.0 - 1)), 0, rng.int(0...(pool.1 - 1)), 0)
            let pooledH = (outH + poolPad.0 + poolPad.1 - pool.0) / poolStride.0 + 1
            let pooledW = (outW + poolPad.2 + poolPad.3 - pool.1) / poolStride.1 + 1
            let inType = [u8, s8][trial % 2], outType = rng.bool() ? u8 : s8
            var b = ModelBuilder()
            let x = b.input([h, w, cin], inType, zero: rng.int32(inType.minValue...inType.maxValue))
            let weights = b.constant("w", [cout, kh, kw, cin], s8, rng.values(cout * kh * kw * cin, s8), perChannel: true)
            let bias = b.constant("b", [cout], .int32, (0..<cout).map { _ in rng.int32(-5000...5000) })
            let y = b.activation("y", [outH, outW, cout], outType, zero: rng.int32(outType.minValue...outType.maxValue))
            // Trial % 6 == 4: a left shift of 24 (any sum of 255 * |w| >= 2^31 >> 24 could wrap: not fused).
            let shifts = trial % 6 == 4 ? 24...24 : -12...(-6)
            b.op(.conv2D, [x, weights, bias], y, window(kernel: (kh, kw), stride: stride, dilation: (1, 1), padding: pad)
                .merging(["groups": [1]]).merging(requant(&rng, channels: cout, shifts: shifts, type: outType)))
            let z = b.activation("z", [pooledH, pooledW, cout], outType, zero: b.model.tensors[y].zeroPoints[0])
            b.op(.maxPool2D, [y], z, ["kernel": [Int32(pool.0), Int32(pool.1)], "stride": [Int32(poolStride.0), Int32(poolStride.1)],
                                      "padding": [Int32(poolPad.0), Int32(poolPad.1), Int32(poolPad.2), Int32(poolPad.3)]])
            // Trial % 6 == 3: the conv's output is a graph output too (not fused).
            let model = b.finished(outputs: trial % 6 == 3 ? [z, y] : [z])
            let fused = try IntegerSimulator(model: model, rounding: .gemmlowp).unobservedLayers.contains { $0 is ConvSums }
            XCTAssertEqual(fused, trial % 6 < 3, "trial \(trial): fused \(fused)")
            for profile in RoundingProfile.allCases {
                try assertFastMatchesReference(model, profile: profile, batch: [1, 3, 9][trial % 3], seed: UInt64(trial),
                                               context: "conv -> max pool trial \(trial) \(profile)")
            }
        }
    }

    /// conv2D -> channelAffine -> maxPool2D on the unobserved path: the pool moved before the affine
    /// where every channel's table is non-decreasing (non-negative scales), and the conv's sums pooled;
    /// left in order where a scale is negative. The reference's outputs either way.
    func testConvAffineMaxPoolMatchesReferenceSwappedOrNot() throws {
        var rng = TestRNG(seed: 73)
        for trial in 0..<16 {
            let cin = [1, 3, 8][trial % 3], cout = [16, 8, 20, 32][trial % 4]
            let h = rng.int(3...8), w = rng.int(3...8), outH = h - 2, outW = w - 2
            let pool = (rng.int(1...Swift.min(2, outH)), rng.int(1...Swift.min(2, outW)))
            let pooledH = (outH - pool.0) / pool.0 + 1, pooledW = (outW - pool.1) / pool.1 + 1
            var b = ModelBuilder()
            let x = b.input([h, w, cin], u8, zero: rng.int32(0...255))
            let y = b.activation("y", [outH, outW, cout], u8, zero: rng.int32(0...255))
            b.op(.conv2D, [x, b.constant("w", [cout, 3, 3, cin], s8, rng.values(cout * 9 * cin, s8), perChannel: true),
                           b.constant("b", [cout], .int32, (0..<cout).map { _ in rng.int32(-5000...5000) })], y,
                 window(kernel: (3, 3)).merging(["groups": [1]]).merging(requant(&rng, channels: cout, shifts: -12...(-6), type: u8)))
            let monotone = trial % 4 != 3
            let scales: [Int32] = (0..<cout).map { c in monotone ? rng.int32(0...127) : (c % 3 == 0 ? -100 : rng.int32(-128...127)) }
            let a = b.activation("a", [outH, outW, cout], s8, zero: rng.int32(-128...127))
            b.op(.channelAffine, [y, b.constant("s", [cout], s8, scales, perChannel: true),
                                  b.constant("o", [cout], .int32, (0..<cout).map { _ in rng.int32(-3000...3000) })], a,
                 requant(&rng, channels: cout, shifts: -8...(-6), type: s8))
            let z = b.activation("z", [pooledH, pooledW, cout], s8, zero: b.model.tensors[a].zeroPoints[0])
            b.op(.maxPool2D, [a], z, ["kernel": [Int32(pool.0), Int32(pool.1)], "stride": [Int32(pool.0), Int32(pool.1)],
                                      "padding": [0, 0, 0, 0]])
            let model = b.finished(outputs: [z])
            let layers = try IntegerSimulator(model: model, rounding: .gemmlowp).unobservedLayers
            if monotone {
                XCTAssertTrue(layers[1] is PoolBeforeAffine && layers[2] is AffineAfterPool && layers[0] is ConvSums, "trial \(trial)")
            } else {
                XCTAssertFalse(layers[1] is PoolBeforeAffine, "trial \(trial): a negative scale")
            }
            for profile in RoundingProfile.allCases {
                try assertFastMatchesReference(model, profile: profile, batch: [1, 4, 7][trial % 3], seed: UInt64(trial),
                                               context: "conv -> affine -> max pool trial \(trial) \(profile)")
            }
        }
    }

    /// Padded 3x3 dilation-1 depthwise convs, which run on a padded copy of each sample: channel counts
    /// of the 8-channel paired form, whole and partial 16-lane blocks; strides 1 and 2; symmetric,
    /// one-sided and no padding; batches whose rows cross samples on one and two threads.
    func testPaddedThreeByThreeDepthwiseMatchesReference() throws {
        var rng = TestRNG(seed: 61)
        let cases: [(c: Int, stride: (Int, Int), pad: (Int, Int, Int, Int), h: Int, w: Int)] = [
            (8, (1, 1), (1, 1, 1, 1), 6, 7), (16, (1, 1), (1, 1, 1, 1), 5, 5), (20, (2, 2), (0, 1, 0, 1), 7, 6),
            (1, (1, 2), (1, 0, 2, 1), 4, 9), (33, (2, 1), (1, 1, 0, 0), 6, 5), (8, (2, 2), (1, 1, 1, 1), 8, 8),
            (16, (1, 1), (0, 0, 1, 0), 3, 3), (5, (1, 1), (2, 2, 2, 2), 3, 4),
        ]
        for (trial, t) in cases.enumerated() {
            let outH = (t.h + t.pad.0 + t.pad.1 - 3) / t.stride.0 + 1, outW = (t.w + t.pad.2 + t.pad.3 - 3) / t.stride.1 + 1
            let wType = QType.signed(8)!
            var b = ModelBuilder()
            let x = b.input([t.h, t.w, t.c], u8, zero: rng.int32(0...255))
            let y = b.activation("y", [outH, outW, t.c], s8, zero: rng.int32(-128...127))
            b.op(.depthwiseConv2D, [x, b.constant("w", [t.c, 3, 3], wType, rng.values(t.c * 9, wType), perChannel: true),
                                    b.constant("b", [t.c], .int32, (0..<t.c).map { _ in rng.int32(-3000...3000) })], y,
                 window(kernel: (3, 3), stride: t.stride, dilation: (1, 1), padding: t.pad)
                    .merging(["depth_multiplier": [1]]).merging(requant(&rng, channels: t.c, shifts: -8...(-2), type: s8)))
            let model = b.finished(outputs: [y])
            for profile in RoundingProfile.allCases {
                try assertFastMatchesReference(model, profile: profile, batch: [1, 3, 5][trial % 3], seed: UInt64(100 + trial),
                                               context: "padded 3x3 depthwise case \(trial) \(profile)")
            }
        }
    }

    /// 3x3 dilation-1 depthwise convs with depth multiplier 2-3, which run their expanded input
    /// (`x - zin`, zero point 0) through the multiplier-1 conv and so take the pair kernels where the
    /// level has them: built and run at every level the CPU runs, u8 and s8 inputs with zero points at
    /// the type's ends, 8, 16, 48 and partial-block channel counts, strides 1 and 2, padding or none.
    func testThreeByThreeDepthwiseWithMultiplierMatchesReferenceAtEveryLevel() throws {
        let before = qc_isa_active()
        defer { _ = qc_isa_select(before) }
        let cases: [(cin: Int, dm: Int, stride: (Int, Int), pad: (Int, Int, Int, Int), h: Int, w: Int)] = [
            (4, 2, (1, 1), (1, 1, 1, 1), 6, 7), (8, 2, (1, 1), (1, 1, 1, 1), 5, 5), (24, 2, (2, 2), (0, 1, 0, 1), 7, 6),
            (5, 3, (1, 2), (1, 0, 2, 1), 4, 9), (3, 3, (2, 1), (0, 0, 0, 0), 6, 5), (1, 2, (1, 1), (2, 2, 2, 2), 3, 4),
        ]
        var checked = 0
        for level in 0..<Int32(QC_ISA_COUNT.rawValue) where qc_isa_cpu_supports(level) != 0 {
            XCTAssertEqual(qc_isa_select(level), 0)
            var rng = TestRNG(seed: 67)
            for (trial, t) in cases.enumerated() {
                let cout = t.cin * t.dm, wType = QType.signed(8)!, inType = trial % 2 == 0 ? u8 : s8
                let zin = [Int32(inType.minValue), Int32(inType.maxValue), rng.int32(inType.minValue...inType.maxValue)][trial % 3]
                let outH = (t.h + t.pad.0 + t.pad.1 - 3) / t.stride.0 + 1, outW = (t.w + t.pad.2 + t.pad.3 - 3) / t.stride.1 + 1
                var b = ModelBuilder()
                let x = b.input([t.h, t.w, t.cin], inType, zero: zin)
                let y = b.activation("y", [outH, outW, cout], s8, zero: rng.int32(-128...127))
                b.op(.depthwiseConv2D, [x, b.constant("w", [cout, 3, 3], wType, rng.values(cout * 9, wType), perChannel: true),
                                        b.constant("b", [cout], .int32, (0..<cout).map { _ in rng.int32(-3000...3000) })], y,
                     window(kernel: (3, 3), stride: t.stride, dilation: (1, 1), padding: t.pad)
                        .merging(["depth_multiplier": [Int32(t.dm)]]).merging(requant(&rng, channels: cout, shifts: -8...(-2), type: s8)))
                let model = b.finished(outputs: [y])
                for profile in RoundingProfile.allCases {
                    try assertFastMatchesReference(model, profile: profile, batch: [1, 3][trial % 2], seed: UInt64(200 + trial),
                                                   context: "\(String(cString: qc_isa_name(level))) 3x3 depthwise dm \(t.dm) case \(trial) \(profile)")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 0)
    }

    /// A simulator built at the best level keeps giving the reference's integers after the active level
    /// changes to one without the 3x3 depthwise pair kernels (they are chosen when the layer is built;
    /// the run checks the level again, else it would call an empty slot).
    func testDepthwiseBuiltAtOneLevelRunsAtEveryLevel() throws {
        var rng = TestRNG(seed: 97)
        let wType = QType.signed(8)!, c = 16
        var b = ModelBuilder()
        let x = b.input([6, 7, c], u8, zero: rng.int32(0...255))
        let y = b.activation("y", [6, 7, c], s8, zero: rng.int32(-128...127))
        b.op(.depthwiseConv2D, [x, b.constant("w", [c, 3, 3], wType, rng.values(c * 9, wType), perChannel: true),
                                b.constant("b", [c], .int32, (0..<c).map { _ in rng.int32(-3000...3000) })], y,
             window(kernel: (3, 3), stride: (1, 1), dilation: (1, 1), padding: (1, 1, 1, 1))
                .merging(["depth_multiplier": [1]]).merging(requant(&rng, channels: c, shifts: -8...(-2), type: s8)))
        let model = b.finished(outputs: [y])
        let input = rng.values(3 * model.tensors[model.inputs[0]].elementCount, u8)
        let expected = try IntegerSimulator(model: model, rounding: .gemmlowp, reference: true).runQuantized(input: input, batch: 3, observe: nil)
        let before = qc_isa_active()
        defer { _ = qc_isa_select(before) }
        let fast = try IntegerSimulator(model: model, rounding: .gemmlowp)
        for level in 0..<Int32(QC_ISA_COUNT.rawValue) where qc_kernels_for(level) != nil {
            XCTAssertEqual(qc_isa_select(level), 0)
            XCTAssertEqual(fast.runQuantized(input: input, batch: 3, observe: nil), expected, "level \(String(cString: qc_isa_name(level)))")
        }
    }

    /// Large enough for several row blocks, K blocks (K > 512) and both threads' chunks.
    /// The u8 path adds `vpmaddubsw` pair sums in int16 over runs of quads sized by the largest weight:
    /// all activations at 255 and every weight at the type's extreme put each run's sum at its bound.
    func testInt16AccumulationAtItsBoundMatchesReference() throws {
        for (bits, weight) in [(4, Int32(-8)), (4, 7), (3, -4), (2, -2), (7, -64), (7, 63)] {
            let wType = QType.signed(bits)!
            var b = ModelBuilder()
            let x = b.input([3, 3, 150], u8, zero: 0)
            let y = b.activation("y", [3, 3, 20], .int32, zero: 0)
            b.op(.conv2D, [x, b.constant("w", [20, 3, 3, 150], wType, [Int32](repeating: weight, count: 20 * 1350), perChannel: true)], y,
                 window(kernel: (3, 3), padding: (1, 1, 1, 1)).merging(["groups": [1]])
                    .merging(["multiplier": [1 << 30], "shift": [1], "clamp": [Int32.min, Int32.max]]))
            let model = b.finished(outputs: [y])
            let input = [Int32](repeating: 255, count: 2 * 1350)
            let expected = try runReference(model, input, batch: 2)
            XCTAssertEqual(expected[4 * 20], 255 * weight * 1350, "centre pixel: every tap inside")
            let fast = try IntegerSimulator(model: model, rounding: .gemmlowp)
            XCTAssertEqual(fast.runQuantized(input: input, batch: 2, observe: nil)[0], expected, "w\(bits) = \(weight)")
        }
    }

    func testLargeGEMMBlocksMatchReference() throws {
        var rng = TestRNG(seed: 17)
        for bits in [4, 8] {
            let wType = QType.signed(bits)!
            var b = ModelBuilder()
            let x = b.input([11, 10, 70], u8, zero: 128)
            let y = b.activation("y", [11, 10, 33], u8, zero: 3)
            b.op(.conv2D, [x, b.constant("w", [33, 3, 3, 70], wType, rng.values(33 * 630, wType), perChannel: true)], y,
                 window(kernel: (3, 3), padding: (1, 1, 1, 1)).merging(["groups": [1]])
                    .merging(requant(&rng, channels: 33, shifts: -12...(-8), type: u8)))
            try assertFastMatchesReference(b.finished(outputs: [y]), profile: .gemmlowp, batch: 2, seed: 5, context: "large w\(bits)")
        }
    }

    /// Convs whose taps are whole u8 quads (`inC / groups` a multiple of 4) run without im2col, through
    /// a row table (`FastConv2D.runIndirect`): padding on every side, strides, dilation, groups wider
    /// than one panel, K past one block (64 channels x 9 taps), blocks of 64 rows crossing samples,
    /// weights at the 7-bit bound, against the reference; and the path is checked to be the indirect one.
    func testIndirectConvMatchesReference() throws {
        var rng = TestRNG(seed: 59)
        for trial in 0..<16 {
            let groups = trial % 4 == 3 ? 2 : 1
            let cinG = [4, 8, 16, 64][trial % 4], coutG = [16, 5, 24, 17][(trial / 4) % 4]
            let kh = [3, 1, 3, 5][trial % 4], kw = [3, 1, 2, 3][(trial + 1) % 4]
            let stride = (rng.int(1...2), rng.int(1...2)), dilation = trial % 5 == 4 ? (2, 2) : (1, 1)
            let pad = (rng.int(0...2), rng.int(0...2), rng.int(0...2), rng.int(0...2))
            let h = rng.int(((kh - 1) * dilation.0 + 1)...9), w = rng.int(((kw - 1) * dilation.1 + 1)...9)
            let outH = (h + pad.0 + pad.1 - ((kh - 1) * dilation.0 + 1)) / stride.0 + 1
            let outW = (w + pad.2 + pad.3 - ((kw - 1) * dilation.1 + 1)) / stride.1 + 1
            let wType = QType.signed(trial % 2 == 0 ? 7 : 4)!
            let inType = trial % 3 == 0 ? s8 : u8
            let cin = cinG * groups, cout = coutG * groups
            var b = ModelBuilder()
            let x = b.input([h, w, cin], inType, zero: rng.int32(inType.minValue...inType.maxValue))
            let values: [Int32] = (0..<(cout * kh * kw * cinG)).map { i in i % 5 == 0 ? -64 : Int32(rng.int(Int(wType.minValue)...Int(wType.maxValue))) }
            let weights = b.constant("w", [cout, kh, kw, cinG], wType, wType.bits == 7 ? values : rng.values(values.count, wType), perChannel: true)
            let y = b.activation("y", [outH, outW, cout], u8, zero: rng.int32(0...255))
            b.op(.conv2D, [x, weights, b.constant("b", [cout], .int32, (0..<cout).map { _ in rng.int32(-5000...5000) })], y,
                 window(kernel: (kh, kw), stride: stride, dilation: dilation, padding: pad).merging(["groups": [Int32(groups)]])
                    .merging(requant(&rng, channels: cout, shifts: -13...(-6), type: u8)))
            let model = b.finished(outputs: [y])
            let simulator = try IntegerSimulator(model: model, rounding: .gemmlowp)
            let conv = try XCTUnwrap(simulator.layers.first as? FastConv2D, "trial \(trial): not the fast conv")
            if GEMMPath.exactQuadsActive || wType.bits == 7 {
                XCTAssertTrue(conv.runsIndirect, "trial \(trial): \(cinG) channels per group should run through the row table")
            }
            try assertFastMatchesReference(model, profile: [RoundingProfile.gemmlowp, .single][trial % 2], batch: [1, 5, 9][trial % 3],
                                           seed: UInt64(trial), context: "indirect conv trial \(trial) \(h)x\(w)x\(cin) -> \(cout) groups \(groups) w\(wType.bits)")
        }
    }

    /// ConvNeXt's 7x7 `same` depthwise conv (Conv2D with groups = C) on maps of 1 to 5 pixels, and the
    /// ungrouped form: every tap of the outer filter columns lies outside the input (this crashed im2col
    /// with a reversed range before the run's pixel range was clamped).
    func testKernelWiderThanInputMatchesReference() throws {
        var rng = TestRNG(seed: 43)
        for trial in 0..<8 {
            let side = [1, 2, 4, 5][trial % 4], channels = trial < 4 ? 16 : 3
            let groups = trial < 4 ? channels : 1
            var b = ModelBuilder()
            let x = b.input([side, side, channels], s8, zero: rng.int32(-128...127))
            let y = b.activation("y", [side, side, channels], s8, zero: rng.int32(-128...127))
            let cinG = channels / groups
            b.op(.conv2D, [x, b.constant("w", [channels, 7, 7, cinG], s8, rng.values(channels * 49 * cinG, s8), perChannel: true)], y,
                 window(kernel: (7, 7), padding: (3, 3, 3, 3)).merging(["groups": [Int32(groups)]])
                    .merging(requant(&rng, channels: channels, shifts: -12...(-6), type: s8)))
            let model = b.finished(outputs: [y])
            try assertFastMatchesReference(model, profile: .gemmlowp, batch: 2, seed: UInt64(trial),
                                           context: "7x7 conv on \(side)x\(side)x\(channels), \(groups) groups")
        }
    }

    /// Ungrouped convs with 8-bit weights (the int16 path) and no horizontal dilation, where im2col
    /// copies whole filter rows for interior pixels: strides, vertical dilation up to 3, padding on every
    /// side, 3 to 21 output channels, blocks of 64 rows crossing samples, against the reference.
    func testWholeFilterRowConvMatchesReference() throws {
        var rng = TestRNG(seed: 41)
        for trial in 0..<24 {
            let kh = rng.int(1...3), kw = [1, 2, 3][trial % 3]
            let cin = kw % 2 == 0 ? rng.int(1...9) : 2 * rng.int(1...8), cout = [3, 8, 16, 21][trial % 4]
            let stride = (rng.int(1...2), rng.int(1...2)), dilationH = trial % 5 == 0 ? 1 : rng.int(1...3)
            let pad = (rng.int(0...2), rng.int(0...2), rng.int(0...2), rng.int(0...2))
            let h = rng.int(((kh - 1) * dilationH + 1)...11), w = rng.int(kw...11)
            let outH = (h + pad.0 + pad.1 - ((kh - 1) * dilationH + 1)) / stride.0 + 1
            let outW = (w + pad.2 + pad.3 - kw) / stride.1 + 1
            let inType = trial % 2 == 0 ? u8 : s8
            var b = ModelBuilder()
            let x = b.input([h, w, cin], inType, zero: rng.int32(inType.minValue...inType.maxValue))
            let y = b.activation("y", [outH, outW, cout], u8, zero: rng.int32(0...255))
            b.op(.conv2D, [x, b.constant("w", [cout, kh, kw, cin], s8, rng.values(cout * kh * kw * cin, s8), perChannel: true),
                           b.constant("b", [cout], .int32, (0..<cout).map { _ in rng.int32(-5000...5000) })], y,
                 window(kernel: (kh, kw), stride: stride, dilation: (dilationH, 1), padding: pad).merging(["groups": [1]])
                    .merging(requant(&rng, channels: cout, shifts: -12...(-5), type: u8)))
            let model = b.finished(outputs: [y])
            for profile in RoundingProfile.allCases {
                try assertFastMatchesReference(model, profile: profile, batch: [1, 3, 7][trial % 3], seed: UInt64(trial),
                                               context: "whole-row conv trial \(trial) \(model.ops[0].attributes) \(h)x\(w)x\(cin) -> \(cout)")
            }
        }
    }

    /// 1x1 convs with stride 1 and no padding whose rows are a whole number of K steps read their
    /// converted input pixels in place (`FastConv2D.readsRowsInPlace`, no im2col): unsigned weights (always
    /// the int16 path) and signed 8-bit ones, 2 to 48 input channels, 3 to 40 output channels, maps of
    /// more than one 64-row block and rows ending 1-3 short of a block of 4, against the reference. A
    /// shape that is not in place (odd inC on the int16 path) rides along as a control.
    func testInPlaceOneByOneConvMatchesReference() throws {
        var rng = TestRNG(seed: 43)
        var inPlace = 0
        for trial in 0..<20 {
            let cin = [2, 4, 6, 8, 16, 32, 48, 3][trial % 8], cout = [3, 8, 16, 21, 40][trial % 5]
            let h = rng.int(1...11), w = rng.int(1...11)
            let inType = trial % 2 == 0 ? u8 : s8
            let wType = trial % 3 == 0 ? QType.unsigned(8)! : s8
            var b = ModelBuilder()
            let x = b.input([h, w, cin], inType, zero: rng.int32(inType.minValue...inType.maxValue))
            let y = b.activation("y", [h, w, cout], s8, zero: rng.int32(-128...127))
            b.op(.conv2D, [x, b.constant("w", [cout, 1, 1, cin], wType, rng.values(cout * cin, wType), perChannel: true),
                           b.constant("b", [cout], .int32, (0..<cout).map { _ in rng.int32(-5000...5000) })], y,
                 window(kernel: (1, 1)).merging(["groups": [1]]).merging(requant(&rng, channels: cout, shifts: -12...(-5), type: s8)))
            let model = b.finished(outputs: [y])
            if let conv = try IntegerSimulator(model: model, rounding: .gemmlowp).layers[0] as? FastConv2D, conv.path == .s16 {
                XCTAssertEqual(conv.readsRowsInPlace, cin % 2 == 0, "trial \(trial): \(cin) input channels")
                if conv.readsRowsInPlace { inPlace += 1 }
            }
            for profile in RoundingProfile.allCases {
                try assertFastMatchesReference(model, profile: profile, batch: [1, 3, 7][trial % 3], seed: UInt64(trial),
                                               context: "1x1 conv trial \(trial) \(h)x\(w)x\(cin) -> \(cout), weights \(wType)")
            }
        }
        XCTAssertGreaterThanOrEqual(inPlace, 6, "the unsigned-weight trials with even inC run in place on every level")
    }

    /// 8-bit weights (the int16 path) with at most 8 output channels per GEMM take the half-panel kernel
    /// (`qc_gemm_s16_4x8`): ungrouped, block-diagonal grouped and dense layers, K from 1 to past one K
    /// block (512), against the reference.
    func testHalfPanelGEMMMatchesReference() throws {
        var rng = TestRNG(seed: 37)
        for trial in 0..<16 {
            let groups = trial % 4 == 3 ? 2 : 1
            let coutG = [1, 3, 4, 8][trial % 4] / groups, cinG = trial == 15 ? 60 : rng.int(1...12)
            let kh = rng.int(1...3), kw = rng.int(1...3)
            let h = rng.int(kh...7), w = rng.int(kw...7)
            let cin = cinG * groups, cout = Swift.max(1, coutG) * groups
            var b = ModelBuilder()
            let inType = trial % 2 == 0 ? u8 : s8
            let x = b.input([h, w, cin], inType, zero: rng.int32(inType.minValue...inType.maxValue))
            let yZero = rng.int32(0...255), flat = (h - kh + 1) * (w - kw + 1) * cout
            let y = b.activation("y", [h - kh + 1, w - kw + 1, cout], u8, zero: yZero)
            let count = cout * kh * kw * cinG
            b.op(.conv2D, [x, b.constant("w", [cout, kh, kw, cinG], s8, rng.values(count, s8), perChannel: true),
                           b.constant("b", [cout], .int32, (0..<cout).map { _ in rng.int32(-5000...5000) })], y,
                 window(kernel: (kh, kw)).merging(["groups": [Int32(groups)]])
                    .merging(requant(&rng, channels: cout, shifts: -12...(-5), type: u8)))
            let z = b.activation("z", [cout], s8, zero: rng.int32(-128...127))
            let r = b.activation("r", [flat], u8, zero: yZero)
            b.op(.reshape, [y], r, ["shape": [Int32(flat)]])
            b.op(.dense, [r, b.constant("d", [cout, flat], s8, rng.values(cout * flat, s8), perChannel: true)], z,
                 requant(&rng, channels: cout, shifts: -12...(-5), type: s8))
            let model = b.finished(outputs: [z])
            for profile in RoundingProfile.allCases {
                try assertFastMatchesReference(model, profile: profile, batch: trial % 2 == 0 ? 1 : 5, seed: UInt64(trial),
                                               context: "half panel trial \(trial): \(cout) channels in \(groups) groups, K \(kh * kw * cinG)")
            }
        }
    }

    func testGEMMBenchRunsAndNamesTheActiveLevel() {
        let r = IntegerGEMMBench(m: 8, n: 16, k: 8, weightBits: 4, threads: 2, repetitions: 1)
        XCTAssertEqual(r.isa, String(cString: qc_isa_name(qc_isa_active())))
        XCTAssertGreaterThan(r.gops, 0)
    }
}
