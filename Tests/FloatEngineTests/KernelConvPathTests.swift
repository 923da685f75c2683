@testable import FloatEngine
import QCore
import XCTest

/// Conv2DKernel against FloatReference.conv2D on the two GEMM loop orders: N <= 32 (at most
/// `GEMMTile.inPlaceMaxPanels` B panels), where interior A panels are read in place from the image,
/// and wider N, where a whole A block is packed first. Each case is wide enough (outW >= 8) for
/// interior panels, and the K = 360 cases also cross a K block boundary with in-place offsets.
final class KernelConvPathTests: XCTestCase {
    func testInPlaceAndPackedOrdersMatchReference() {
        var values = SeededValues(seed: 11)
        let same = Padding2D(top: 1, bottom: 1, left: 1, right: 1)
        let cases: [(input: [Int], outChannels: Int, stride: Int, groups: Int, activation: Activation)] = [
            ([9, 14, 40], 24, 1, 1, .relu),     // in place, K = 360: two K blocks, edge columns
            ([9, 14, 40], 32, 2, 2, .linear),   // in place, grouped, strided
            ([9, 14, 1], 8, 1, 1, .relu6),      // in place, K = 9, half a panel
            ([9, 14, 40], 40, 1, 1, .relu),     // packed order (3 panels), two K blocks
        ]
        XCTAssertEqual(GEMMTile.inPlaceMaxPanels, 2, "cases are chosen for a two-panel limit")
        for (index, c) in cases.enumerated() {
            let geometry = ConvGeometry(kernelH: 3, kernelW: 3, strideH: c.stride, strideW: c.stride, padding: same)
            let weightShape = [3, 3, c.input[2] / c.groups, c.outChannels]
            let conv = Conv2D(geometry: geometry, groups: c.groups,
                              weights: Tensor(shape: weightShape, data: values.array(weightShape.reduce(1, *))),
                              bias: values.array(c.outChannels), activation: c.activation)
            let kernel = Conv2DKernel(conv, inputShape: c.input)
            for batch in [1, 2] {
                let input = values.array(batch * c.input.reduce(1, *))
                let expected = FloatReference.conv2D(conv, input: input, inputShape: c.input, batch: batch)
                forEachThreadCount { threads in
                    let actual = runKernel(outputCount: expected.count, workspace: kernel.workspaceCount(batch: batch), input: input) {
                        kernel.run(input: $0, output: $1, batch: batch, workspace: $2)
                    }
                    assertKernelClose(actual, expected, k: weightShape[0] * weightShape[1] * weightShape[2],
                                      "path case \(index), batch \(batch), \(threads) threads")
                }
            }
        }
    }

