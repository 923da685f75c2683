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
}
