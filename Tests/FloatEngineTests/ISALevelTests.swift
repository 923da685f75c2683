import CKernels
@testable import FloatEngine
import XCTest

/// The float kernels of every instruction-set level this CPU runs (`qc_kernels_for`): each level made
/// active in turn and the float-engine kernel tests run against FloatReference (Dense, Conv2D with
/// packed and in-place A, the narrow 6x8 / 6x4 tiles, depthwise), within the kernels' tolerance
/// (`assertKernelClose`): the levels differ only in float rounding (one FMA rounding at avx2, a
/// multiply and an add at scalar on x86-64).
final class FloatISALevelTests: XCTestCase {
    private var levels: [Int32] { (0..<Int32(QC_ISA_COUNT.rawValue)).filter { qc_kernels_for($0) != nil } }

    /// Runs `body` once per available level with that level active, then restores the active one.
    private func forEachLevel(_ body: (String) throws -> Void) rethrows {
        let before = qc_isa_active()
        defer { _ = qc_isa_select(before) }
        for level in levels {
            XCTAssertEqual(qc_isa_select(level), 0)
            try body(String(cString: qc_isa_name(level)))
        }
    }

    /// An instance of another test class whose test methods are called directly: their assertions
    /// are recorded against the running test.
    private func make<T: XCTestCase>(_ type: T.Type) -> T { T(name: "\(type)", testClosure: { _ in }) }

    func testEveryLevelsGEMMKernelsMatchReference() {
        forEachLevel { _ in
            make(KernelDenseTests.self).testDenseMatchesReference()
            make(KernelNarrowTileTests.self).testNarrowDenseMatchesReference()
            make(KernelNarrowTileTests.self).testNarrowConvMatchesReference()
            make(KernelConvTests.self).testConv2DMatchesReference()
            make(KernelConvPathTests.self).testInPlaceAndPackedOrdersMatchReference()
        }
    }

    func testEveryLevelsDepthwiseKernelMatchesReference() {
        forEachLevel { _ in make(KernelConvTests.self).testDepthwiseMatchesReference() }
    }

    /// `qc_pool_row_f32` at every level against the per-channel Swift loop, bit for bit.
    func testEveryLevelsPoolKernelMatchesAPerChannelLoop() {
        forEachLevel { _ in
            make(PoolingTests.self).testPoolingMatchesAPerChannelLoopBitForBit()
            make(PoolingTests.self).testMaxPoolTiesAndNaNMatchAPerChannelLoop()
            make(PoolingTests.self).testGlobalPoolingMatchesAPerPixelLoopBitForBit()
        }
    }

    /// `qc_activation_f32` (sigmoid, tanh, swish) at every level equals `VectorMath` bit for bit (NaN
    /// as any NaN): a
    /// sweep over [-100, 100] through both tanh branches and the exp clamps, the 0.625 boundary, signed
    /// zeros, infinities and NaN, lengths that leave partial vectors.
    func testEveryLevelsActivationKernelEqualsVectorMath() {
        var inputs: [Float] = stride(from: -100, through: 100, by: 0.0137).map { Float($0) }
        let boundary: Float = 0.625
        let special: [Float] = [0, -0.0, boundary, -boundary, boundary.nextDown, -boundary.nextDown, 87.33654, -87.33654,
                                88, 89, -90, .infinity, -.infinity, .nan, .leastNormalMagnitude, -.leastNonzeroMagnitude,
                                1e-20, 3]
        inputs += special
        let swift: [(SIMD8<Float>) -> SIMD8<Float>] = [VectorMath.sigmoid, VectorMath.tanh, { $0 * VectorMath.sigmoid($0) }]
        for (kind, reference) in swift.enumerated() {
            var expected = [Float](repeating: 0, count: inputs.count)
            for i in stride(from: 0, to: inputs.count, by: 8) {
                var v = SIMD8<Float>(repeating: 0)
                for lane in 0..<min(8, inputs.count - i) { v[lane] = inputs[i + lane] }
                let r = reference(v)
                for lane in 0..<min(8, inputs.count - i) { expected[i + lane] = r[lane] }
            }
            forEachLevel { name in
                for length in [inputs.count, 13, 1] {
                    var actual = Array(inputs.prefix(length))
                    qc_activation_f32(Int32(kind), &actual, length)
                    // NaN in, NaN out; its sign and payload are not part of the contract.
                    let wrong = (0..<length).filter {
                        actual[$0].bitPattern != expected[$0].bitPattern && !(actual[$0].isNaN && expected[$0].isNaN)
                    }
                    XCTAssertEqual(wrong.count, 0, "\(name) kind \(kind) length \(length): first at input "
                                   + "\(wrong.first.map { "\(inputs[$0]): \(actual[$0]) vs \(expected[$0])" } ?? "-")")
                }
            }
        }
    }