    /// The three ways of reading A (in place, through the indirect kernel's row table, packed) sum
    /// each output over k in the same order, so they give the same floats: a 16-channel conv (the
    /// two-panel order: in place where six pixels share a row inside the image, the row table
    /// elsewhere) equals bit for bit the first 16 channels of a 48-channel conv with the same weights
    /// there (the packed order), on geometries whose panels cross rows and touch the padding, with
    /// several K blocks (cin 40, 3x3: K = 360) and groups, and with 1-3 channels (a zero-padded copy
    /// of each sample).
    func testIndirectInPlaceAndPackedFormsGiveTheSameFloats() {
        var values = SeededValues(seed: 13)
        let cases: [(input: [Int], kernel: Int, stride: Int, dilation: Int, pad: Int, groups: Int)] = [
            ([7, 9, 8], 3, 1, 1, 1, 1),
            ([9, 14, 40], 3, 1, 1, 1, 1),
            ([8, 11, 12], 5, 2, 1, 2, 1),
            ([9, 9, 16], 3, 1, 2, 2, 1),
            ([8, 8, 32], 3, 1, 1, 1, 2),
            // Fewer than 8 channels: read from a zero-padded copy of each sample.
            ([14, 13, 1], 3, 2, 1, 1, 1),
            ([9, 11, 3], 5, 1, 1, 2, 1),
            ([10, 9, 2], 3, 1, 2, 2, 1),
            ([7, 8, 1], 3, 3, 1, 0, 1),
            ([12, 12, 3], 11, 1, 1, 5, 1),    // K = 363, two K blocks: packed
        ]
        for (index, c) in cases.enumerated() {
            let padding = Padding2D(top: c.pad, bottom: c.pad, left: c.pad, right: c.pad)
            let geometry = ConvGeometry(kernelH: c.kernel, kernelW: c.kernel, strideH: c.stride, strideW: c.stride,
                                        dilationH: c.dilation, dilationW: c.dilation, padding: padding)
            let cinG = c.input[2] / c.groups, taps = c.kernel * c.kernel
            let narrowOut = 16 * c.groups, wideOut = 48 * c.groups
            // The wide conv's weights [kh, kw, cinG, wideOut]: group g's first 16 outputs are the narrow conv's.
            let wide = values.array(taps * cinG * wideOut), wideBias = values.array(wideOut)
            var narrow = [Float](repeating: 0, count: taps * cinG * narrowOut), narrowBias = [Float](repeating: 0, count: narrowOut)
            for g in 0..<c.groups {
                for j in 0..<16 {
                    narrowBias[g * 16 + j] = wideBias[g * 48 + j]
                    for kk in 0..<(taps * cinG) { narrow[kk * narrowOut + g * 16 + j] = wide[kk * wideOut + g * 48 + j] }
                }
            }
            let small = Conv2DKernel(Conv2D(geometry: geometry, groups: c.groups,
                                            weights: Tensor(shape: [c.kernel, c.kernel, cinG, narrowOut], data: narrow),
                                            bias: narrowBias, activation: .relu), inputShape: c.input)
            let large = Conv2DKernel(Conv2D(geometry: geometry, groups: c.groups,
                                            weights: Tensor(shape: [c.kernel, c.kernel, cinG, wideOut], data: wide),
                                            bias: wideBias, activation: .relu), inputShape: c.input)
            XCTAssertLessThanOrEqual(small.weights.panels, GEMMTile.inPlaceMaxPanels)
            XCTAssertGreaterThan(large.weights.panels, GEMMTile.inPlaceMaxPanels)
            XCTAssertEqual(small.paddedImage != nil, cinG < GEMMTile.indirectMinChannels && taps * cinG <= GEMMTile.maxKC,
                           "case \(index)")
            for batch in [1, 2] {
                let input = values.array(batch * c.input.reduce(1, *))
                let pixels = batch * small.outputShape[0] * small.outputShape[1]
                forEachThreadCount { threads in
                    let a = runKernel(outputCount: pixels * narrowOut, workspace: 0, input: input) {
                        small.run(input: $0, output: $1, batch: batch, workspace: $2)
                    }
                    let b = runKernel(outputCount: pixels * wideOut, workspace: 0, input: input) {
                        large.run(input: $0, output: $1, batch: batch, workspace: $2)
                    }
                    var mismatches = 0
                    for p in 0..<pixels {
                        for g in 0..<c.groups {
                            for j in 0..<16 where a[p * narrowOut + g * 16 + j] != b[p * wideOut + g * 48 + j] { mismatches += 1 }
                        }
                    }
                    XCTAssertEqual(mismatches, 0, "case \(index), batch \(batch), \(threads) threads")
                }
            }
        }
    }

