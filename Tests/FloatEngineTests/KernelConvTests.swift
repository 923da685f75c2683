@testable import FloatEngine
import QCore
import XCTest

/// Conv2DKernel against FloatReference.conv2D over odd sizes, edge tiles, strides, dilation, groups,
/// asymmetric padding, K blocking, batch 1 and 3, and 1 and 2 workers.
final class KernelConvTests: XCTestCase {
    struct Case {
        var input: [Int]               // [H, W, C]
        var kernel: (h: Int, w: Int)
        var outChannels: Int
        var stride: (h: Int, w: Int) = (1, 1)
        var dilation: (h: Int, w: Int) = (1, 1)
        var padding: Padding2D = .zero
        var groups = 1
        var activation: Activation = .linear
    }

    static let cases: [Case] = [
        Case(input: [7, 5, 3], kernel: (3, 3), outChannels: 5, padding: Padding2D(top: 1, bottom: 1, left: 1, right: 1), activation: .relu),
        Case(input: [9, 8, 4], kernel: (3, 3), outChannels: 17, stride: (2, 2), padding: Padding2D(top: 0, bottom: 1, left: 0, right: 1)),
        Case(input: [8, 7, 2], kernel: (3, 3), outChannels: 16, dilation: (2, 2), padding: Padding2D(top: 2, bottom: 2, left: 2, right: 2), activation: .relu6),
        Case(input: [6, 6, 6], kernel: (3, 3), outChannels: 10, padding: Padding2D(top: 1, bottom: 1, left: 1, right: 1), groups: 2),
        Case(input: [5, 7, 20], kernel: (1, 1), outChannels: 33),                            // direct 1x1
        Case(input: [7, 7, 9], kernel: (1, 1), outChannels: 8, stride: (2, 2)),               // strided 1x1
        Case(input: [6, 5, 40], kernel: (3, 3), outChannels: 20, padding: Padding2D(top: 1, bottom: 1, left: 1, right: 1),
             activation: .relu),                                                             // K = 360: two K blocks
        Case(input: [9, 8, 3], kernel: (5, 3), outChannels: 7, stride: (1, 2), padding: Padding2D(top: 2, bottom: 1, left: 0, right: 2),
             activation: .sigmoid),                                                          // post-activation
        Case(input: [4, 4, 1], kernel: (3, 3), outChannels: 16, padding: Padding2D(top: 1, bottom: 1, left: 1, right: 1)),
        // Wide enough for the interior fast path of the patch packer (six pixels whose patches lie inside).
        Case(input: [12, 16, 3], kernel: (3, 3), outChannels: 16, padding: Padding2D(top: 1, bottom: 1, left: 1, right: 1)),
        Case(input: [13, 30, 5], kernel: (3, 3), outChannels: 12, stride: (2, 2), padding: Padding2D(top: 0, bottom: 1, left: 0, right: 1)),
        Case(input: [10, 20, 4], kernel: (3, 3), outChannels: 8, dilation: (2, 2), padding: Padding2D(top: 2, bottom: 2, left: 2, right: 2),
             groups: 2, activation: .relu),
        // 8 or more channels per tap: the indirect kernel (row table), panels crossing rows and padding.
        Case(input: [7, 9, 8], kernel: (3, 3), outChannels: 24, padding: Padding2D(top: 1, bottom: 1, left: 1, right: 1), activation: .relu),
        Case(input: [6, 5, 12], kernel: (3, 3), outChannels: 4, stride: (2, 2), padding: Padding2D(top: 0, bottom: 1, left: 1, right: 1)),
        Case(input: [8, 8, 32], kernel: (3, 3), outChannels: 20, padding: Padding2D(top: 1, bottom: 1, left: 1, right: 1), groups: 2),
        Case(input: [9, 9, 8], kernel: (3, 3), outChannels: 16, dilation: (2, 2), padding: Padding2D(top: 2, bottom: 2, left: 2, right: 2)),
    ]

