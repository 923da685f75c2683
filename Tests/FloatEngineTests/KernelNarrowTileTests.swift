@testable import FloatEngine
import QCore
import XCTest

/// The 6x8 and 6x4 micro-kernels (B panels with at most 8 or 4 valid columns) against
/// FloatReference: every width around the 4/8/16 switch points, rows that fill whole 6-row tiles
/// (in place) and rows that leave an edge tile, one and two K blocks (K = 300 starts the second
/// block from C, through the edge-tile copy when the tile is not in place), packed A (Dense) and
/// A read in place from the image (conv, interior panels), grouped convs with 4 and 2 per group.
final class KernelNarrowTileTests: XCTestCase {
    func testNarrowDenseMatchesReference() {
        var values = SeededValues(seed: 21)
        for outFeatures in [1, 3, 4, 5, 7, 8, 9, 20, 24] {
            for (inFeatures, activation) in [(9, Activation.relu6), (300, .relu)] {
                let dense = Dense(weights: Tensor(shape: [inFeatures, outFeatures], data: values.array(inFeatures * outFeatures)),
                                  bias: values.array(outFeatures), activation: activation)
                let kernel = DenseKernel(dense, rows: 1)
                for batch in [12, 13] {
                    let input = values.array(batch * inFeatures)
                    let expected = FloatReference.dense(dense, input: input, rows: batch)
                    forEachThreadCount { threads in
                        let actual = runKernel(outputCount: expected.count, workspace: 0, input: input) {
                            kernel.run(input: $0, output: $1, batch: batch, workspace: $2)
                        }
                        assertKernelClose(actual, expected, k: inFeatures,
                                          "N \(outFeatures), K \(inFeatures), batch \(batch), \(threads) threads")
                    }
                }
            }
        }
    }

    func testNarrowConvMatchesReference() {
        var values = SeededValues(seed: 22)
        let same = Padding2D(top: 1, bottom: 1, left: 1, right: 1)
        // (input, out channels, groups): N per group 8, 4, 2, 6 and 8 with K = 360 (two K blocks).
        let cases: [(input: [Int], outChannels: Int, groups: Int)] = [
            ([8, 14, 8], 8, 1), ([8, 14, 8], 8, 2), ([8, 14, 8], 8, 4), ([8, 14, 3], 6, 1), ([7, 14, 40], 8, 1),
            ([7, 14, 40], 8, 2),
        ]
        for (index, c) in cases.enumerated() {
            let geometry = ConvGeometry(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: same)
            let weightShape = [3, 3, c.input[2] / c.groups, c.outChannels]
            let conv = Conv2D(geometry: geometry, groups: c.groups,
                              weights: Tensor(shape: weightShape, data: values.array(weightShape.reduce(1, *))),
                              bias: values.array(c.outChannels), activation: .relu)
            let kernel = Conv2DKernel(conv, inputShape: c.input)
            for batch in [1, 2] {
                let input = values.array(batch * c.input.reduce(1, *))
                let expected = FloatReference.conv2D(conv, input: input, inputShape: c.input, batch: batch)
                forEachThreadCount { threads in
                    let actual = runKernel(outputCount: expected.count, workspace: 0, input: input) {
                        kernel.run(input: $0, output: $1, batch: batch, workspace: $2)
                    }
                    assertKernelClose(actual, expected, k: weightShape[0] * weightShape[1] * weightShape[2],
                                      "narrow conv case \(index), batch \(batch), \(threads) threads")
                }
            }
        }
    }
}