    /// A stride-1 convolution reads its patches from zero-padded images of its samples
    /// (`PaddedPatchPlan`; from the input itself without padding): in place, through six origins plus
    /// tap offsets, or packed. The same floats, bit for bit, as the unpadded forms (the image budget
    /// set to -1), over symmetric, one-sided and no padding, dilation, groups, several K blocks,
    /// fewer than 8 channels per tap (packed), one to three B panels with edge columns, batches whose
    /// micro-panels cross samples, and 1 and 2 threads.
    func testPaddedPatchesEqualTheUnpaddedForms() {
        var values = SeededValues(seed: 23)
        let savedBudget = PaddedPatchPlan.maxFloats
        defer { PaddedPatchPlan.maxFloats = savedBudget }
        let cases: [(input: [Int], kernel: Int, dilation: Int, pad: (Int, Int, Int, Int), groups: Int, out: Int, copies: Bool)] = [
            ([7, 9, 8], 3, 1, (1, 1, 1, 1), 1, 16, true),
            ([5, 5, 16], 3, 1, (1, 1, 1, 1), 1, 24, true),
            ([9, 14, 40], 3, 1, (1, 1, 1, 1), 1, 40, true),     // K = 360: two K blocks, three panels
            ([6, 7, 16], 3, 2, (2, 2, 2, 2), 1, 16, true),
            ([8, 8, 32], 3, 1, (0, 2, 1, 0), 2, 32, true),       // one-sided padding, groups
            ([7, 6, 12], 5, 1, (2, 2, 2, 2), 1, 20, true),
            ([8, 9, 4], 3, 1, (1, 1, 1, 1), 1, 48, true),        // 4 channels per tap: packed
            ([6, 8, 16], 3, 1, (0, 0, 0, 0), 1, 16, false),      // no padding: the input is the image
            ([3, 2, 8], 3, 1, (1, 1, 1, 1), 1, 8, true),         // 6 pixels per sample: panels cross samples
        ]
        for (index, c) in cases.enumerated() {
            let padding = Padding2D(top: c.pad.0, bottom: c.pad.1, left: c.pad.2, right: c.pad.3)
            let geometry = ConvGeometry(kernelH: c.kernel, kernelW: c.kernel, strideH: 1, strideW: 1,
                                        dilationH: c.dilation, dilationW: c.dilation, padding: padding)
            let cinG = c.input[2] / c.groups
            let shape = [c.kernel, c.kernel, cinG, c.out]
            let kernel = Conv2DKernel(Conv2D(geometry: geometry, groups: c.groups,
                                             weights: Tensor(shape: shape, data: values.array(shape.reduce(1, *))),
                                             bias: values.array(c.out), activation: .relu), inputShape: c.input)
            XCTAssertNil(kernel.paddedImage, "case \(index)")
            XCTAssertEqual(kernel.paddedPatches?.copies, c.copies, "case \(index)")
            for batch in [1, 3] {
                let input = values.array(batch * c.input.reduce(1, *))
                let count = batch * kernel.outputShape.reduce(1, *)
                forEachThreadCount { threads in
                    assertPaddedEqualsUnpadded(kernel, input: input, batch: batch, count: count, budget: savedBudget,
                                               "case \(index), batch \(batch), \(threads) threads")
                }
            }
        }
        // A strided convolution reads padded images when its outputs fill 16-column panels (the avx512
        // patch rows run them 12 pixels per call), the same floats; with a half panel it keeps the
        // unpadded forms (tv_cnn_plain's conv2, 24 outputs from an image 4x its output's pixels, ran
        // 3 % slower padded).
        for (out, padded) in [(16, true), (32, true), (24, false)] {
            let strided = Conv2DKernel(Conv2D(geometry: ConvGeometry(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2,
                                                                     padding: Padding2D(top: 0, bottom: 1, left: 1, right: 1)),
                                              groups: 1, weights: Tensor(shape: [3, 3, 16, out], data: values.array(144 * out)),
                                              bias: values.array(out), activation: .relu), inputShape: [9, 8, 16])
            XCTAssertEqual(strided.paddedPatches != nil, padded, "strided, \(out) outputs")
            guard padded else { continue }
            let batch = 3
            let input = values.array(batch * 9 * 8 * 16)
            let count = batch * strided.outputShape.reduce(1, *)
            forEachThreadCount { threads in
                assertPaddedEqualsUnpadded(strided, input: input, batch: batch, count: count, budget: savedBudget,
                                           "strided, \(out) outputs, \(threads) threads")
            }
        }
    }