    func testConv2DMatchesReference() {
        var values = SeededValues(seed: 1)
        for (index, c) in Self.cases.enumerated() {
            let geometry = ConvGeometry(kernelH: c.kernel.h, kernelW: c.kernel.w, strideH: c.stride.h, strideW: c.stride.w,
                                        dilationH: c.dilation.h, dilationW: c.dilation.w, padding: c.padding)
            let weightShape = [c.kernel.h, c.kernel.w, c.input[2] / c.groups, c.outChannels]
            let conv = Conv2D(geometry: geometry, groups: c.groups,
                              weights: Tensor(shape: weightShape, data: values.array(weightShape.reduce(1, *))),
                              bias: values.array(c.outChannels), activation: c.activation)
            let kernel = Conv2DKernel(conv, inputShape: c.input)
            let out = geometry.outputSize(inH: c.input[0], inW: c.input[1])
            XCTAssertEqual(kernel.outputShape, [out.h, out.w, c.outChannels], "case \(index)")
            for batch in [1, 3] {
                let input = values.array(batch * c.input.reduce(1, *))
                let expected = FloatReference.conv2D(conv, input: input, inputShape: c.input, batch: batch)
                forEachThreadCount { threads in
                    let actual = runKernel(outputCount: expected.count, workspace: kernel.workspaceCount(batch: batch), input: input) {
                        kernel.run(input: $0, output: $1, batch: batch, workspace: $2)
                    }
                    assertKernelClose(actual, expected, k: weightShape[0] * weightShape[1] * weightShape[2],
                                      "conv case \(index), batch \(batch), \(threads) threads")
                }
            }
        }
    }

    func testDepthwiseMatchesReference() {
        var values = SeededValues(seed: 2)
        let cases: [(input: [Int], kernel: Int, multiplier: Int, stride: Int, dilation: Int, padding: Padding2D, activation: Activation)] = [
            ([7, 6, 8], 3, 1, 1, 1, Padding2D(top: 1, bottom: 1, left: 1, right: 1), .relu6),
            ([9, 9, 13], 3, 1, 2, 1, Padding2D(top: 0, bottom: 1, left: 0, right: 1), .linear),   // channel tail, TF same stride 2
            ([6, 7, 5], 3, 2, 1, 1, Padding2D(top: 1, bottom: 1, left: 1, right: 1), .relu),      // multiplier 2
            ([5, 6, 3], 3, 3, 1, 1, Padding2D(top: 1, bottom: 1, left: 1, right: 1), .linear),    // multiplier 3
            ([4, 5, 2], 3, 9, 2, 1, Padding2D(top: 0, bottom: 1, left: 0, right: 1), .relu6),     // multiplier 9: two stores
            ([8, 8, 12], 3, 2, 1, 2, Padding2D(top: 2, bottom: 2, left: 1, right: 3), .tanh),     // dilation 2, asymmetric
            ([5, 5, 16], 5, 1, 1, 1, .zero, .linear),
            ([6, 6, 72], 3, 1, 1, 1, Padding2D(top: 1, bottom: 1, left: 1, right: 1), .relu),   // 64-channel blocks + tail
            ([7, 7, 40], 3, 1, 2, 1, Padding2D(top: 0, bottom: 1, left: 0, right: 1), .relu6),  // 16-lane blocks + tail, stride 2
        ]
        for (index, c) in cases.enumerated() {
            let geometry = ConvGeometry(kernelH: c.kernel, kernelW: c.kernel, strideH: c.stride, strideW: c.stride,
                                        dilationH: c.dilation, dilationW: c.dilation, padding: c.padding)
            let weightShape = [c.kernel, c.kernel, c.input[2], c.multiplier]
            let conv = DepthwiseConv2D(geometry: geometry,
                                       weights: Tensor(shape: weightShape, data: values.array(weightShape.reduce(1, *))),
                                       bias: values.array(c.input[2] * c.multiplier), activation: c.activation)
            let kernel = DepthwiseConv2DKernel(conv, inputShape: c.input)
            for batch in [1, 3] {
                let input = values.array(batch * c.input.reduce(1, *))
                let expected = FloatReference.depthwiseConv2D(conv, input: input, inputShape: c.input, batch: batch)
                XCTAssertEqual(kernel.outputShape.reduce(1, *) * batch, expected.count, "depthwise case \(index)")
                forEachThreadCount { threads in
                    let actual = runKernel(outputCount: expected.count, workspace: kernel.workspaceCount(batch: batch), input: input) {
                        kernel.run(input: $0, output: $1, batch: batch, workspace: $2)
                    }
                    assertKernelClose(actual, expected, k: c.kernel * c.kernel,
                                      "depthwise case \(index), batch \(batch), \(threads) threads")
                }
            }
        }
    }