    /// `qc_add_f32` (a residual Add, then none, relu or relu6) at every level equals the Swift merge's
    /// expressions element by element, `a + b` then `max(y, 0)` and `min(_, 6)`, bit for bit (NaN as
    /// any NaN): signed zeros (-0 + -0 is -0, which relu makes +0), infinities, NaN, sums around 0 and
    /// 6, lengths that leave partial vectors, and the output written over either input.
    func testEveryLevelsAddKernelEqualsTheSwiftMerge() {
        var values = SeededValues(seed: 41)
        let special: [Float] = [0, -0.0, 6, -6, 5.9999995, 6.0000005, .infinity, -.infinity, .nan, 1e-38, -.leastNonzeroMagnitude, 3]
        let count = 301
        var a = values.array(count).map { $0 * 8 }, b = values.array(count).map { $0 * 8 }
        for (i, x) in special.enumerated() {
            for (j, y) in special.enumerated() { a[i * special.count + j] = x; b[i * special.count + j] = y }
        }
        let activations: [(Int32, (Float) -> Float)] = [
            (Int32(QC_TAIL_NONE), { $0 }), (Int32(QC_TAIL_RELU), { max($0, 0) }), (Int32(QC_TAIL_RELU6), { min(max($0, 0), 6) }),
        ]
        for (activation, reference) in activations {
            let expected = (0..<count).map { reference(a[$0] + b[$0]) }
            forEachLevel { name in
                for length in [count, 37, 13, 1] {
                    var separate = [Float](repeating: .nan, count: length)
                    var overA = Array(a.prefix(length)), overB = Array(b.prefix(length))
                    qc_add_f32(a, b, &separate, length, activation)
                    overA.withUnsafeMutableBufferPointer { qc_add_f32($0.baseAddress!, b, $0.baseAddress!, length, activation) }
                    overB.withUnsafeMutableBufferPointer { qc_add_f32(a, $0.baseAddress!, $0.baseAddress!, length, activation) }
                    for (form, actual) in [("separate", separate), ("over a", overA), ("over b", overB)] {
                        let wrong = (0..<length).filter {
                            actual[$0].bitPattern != expected[$0].bitPattern && !(actual[$0].isNaN && expected[$0].isNaN)
                        }
                        XCTAssertEqual(wrong.count, 0, "\(name) activation \(activation) length \(length) \(form): first at "
                                       + "\(wrong.first.map { "\(a[$0]) + \(b[$0]): \(actual[$0]) vs \(expected[$0])" } ?? "-")")
                    }
                }
            }
        }
    }

    /// The padded-image stem path and the indirect forms at every level, bit for bit against the
    /// packed form of the same level.
    func testEveryLevelsConvFormsGiveTheSameFloats() {
        forEachLevel { _ in make(KernelConvPathTests.self).testIndirectInPlaceAndPackedFormsGiveTheSameFloats() }
    }

    /// The micro-kernels directly, each level against the scalar one: packed and in-place A, bias or
    /// C as the start, with and without the clamp, every width.
    func testMicroKernelsAgreeWithScalar() {
        let scalar = qc_kernels_for(Int32(QC_ISA_SCALAR.rawValue))!.pointee
        var values = SeededValues(seed: 77)
        for level in levels {
            let table = qc_kernels_for(level)!.pointee
            for kc in [1, 5, 64, 256] {
                let packed = values.array(6 * kc), b = values.array(16 * kc), bias = values.array(16)
                // In place: A[r][k] = image[offsets[k] + r * step], a sparse read of a larger array.
                let step = 3, offsets = (0..<kc).map { 19 + 2 * $0 }
                let image = values.array(19 + 2 * kc + 5 * step + 1)
                let start = values.array(6 * 20)
                for (width, pick) in [(16, \qc_kernels.sgemm_6x16), (8, \qc_kernels.sgemm_6x8), (4, \qc_kernels.sgemm_6x4)] {
                    for inPlace in [false, true] {
                        for (useBias, clamps) in [(true, Int32(0)), (false, Int32(1))] {
                            var expected = start, actual = start
                            let a = inPlace ? image : packed
                            a.withUnsafeBufferPointer { a in
                                offsets.withUnsafeBufferPointer { o in
                                    let off = inPlace ? o.baseAddress : nil
                                    let bp: UnsafePointer<Float>? = nil
                                    bias.withUnsafeBufferPointer { bias in
                                        let biasPointer = useBias ? bias.baseAddress : bp
                                        scalar[keyPath: pick]!(kc, a.baseAddress, step, off, b, &expected, 20, biasPointer, clamps, -0.5, 0.5, nil)
                                        table[keyPath: pick]!(kc, a.baseAddress, step, off, b, &actual, 20, biasPointer, clamps, -0.5, 0.5, nil)
                                    }
                                }
                            }
                            for r in 0..<6 {
                                for n in 0..<20 where n >= width {
                                    XCTAssertEqual(actual[r * 20 + n], start[r * 20 + n], "6x\(width) wrote past its columns")
                                }
                            }
                            assertKernelClose(actual, expected, k: kc,
                                              "\(String(cString: qc_isa_name(level))) 6x\(width) kc \(kc) in place \(inPlace) bias \(useBias)")
                        }
                    }
                }
            }
        }
    }