    /// `kernel` reading padded images (with the images' budget `budget`) and then with them off (budget
    /// -1) gives the same floats, bit for bit.
    private func assertPaddedEqualsUnpadded(_ kernel: Conv2DKernel, input: [Float], batch: Int, count: Int, budget: Int,
                                            _ context: String, line: UInt = #line) {
        PaddedPatchPlan.maxFloats = budget
        XCTAssertTrue(kernel.readsPaddedPatches(batch: batch), context, line: line)
        let padded = runKernel(outputCount: count, workspace: 0, input: input) {
            kernel.run(input: $0, output: $1, batch: batch, workspace: $2)
        }
        PaddedPatchPlan.maxFloats = -1
        XCTAssertFalse(kernel.readsPaddedPatches(batch: batch), context, line: line)
        let unpadded = runKernel(outputCount: count, workspace: 0, input: input) {
            kernel.run(input: $0, output: $1, batch: batch, workspace: $2)
        }
        let mismatches = zip(padded, unpadded).filter { $0.bitPattern != $1.bitPattern }.count
        XCTAssertEqual(mismatches, 0, context, line: line)
    }

    /// A stem read from padded images with a Rescaling or BatchNormalization folded in (`head`, applied
    /// while each sample is copied) equals the affine layer run first, then the stem, bit for bit:
    /// 1 and 3 channels, padded and unpadded, strided, with a tail, 1 and 2 threads.
    func testStemHeadEqualsTheAffineThenTheStem() {
        var values = SeededValues(seed: 29)
        let cases: [(input: [Int], kernel: Int, stride: Int, pad: Int)] = [
            ([9, 8, 1], 3, 1, 1), ([10, 9, 3], 3, 2, 1), ([7, 7, 1], 3, 1, 0), ([8, 9, 2], 5, 1, 2),
        ]
        for (index, c) in cases.enumerated() {
            let channels = c.input[2]
            let padding = Padding2D(top: c.pad, bottom: c.pad, left: c.pad, right: c.pad)
            let shape = [c.kernel, c.kernel, channels, 16]
            let conv = Conv2DKernel(Conv2D(geometry: ConvGeometry(kernelH: c.kernel, kernelW: c.kernel, strideH: c.stride,
                                                                  strideW: c.stride, padding: padding),
                                           groups: 1, weights: Tensor(shape: shape, data: values.array(shape.reduce(1, *))),
                                           bias: values.array(16), activation: .linear), inputShape: c.input)
            XCTAssertNotNil(conv.paddedImage, "case \(index)")
            let affine = ChannelAffineLayer(scale: values.array(channels), shift: values.array(channels), inputShape: c.input)
            let tail = ChannelTail(affine: nil, activation: .relu)
            for batch in [1, 3] {
                let input = values.array(batch * c.input.reduce(1, *))
                let count = batch * conv.outputShape.reduce(1, *)
                forEachThreadCount { threads in
                    let mapped = runKernel(outputCount: input.count, workspace: 0, input: input) {
                        affine.run(inputs: [$0], output: $1, batch: batch, workspace: $2)
                    }
                    let separate = runKernel(outputCount: count, workspace: 0, input: mapped) {
                        conv.run(input: $0, output: $1, batch: batch, workspace: $2, tail: tail)
                    }
                    let folded = runKernel(outputCount: count, workspace: 0, input: input) {
                        conv.run(input: $0, output: $1, batch: batch, workspace: $2, tail: tail, head: affine)
                    }
                    let mismatches = zip(separate, folded).filter { $0.bitPattern != $1.bitPattern }.count
                    XCTAssertEqual(mismatches, 0, "case \(index), batch \(batch), \(threads) threads")
                }
            }
        }
    }

