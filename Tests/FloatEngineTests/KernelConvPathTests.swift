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
    /// several K blocks (cin 40, 3x3: K = 360) and groups.
    func testIndirectInPlaceAndPackedFormsGiveTheSameFloats() {
        var values = SeededValues(seed: 13)
        let cases: [(input: [Int], kernel: Int, stride: Int, dilation: Int, pad: Int, groups: Int)] = [
            ([7, 9, 8], 3, 1, 1, 1, 1),
            ([9, 14, 40], 3, 1, 1, 1, 1),
            ([8, 11, 12], 5, 2, 1, 2, 1),
            ([9, 9, 16], 3, 1, 2, 2, 1),
            ([8, 8, 32], 3, 1, 1, 1, 2),
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
}