    /// The avx512 level computes each output with the same chain of fused multiply-adds as the avx2
    /// level (f32_avx512.c), so the two agree bit for bit: the 6x16 micro-kernel and the depthwise row,
    /// over channel counts around the 16- and 64-lane blocks.
    func testAVX512FloatKernelsEqualAVX2() throws {
        guard let avx2 = qc_kernels_for(Int32(QC_ISA_AVX2.rawValue))?.pointee,
              let avx512 = qc_kernels_for(Int32(QC_ISA_AVX512.rawValue))?.pointee else {
            throw XCTSkip("this CPU does not run the avx512 level")
        }
        var values = SeededValues(seed: 91)
        for kc in [1, 7, 300] {
            let a = values.array(6 * kc), b = values.array(16 * kc), bias = values.array(16), start = values.array(6 * 16)
            for useBias in [false, true] {
                var x = start, y = start
                bias.withUnsafeBufferPointer { bias in
                    let bp = useBias ? bias.baseAddress : nil
                    avx2.sgemm_6x16!(kc, a, 1, nil, b, &x, 16, bp, 1, -3, 3, nil)
                    avx512.sgemm_6x16!(kc, a, 1, nil, b, &y, 16, bp, 1, -3, 3, nil)
                }
                XCTAssertEqual(x, y, "6x16 kc \(kc) bias \(useBias)")
            }
        }
        for channels in [1, 8, 15, 16, 17, 40, 64, 72, 130] {
            for (k, stride) in [(3, 1), (3, 2), (5, 1)] {
                let inH = 7, inW = 9, pad = k / 2
                let outW = (inW + 2 * pad - k) / stride + 1, outH = (inH + 2 * pad - k) / stride + 1
                let sample = values.array(inH * inW * channels), weights = values.array(k * k * channels)
                let bias = values.array(channels)
                for outY in 0..<outH {
                    var x = [Float](repeating: 9, count: outW * channels), y = x
                    avx2.depthwise_row_f32!(sample, inH, inW, channels, weights, bias, k, k, stride, stride, 1, 1, pad, pad, outY, outW, &x, 1, -2, 2)
                    avx512.depthwise_row_f32!(sample, inH, inW, channels, weights, bias, k, k, stride, stride, 1, 1, pad, pad, outY, outW, &y, 1, -2, 2)
                    XCTAssertEqual(x, y, "depthwise \(k)x\(k) stride \(stride) C \(channels) row \(outY)")
                }
            }
        }
    }