    /// 1x1 stride-1 convolutions and Dense read A as a plain matrix: with N <= 32 through a one-tap
    /// row table (each row's pointer is its row of the input), else packed. Both sum over k in the same
    /// order, so a narrow layer equals bit for bit the first outputs of a 48-wide one with the same
    /// weights there: M not a multiple of 6 (edge panels), K = 300 (two K blocks), groups, and narrow
    /// widths 16, 20 (a 16- and a 4-column tile) and 8. The wide layers pack because
    /// `inPlaceMaxBBytes` is 0 here (`testWideMatrixReadInPlaceEqualsPacked` covers them in place).
    func testMatrixRowTableAndPackedFormsGiveTheSameFloats() {
        let savedLimit = GEMMTile.inPlaceMaxBBytes
        GEMMTile.inPlaceMaxBBytes = 0
        defer { GEMMTile.inPlaceMaxBBytes = savedLimit }
        var values = SeededValues(seed: 17)
        let cases: [(input: [Int], groups: Int, narrow: Int)] = [
            ([5, 7, 40], 1, 16), ([3, 5, 300], 1, 20), ([4, 5, 32], 2, 8), ([2, 3, 24], 1, 20),
        ]
        let wide = 48
        for (index, c) in cases.enumerated() {
            let cinG = c.input[2] / c.groups
            let wideWeights = values.array(cinG * wide * c.groups), wideBias = values.array(wide * c.groups)
            let (narrowWeights, narrowBias) = firstColumns(c.narrow, of: wideWeights, bias: wideBias, k: cinG,
                                                           groups: c.groups, groupWidth: wide)
            func conv(_ weights: [Float], _ bias: [Float], width: Int) -> Conv2DKernel {
                Conv2DKernel(Conv2D(geometry: ConvGeometry(kernelH: 1, kernelW: 1, strideH: 1, strideW: 1, padding: .zero),
                                    groups: c.groups, weights: Tensor(shape: [1, 1, cinG, width * c.groups], data: weights),
                                    bias: bias, activation: .relu), inputShape: c.input)
            }
            let small = conv(narrowWeights, narrowBias, width: c.narrow), large = conv(wideWeights, wideBias, width: wide)
            XCTAssertTrue(small.readsInputDirectly)
            XCTAssertLessThanOrEqual(small.weights.panels, GEMMTile.inPlaceMaxPanels)
            XCTAssertGreaterThan(large.weights.panels, GEMMTile.inPlaceMaxPanels)
            for batch in [1, 2] {
                let input = values.array(batch * c.input.reduce(1, *))
                let pixels = batch * c.input[0] * c.input[1]
                assertFirstColumnsEqual(pixels: pixels, groups: c.groups, narrow: c.narrow, wide: wide, input: input,
                                        { small.run(input: $0, output: $1, batch: batch, workspace: $2) },
                                        { large.run(input: $0, output: $1, batch: batch, workspace: $2) },
                                        "conv case \(index), batch \(batch)")
            }
        }
        for (index, c) in [(rows: 7, k: 300, narrow: 20), (rows: 1, k: 64, narrow: 16), (rows: 5, k: 33, narrow: 8)].enumerated() {
            let wideWeights = values.array(c.k * wide), wideBias = values.array(wide)
            let (narrowWeights, narrowBias) = firstColumns(c.narrow, of: wideWeights, bias: wideBias, k: c.k,
                                                           groups: 1, groupWidth: wide)
            let small = DenseKernel(Dense(weights: Tensor(shape: [c.k, c.narrow], data: narrowWeights), bias: narrowBias,
                                          activation: .relu6), rows: c.rows)
            let large = DenseKernel(Dense(weights: Tensor(shape: [c.k, wide], data: wideWeights), bias: wideBias,
                                          activation: .relu6), rows: c.rows)
            XCTAssertLessThanOrEqual(small.weights.panels, GEMMTile.inPlaceMaxPanels)
            for batch in [1, 3] {
                let input = values.array(batch * c.rows * c.k)
                assertFirstColumnsEqual(pixels: batch * c.rows, groups: 1, narrow: c.narrow, wide: wide, input: input,
                                        { small.run(input: $0, output: $1, batch: batch, workspace: $2) },
                                        { large.run(input: $0, output: $1, batch: batch, workspace: $2) },
                                        "dense case \(index), batch \(batch)")
            }
        }
    }