    func testConv2DTransposeMatchesReference() {
        var values = SeededValues(seed: 3)
        // (input, kernel, stride, outChannels, output size, padding of the forward conv)
        let same = Padding2D.same(input: 14, kernel: 3, stride: 2, dilation: 1)
        let cases: [(input: [Int], kernel: Int, stride: Int, dilation: Int, outChannels: Int, output: (Int, Int), padding: Padding2D)] = [
            ([7, 7, 5], 3, 2, 1, 7, (14, 14), Padding2D(top: same.before, bottom: same.after, left: same.before, right: same.after)),
            ([5, 6, 4], 3, 1, 1, 16, (5, 6), Padding2D(top: 1, bottom: 1, left: 1, right: 1)),
            ([4, 3, 3], 4, 2, 1, 9, (10, 8), .zero),                       // valid: (in - 1) * 2 + 4
            ([4, 4, 2], 3, 1, 2, 5, (8, 8), .zero),                        // dilation 2: in + 4
            ([3, 5, 6], 3, 3, 1, 17, (9, 15), .zero),                      // stride 3, edge N
            // 8 or more input channels: the indirect kernel's row table.
            ([7, 7, 32], 3, 2, 1, 16, (14, 14), Padding2D(top: same.before, bottom: same.after, left: same.before, right: same.after)),
            ([4, 4, 12], 3, 1, 2, 9, (8, 8), .zero),                       // dilation 2, narrow N
            ([3, 4, 40], 4, 2, 1, 20, (8, 10), .zero),                     // K = 640: three K blocks of whole taps
        ]
        for (index, c) in cases.enumerated() {
            let geometry = ConvGeometry(kernelH: c.kernel, kernelW: c.kernel, strideH: c.stride, strideW: c.stride,
                                        dilationH: c.dilation, dilationW: c.dilation, padding: c.padding)
            let weightShape = [c.kernel, c.kernel, c.outChannels, c.input[2]]
            let conv = Conv2DTranspose(geometry: geometry, outputH: c.output.0, outputW: c.output.1,
                                       weights: Tensor(shape: weightShape, data: values.array(weightShape.reduce(1, *))),
                                       bias: values.array(c.outChannels), activation: index == 1 ? .relu : .linear)
            let kernel = Conv2DTransposeKernel(conv, inputShape: c.input)
            XCTAssertEqual(kernel.outputShape, [c.output.0, c.output.1, c.outChannels], "transpose case \(index)")
            for batch in [1, 3] {
                let input = values.array(batch * c.input.reduce(1, *))
                let expected = FloatReference.conv2DTranspose(conv, input: input, inputShape: c.input, batch: batch)
                forEachThreadCount { threads in
                    let actual = runKernel(outputCount: expected.count, workspace: kernel.workspaceCount(batch: batch), input: input) {
                        kernel.run(input: $0, output: $1, batch: batch, workspace: $2)
                    }
                    assertKernelClose(actual, expected, k: c.kernel * c.kernel * c.input[2],
                                      "transpose case \(index), batch \(batch), \(threads) threads")
                }
            }
        }
    }
}