    /// `qc_depthwise_row_f32` at every FMA level (all but scalar, which rounds twice on x86-64), 3x3
    /// dilation 1, bit for bit against one fused multiply-add per tap from the bias in (ky, kx) order,
    /// the taps outside the image skipped (written out here, `addingProduct` per tap). Rows 1-15 pixels
    /// wide and 1-5 high, strides 1-3, paddings 0-2 (TF-same stride 2 too), 8-40 channels (the 8-channel
    /// blocks and a scalar tail), with and without the clamp: at avx2 the interior runs of six (stride 1)
    /// and four pixels, the pixels left over one at a time, the border pixels and rows, and the
    /// channels the 3x3 rows leave to the generic pixel loop.
    func testDepthwise3x3RowsEqualOneFMAPerTap() {
        var values = SeededValues(seed: 161)
        let fmaLevels = levels.filter { String(cString: qc_isa_name($0)) != "scalar" }
        guard !fmaLevels.isEmpty else { return }
        let paddings: [(top: Int, left: Int, bottom: Int, right: Int)] = [(0, 0, 0, 0), (1, 1, 1, 1), (0, 0, 1, 1), (2, 2, 2, 2), (1, 2, 0, 1)]
        for channels in [8, 13, 16, 40] {
            for (inH, inW) in [(1, 1), (2, 3), (3, 4), (5, 5), (4, 6), (3, 7), (5, 8), (3, 11), (4, 13), (2, 15)] {
                let sample = values.array(inH * inW * channels, scale: 2), weights = values.array(9 * channels)
                let bias = values.array(channels)
                for stride in 1...3 {
                    for pad in paddings {
                        let outH = (inH + pad.top + pad.bottom - 3) / stride + 1, outW = (inW + pad.left + pad.right - 3) / stride + 1
                        guard inH + pad.top + pad.bottom >= 3, inW + pad.left + pad.right >= 3 else { continue }
                        for clamps in [false, true] {
                            let lo: Float = -0.75, hi: Float = 0.75
                            for outY in 0..<outH {
                                var expected = [Float](repeating: 0, count: outW * channels)
                                for ox in 0..<outW {
                                    for c in 0..<channels {
                                        var acc = bias[c]
                                        for ky in 0..<3 {
                                            for kx in 0..<3 {
                                                let y = outY * stride - pad.top + ky, x = ox * stride - pad.left + kx
                                                guard y >= 0, y < inH, x >= 0, x < inW else { continue }
                                                acc = acc.addingProduct(sample[(y * inW + x) * channels + c], weights[(ky * 3 + kx) * channels + c])
                                            }
                                        }
                                        expected[ox * channels + c] = clamps ? min(max(acc, lo), hi) : acc
                                    }
                                }
                                for level in fmaLevels {
                                    let table = qc_kernels_for(level)!.pointee
                                    var actual = [Float](repeating: .nan, count: outW * channels + 3)
                                    table.depthwise_row_f32!(sample, inH, inW, channels, weights, bias, 3, 3, stride, stride, 1, 1,
                                                            pad.top, pad.left, outY, outW, &actual, clamps ? 1 : 0, lo, hi)
                                    let label = "\(String(cString: qc_isa_name(level))) \(inH)x\(inW)x\(channels) stride \(stride) "
                                        + "pad \(pad) clamps \(clamps) row \(outY)"
                                    XCTAssertEqual(actual.prefix(expected.count).map(\.bitPattern), expected.map(\.bitPattern), label)
                                    XCTAssertTrue(actual.suffix(3).allSatisfy(\.isNaN), "\(label) wrote past the row")
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The FP32 peak probe counts 2 operations per lane and multiply-add of its 12 chains: 8 lanes at
    /// scalar and avx2, 16 at avx512 and avx512vnni.
    func testFMAProbeCountsItsOperations() {
        for level in levels {
            let name = String(cString: qc_isa_name(level))
            var flops: Int64 = 0
            let sum = qc_kernels_for(level)!.pointee.fma_probe(1000, 0.5, &flops)
            XCTAssertEqual(flops, 1000 * 12 * 2 * (name.hasPrefix("avx512") ? 16 : 8), name)
            XCTAssertTrue(sum.isFinite, name)
        }
    }

    /// The indirect micro-kernel at every level and width: equal bit for bit to the same level's packed
    /// kernel on the same A (the same FMA chain per output; rows of the table point into an image, at a
    /// zero buffer for padding taps), and close to the scalar level.
    func testIndirectMicroKernelEqualsPackedForm() {
        let scalar = qc_kernels_for(Int32(QC_ISA_SCALAR.rawValue))!.pointee
        var values = SeededValues(seed: 53)
        for level in levels {
            let table = qc_kernels_for(level)!.pointee
            let name = String(cString: qc_isa_name(level))
            for (taps, cin) in [(1, 1), (9, 8), (4, 16), (25, 3)] {
                let k = taps * cin
                let image = values.array(64 * cin), zeros = [Float](repeating: 0, count: cin)
                let b = values.array(16 * k), bias = values.array(16), start = values.array(6 * 20)
                image.withUnsafeBufferPointer { image in
                    zeros.withUnsafeBufferPointer { zeros in
                        // Row r of tap t: pixel (7 t + 3 r) % 64 of the image, or the zeros every fifth entry.
                        let rows: [UnsafePointer<Float>?] = (0..<(6 * taps)).map { e in
                            e % 5 == 4 ? zeros.baseAddress! : image.baseAddress! + ((7 * (e / 6) + 3 * (e % 6)) % 64) * cin
                        }
                        var packed = [Float](repeating: 0, count: 6 * k)
                        for t in 0..<taps {
                            for i in 0..<cin {
                                for r in 0..<6 { packed[(t * cin + i) * 6 + r] = rows[6 * t + r]![i] }
                            }
                        }
                        for width: Int32 in [16, 8, 4] {
                            for (useBias, clamps) in [(true, Int32(0)), (false, Int32(1))] {
                                var indirect = start, direct = start, reference = start
                                bias.withUnsafeBufferPointer { bias in
                                    let bp: UnsafePointer<Float>? = useBias ? bias.baseAddress : nil
                                    rows.withUnsafeBufferPointer { rows in
                                        table.sgemm_6xw_indirect(width, taps, cin, rows.baseAddress, b, &indirect, 20, bp, clamps, -0.5, 0.5, nil)
                                        scalar.sgemm_6xw_indirect(width, taps, cin, rows.baseAddress, b, &reference, 20, bp, clamps, -0.5, 0.5, nil)
                                    }
                                    let kernel = width == 16 ? table.sgemm_6x16! : (width == 8 ? table.sgemm_6x8! : table.sgemm_6x4!)
                                    kernel(k, packed, 1, nil, b, &direct, 20, bp, clamps, -0.5, 0.5, nil)
                                }
                                let label = "\(name) 6x\(width) taps \(taps) cin \(cin) bias \(useBias)"
                                XCTAssertEqual(indirect, direct, label)
                                for r in 0..<6 {
                                    for n in Int(width)..<20 {
                                        XCTAssertEqual(indirect[r * 20 + n], start[r * 20 + n], "\(label) wrote past its columns")
                                    }
                                }
                                assertKernelClose(indirect, reference, k: k, label)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The folded tail in the micro-kernels' epilogue (`qc_f32_tail`: a scale and shift, then relu or
    /// relu6) at every level, width and form of A (packed, in place, row table), after the clamp or not,
    /// equals bit for bit the same kernel without it followed by `ChannelTail`'s Swift steps on the
    /// stored values. C starts hold NaN (relu keeps it), some scales are 0 with -0 shifts (x * 0 + -0
    /// is -0 for x <= 0: relu gives +0), others large (relu6 clamps at 6).
    func testMicroKernelTailEqualsTheStepsAfterTheStore() {
        var values = SeededValues(seed: 131)
        for level in levels {
            let table = qc_kernels_for(level)!.pointee
            let name = String(cString: qc_isa_name(level))
            for kc in [3, 40] {
                let matrix = values.array(6 * kc), b = values.array(16 * kc), bias = values.array(16)
                let packed = (0..<(6 * kc)).map { matrix[($0 % 6) * kc + $0 / 6] }
                let offsets = (0..<kc).map { $0 }
                var start = values.array(6 * 20, scale: 3)
                start[1] = .nan; start[20 + 9] = -.nan
                var scale = values.array(16 + 16, scale: 8), shift = values.array(16 + 16, scale: 2)
                for n in [2, 6, 13] { scale[n] = 0; shift[n] = -0.0 }
                for width in [16, 8, 4] {
                    for form in ["packed", "in place", "table"] {
                        for (useBias, clamps) in [(true, Int32(0)), (false, Int32(1)), (false, Int32(0))] {
                            for (affine, activation) in [(true, QC_TAIL_NONE), (true, QC_TAIL_RELU), (true, QC_TAIL_RELU6),
                                                         (false, QC_TAIL_RELU), (false, QC_TAIL_RELU6)] {
                                var plain = start, tailed = start
                                let run = { (c: UnsafeMutablePointer<Float>, tail: UnsafePointer<qc_f32_tail>?) in
                                    bias.withUnsafeBufferPointer { bias in
                                        let bp = useBias ? bias.baseAddress : nil
                                        matrix.withUnsafeBufferPointer { m in
                                            let rows: [UnsafePointer<Float>?] = (0..<6).map { m.baseAddress! + $0 * kc }
                                            switch form {
                                            case "table":
                                                table.sgemm_6xw_indirect(Int32(width), 1, kc, rows, b, c, 20, bp, clamps, -0.5, 0.5, tail)
                                            default:
                                                let kernel = width == 16 ? table.sgemm_6x16! : (width == 8 ? table.sgemm_6x8! : table.sgemm_6x4!)
                                                if form == "packed" {
                                                    kernel(kc, packed, 1, nil, b, c, 20, bp, clamps, -0.5, 0.5, tail)
                                                } else {
                                                    kernel(kc, m.baseAddress, kc, offsets, b, c, 20, bp, clamps, -0.5, 0.5, tail)
                                                }
                                            }
                                        }
                                    }
                                }
                                plain.withUnsafeMutableBufferPointer { run($0.baseAddress!, nil) }
                                scale.withUnsafeBufferPointer { sc in
                                    shift.withUnsafeBufferPointer { sh in
                                        var tail = qc_f32_tail(scale: affine ? sc.baseAddress : nil, shift: affine ? sh.baseAddress : nil,
                                                               activation: Int32(activation))
                                        tailed.withUnsafeMutableBufferPointer { c in withUnsafePointer(to: &tail) { run(c.baseAddress!, $0) } }
                                    }
                                }
                                var expected = plain
                                for r in 0..<6 {
                                    for n in 0..<width {
                                        var v = plain[r * 20 + n]
                                        if affine { v = v * scale[n] + shift[n] }
                                        if activation != QC_TAIL_NONE { v = max(v, 0) }
                                        if activation == QC_TAIL_RELU6 { v = min(v, 6) }
                                        expected[r * 20 + n] = v
                                    }
                                }
                                let wrong = (0..<(6 * 20)).filter {
                                    tailed[$0].bitPattern != expected[$0].bitPattern && !(tailed[$0].isNaN && expected[$0].isNaN)
                                }
                                XCTAssertEqual(wrong.count, 0, "\(name) 6x\(width) \(form) kc \(kc) bias \(useBias) clamps \(clamps) "
                                               + "affine \(affine) activation \(activation): first at \(wrong.first.map { "\($0): \(tailed[$0]) vs \(expected[$0])" } ?? "-")")
                            }
                        }
                    }
                }
            }
        }
    }

    /// `qc_sgemm_row_inplace` (one output row read in place, every 6-pixel group and B panel in one
    /// call; blocks of up to 14 pixels per call at avx512 where a panel has 16 real columns) at every
    /// level equals bit for bit `gemmTile` per 6 pixels and panel, the form it replaced: row lengths 1-41
    /// (blocks of every size 1-14),
    /// 4 to 40 columns (narrow and edge panels), bias or C start, clamp, tail; nothing past the row is written.
    func testRowInPlaceEqualsTheTileLoop() {
        var values = SeededValues(seed: 149)
        forEachLevel { name in
            for (kc, n) in [(9, 16), (9, 8), (3, 4), (9, 10), (18, 32), (9, 40), (5, 20)] {
                let image = values.array(40 * 7 + 64), step = 7
                let offsets = (0..<kc).map { ($0 * 5) % 11 + $0 / 3 }
                let weights = values.array(kc * n), bias = values.array(n)
                let packed = PackedWeights(k: kc, n: n, groups: 1, bias: bias) { _, k, j in weights[k * n + j] }
                let affine = ChannelAffineLayer(scale: values.array(n, scale: 4), shift: values.array(n), inputShape: [n])
                let ldc = n + 3
                for count in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 24, 26, 28, 30, 41] {
                    // Twelve rows past the row as a guard: neither form may write them.
                    let start = values.array((count + 12) * ldc, scale: 2)
                    for (first, clamps, tail) in rowEpilogues(affine) {
                        let epilogue = clamps ? GEMMEpilogue(clamps: true, lo: -0.25, hi: 0.75) : GEMMEpilogue.none
                        var expected = start, actual = start
                        let tile = UnsafeMutablePointer<Float>.allocate(capacity: 6 * 16)
                        defer { tile.deallocate() }
                        image.withUnsafeBufferPointer { image in
                            offsets.withUnsafeBufferPointer { offsets in
                                expected.withUnsafeMutableBufferPointer { c in
                                    for x in stride(from: 0, to: count, by: 6) {
                                        let panel = PanelA(base: image.baseAddress! + x * step, step: step, offsets: offsets.baseAddress!)
                                        for j in 0..<packed.panels {
                                            gemmTile(panel, kc: kc, weights: packed, group: 0, panel: j, k0: 0, first: first,
                                                     c: c.baseAddress! + x * ldc + j * 16, ldc: ldc, mValid: min(6, count - x),
                                                     epilogue: epilogue, tile: tile, tail: tail)
                                        }
                                    }
                                }
                                withHandBuiltTail(tail) { tp in
                                    qc_sgemm_row_inplace(count, kc, image.baseAddress!, step, offsets.baseAddress!,
                                                         packed.panel(group: 0, index: 0), packed.panels, n, &actual, ldc,
                                                         first ? packed.bias(group: 0, index: 0) : nil, clamps ? 1 : 0,
                                                         epilogue.lo, epilogue.hi, tp)
                                }
                            }
                        }
                        XCTAssertEqual(actual.map(\.bitPattern), expected.map(\.bitPattern),
                                       "\(name) kc \(kc) n \(n) count \(count) bias \(first) clamps \(clamps) tail \(tail != nil)")
                    }
                }
            }
        }
    }

    /// `qc_sgemm_patch_rows` (a block of a convolution's rows, one patch origin per row; at avx512 12
    /// rows per call and the last 1-11 as one block, on panels with 16 real columns) at every level
    /// equals bit for bit `gemmTile` per 6 rows and panel through the indirect row table, the form it
    /// replaced: blocks of 1-30 rows (every remainder), 8 and 16 channels per tap, 8 to 40 columns
    /// (narrow and edge panels), bias or C start, clamp, tail; nothing past the block is written.
    func testPatchRowsEqualTheIndirectTiles() {
        var values = SeededValues(seed: 157)
        forEachLevel { name in
            for (taps, cin, n) in [(9, 16, 16), (9, 8, 32), (4, 16, 24), (9, 16, 8), (3, 8, 40)] {
                let kc = taps * cin, imageFloats = 64 * cin + 8
                let image = values.array(imageFloats)
                let offsets = (0..<kc).map { k in ((k / cin) * 7 % 23) * cin + k % cin }
                let weights = values.array(kc * n), bias = values.array(n)
                let packed = PackedWeights(k: kc, n: n, groups: 1, bias: bias) { _, k, j in weights[k * n + j] }
                let affine = ChannelAffineLayer(scale: values.array(n, scale: 4), shift: values.array(n), inputShape: [n])
                let ldc = n + 3
                for count in Array(1...14) + [23, 24, 25, 30] {
                    // Origins anywhere in the image (patches of rows and samples in any order).
                    let starts = (0..<count).map { ($0 * 11 + 5) % 40 * cin }
                    // Twelve rows past the block as a guard: neither form may write them.
                    let start = values.array((count + 12) * ldc, scale: 2)
                    for (first, clamps, tail) in rowEpilogues(affine) {
                        let epilogue = clamps ? GEMMEpilogue(clamps: true, lo: -0.25, hi: 0.75) : GEMMEpilogue.none
                        var expected = start, actual = start
                        let tile = UnsafeMutablePointer<Float>.allocate(capacity: 6 * 16)
                        let table = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: 6 * taps)
                        let origins = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: count)
                        defer { tile.deallocate(); table.deallocate(); origins.deallocate() }
                        image.withUnsafeBufferPointer { image in
                            offsets.withUnsafeBufferPointer { offsets in
                                for r in 0..<count { origins[r] = image.baseAddress! + starts[r] }
                                expected.withUnsafeMutableBufferPointer { c in
                                    for x in stride(from: 0, to: count, by: 6) {
                                        let mValid = min(6, count - x)
                                        for r in 0..<6 {
                                            let origin = image.baseAddress! + starts[x + (r < mValid ? r : 0)]
                                            for t in 0..<taps { table[t * 6 + r] = origin + offsets[t * cin] }
                                        }
                                        let panel = PanelA.indirect(UnsafePointer(table), cin: cin, zeros: image.baseAddress!)
                                        for j in 0..<packed.panels {
                                            gemmTile(panel, kc: kc, weights: packed, group: 0, panel: j, k0: 0, first: first,
                                                     c: c.baseAddress! + x * ldc + j * 16, ldc: ldc, mValid: mValid,
                                                     epilogue: epilogue, tile: tile, tail: tail)
                                        }
                                    }
                                }
                                withHandBuiltTail(tail) { tp in
                                    qc_sgemm_patch_rows(count, kc, cin, origins, offsets.baseAddress!,
                                                        packed.panel(group: 0, index: 0), kc * 16, packed.panels, n, &actual,
                                                        ldc, first ? packed.bias(group: 0, index: 0) : nil, clamps ? 1 : 0,
                                                        epilogue.lo, epilogue.hi, tp)
                                }
                            }
                        }
                        XCTAssertEqual(actual.map(\.bitPattern), expected.map(\.bitPattern),
                                       "\(name) taps \(taps) cin \(cin) n \(n) count \(count) bias \(first) clamps \(clamps) tail \(tail != nil)")
                    }
                }
            }
        }
    }

    /// `qc_sgemm_matrix_rows` (a block of a matrix GEMM's rows, every 6-row group and B panel in one
    /// call; 12 rows per call at avx512 where a panel has 16 real columns) at every level equals bit for
    /// bit `gemmTile` per 6 rows and panel through `MatrixSource`'s row table, the form it replaced: a
    /// K block past the first (C as the start, B's panels `k * 16` apart) and the first (bias), blocks
    /// of 1-31 rows, 4-40 columns, clamp, tail.
    func testMatrixRowsEqualTheTileLoop() {
        var values = SeededValues(seed: 151)
        forEachLevel { name in
            for (k, n) in [(16, 16), (8, 8), (5, 4), (12, 10), (32, 32), (20, 40)] {
                let lda = k + 3, rowsInAll = 31
                let matrix = UnsafeMutablePointer<Float>.allocate(capacity: rowsInAll * lda)
                matrix.initialize(from: values.array(rowsInAll * lda), count: rowsInAll * lda)
                defer { matrix.deallocate() }
                let weights = values.array(k * n), bias = values.array(n)
                let packed = PackedWeights(k: k, n: n, groups: 1, bias: bias) { _, kk, j in weights[kk * n + j] }
                let affine = ChannelAffineLayer(scale: values.array(n, scale: 4), shift: values.array(n), inputShape: [n])
                let source = MatrixSource(a: matrix, lda: lda, groupStride: 0)
                let ldc = n + 1
                let table = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: 6)
                let tile = UnsafeMutablePointer<Float>.allocate(capacity: 6 * 16)
                defer { table.deallocate(); tile.deallocate() }
                for (m0, count) in [(0, 1), (2, 5), (0, 6), (1, 7), (0, 12), (3, 13), (0, 24), (1, 30)] {
                    let k0 = k / 2, kc = k - k0
                    let start = values.array(count * ldc, scale: 2)
                    for (first, clamps, tail) in [(true, false, nil), (false, true, nil), (false, false, ChannelTail(affine: affine, activation: .relu)),
                                                  (true, true, ChannelTail(affine: nil, activation: .relu6))] as [(Bool, Bool, ChannelTail?)] {
                        let epilogue = clamps ? GEMMEpilogue(clamps: true, lo: -0.25, hi: 0.75) : GEMMEpilogue.none
                        let blockK0 = first ? 0 : k0, blockKC = first ? k : kc
                        var expected = start, actual = start
                        expected.withUnsafeMutableBufferPointer { c in
                            for x in stride(from: 0, to: count, by: 6) {
                                let rows = min(6, count - x)
                                let panel = source.indirectPanel(m0: m0 + x, rows: rows, k0: blockK0, kc: blockKC, group: 0, table: table)!
                                for j in 0..<packed.panels {
                                    gemmTile(panel, kc: blockKC, weights: packed, group: 0, panel: j, k0: blockK0, first: first,
                                             c: c.baseAddress! + x * ldc + j * 16, ldc: ldc, mValid: rows, epilogue: epilogue,
                                             tile: tile, tail: tail)
                                }
                            }
                        }
                        let block = source.matrixBlock(m0: m0, k0: blockK0, group: 0)!
                        withHandBuiltTail(tail) { tp in
                            qc_sgemm_matrix_rows(count, blockKC, block.base, block.lda, packed.panel(group: 0, index: 0) + blockK0 * 16,
                                                 k * 16, packed.panels, n, &actual, ldc, first ? packed.bias(group: 0, index: 0) : nil,
                                                 clamps ? 1 : 0, epilogue.lo, epilogue.hi, tp)
                        }
                        XCTAssertEqual(actual.map(\.bitPattern), expected.map(\.bitPattern),
                                       "\(name) k \(k) n \(n) rows \(m0) + \(count) first block \(first) clamps \(clamps) tail \(tail != nil)")
                    }
                }
            }
        }
    }

    /// The row-kernel tests' epilogues, as (bias on the first K block, clamps, tail): bias only,
    /// clamps only, bias with `affine` and a ReLU tail, bias with clamps and a ReLU6 tail.
    private func rowEpilogues(_ affine: ChannelAffineLayer) -> [(Bool, Bool, ChannelTail?)] {
        [(true, false, nil), (false, true, nil), (true, false, ChannelTail(affine: affine, activation: .relu)),
         (true, true, ChannelTail(affine: nil, activation: .relu6))]
    }

    /// `body` with `tail`'s C tail (nil without one), built here rather than through
    /// `ChannelTail.withKernelTail`: the row kernels are compared with `gemmTile`, which goes through
    /// that helper, so building the tail by hand keeps the two sides independent of it.
    private func withHandBuiltTail(_ tail: ChannelTail?, _ body: (UnsafePointer<qc_f32_tail>?) -> Void) {
        if var kernelTail = tail?.kernelTail(channel0: 0) {
            withUnsafePointer(to: &kernelTail) { body($0) }
        } else {
            body(nil)
        }
    }
}