    /// A 1x1 conv or Dense with more than two B panels whose K block of B fits `inPlaceMaxBBytes`
    /// reads A through the one-tap row table, as narrow ones do: the same floats, bit for bit, as the
    /// packed order (the limit set to 0), for 3-8 panels, a 4- and an 8-column edge panel, M not a
    /// multiple of 6, groups, and K = 300 (two K blocks, the limit raised so that they qualify).
    func testWideMatrixReadInPlaceEqualsPacked() {
        var values = SeededValues(seed: 19)
        let savedLimit = GEMMTile.inPlaceMaxBBytes
        defer { GEMMTile.inPlaceMaxBBytes = savedLimit }
        let cases: [(input: [Int], groups: Int, out: Int, limit: Int)] = [
            ([5, 7, 48], 1, 56, savedLimit), ([3, 5, 40], 1, 100, savedLimit), ([4, 5, 32], 2, 72, savedLimit),
            ([2, 3, 24], 1, 128, savedLimit), ([3, 3, 300], 1, 40, 1 << 20),
        ]
        for (index, c) in cases.enumerated() {
            let cinG = c.input[2] / c.groups
            let conv = Conv2DKernel(Conv2D(geometry: ConvGeometry(kernelH: 1, kernelW: 1, strideH: 1, strideW: 1, padding: .zero),
                                           groups: c.groups, weights: Tensor(shape: [1, 1, cinG, c.out], data: values.array(cinG * c.out)),
                                           bias: values.array(c.out), activation: .relu), inputShape: c.input)
            XCTAssertGreaterThan(conv.weights.panels, GEMMTile.inPlaceMaxPanels, "case \(index)")
            XCTAssertLessThanOrEqual(conv.weights.panels * conv.blocking.kc * GEMMTile.nr * 4, c.limit, "case \(index)")
            let dense = DenseKernel(Dense(weights: Tensor(shape: [c.input[2], c.out], data: values.array(c.input[2] * c.out)),
                                          bias: values.array(c.out), activation: .relu6), rows: c.input[0] * c.input[1])
            for batch in [1, 3] {
                let input = values.array(batch * c.input.reduce(1, *))
                let count = batch * c.input[0] * c.input[1] * c.out
                for (name, run) in [("conv", { conv.run(input: $0, output: $1, batch: batch, workspace: $2) }),
                                    ("dense", { dense.run(input: $0, output: $1, batch: batch, workspace: $2) })]
                    as [(String, (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void)] {
                    if name == "dense" && c.groups > 1 { continue }
                    forEachThreadCount { threads in
                        GEMMTile.inPlaceMaxBBytes = 0
                        let packed = runKernel(outputCount: count, workspace: 0, input: input, run)
                        GEMMTile.inPlaceMaxBBytes = c.limit
                        let inPlace = runKernel(outputCount: count, workspace: 0, input: input, run)
                        let mismatches = zip(packed, inPlace).filter { $0.bitPattern != $1.bitPattern }.count
                        XCTAssertEqual(mismatches, 0, "\(name) case \(index), batch \(batch), \(threads) threads")
                    }
                }
            }
        }
    }

    /// Weights `[k][groups * narrow]` and bias holding the first `narrow` columns of each group of
    /// `[k][groups * groupWidth]`.
    private func firstColumns(_ narrow: Int, of weights: [Float], bias: [Float], k: Int, groups: Int,
                              groupWidth: Int) -> ([Float], [Float]) {
        var w = [Float](repeating: 0, count: k * groups * narrow), b = [Float](repeating: 0, count: groups * narrow)
        for g in 0..<groups {
            for j in 0..<narrow {
                b[g * narrow + j] = bias[g * groupWidth + j]
                for kk in 0..<k { w[kk * groups * narrow + g * narrow + j] = weights[kk * groups * groupWidth + g * groupWidth + j] }
            }
        }
        return (w, b)
    }

    /// Runs both kernels at 1 and 2 threads and checks that the narrow one's outputs equal the first
    /// `narrow` of each group's `wide` outputs bit for bit.
    private func assertFirstColumnsEqual(
        pixels: Int, groups: Int, narrow: Int, wide: Int, input: [Float],
        _ small: @escaping (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
        _ large: @escaping (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
        _ message: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        forEachThreadCount { threads in
            let a = runKernel(outputCount: pixels * groups * narrow, workspace: 0, input: input, small)
            let b = runKernel(outputCount: pixels * groups * wide, workspace: 0, input: input, large)
            var mismatches = 0
            for p in 0..<pixels {
                for g in 0..<groups {
                    for j in 0..<narrow where a[(p * groups + g) * narrow + j].bitPattern != b[(p * groups + g) * wide + j].bitPattern {
                        mismatches += 1
                    }
                }
            }
            XCTAssertEqual(mismatches, 0, "\(message), \(threads) threads", file: file, line: line)
        }
    }
}
