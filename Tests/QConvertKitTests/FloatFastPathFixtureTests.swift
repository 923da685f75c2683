@testable import FloatEngine
import QCTestSupport
import QConvertKit
import QCore
import XCTest

/// The float engine's fast paths on a real fixture's layers and activations, at every kernel level
/// this CPU runs: each against the scalar reference (`FloatReference`) within a tolerance, and bit
/// for bit against the form it replaced.
final class FloatFastPathFixtureTests: XCTestCase {
    /// Per element, relative to `max(1, |reference|)`, before scaling by sqrt(K): float32 sums of K
    /// products in another order than the Double reference drift by a few ulps per term as a random
    /// walk (the kernel tests' `kernelRelativeTolerance`); a wrong tap, pixel or channel is off by ~0.1.
    static let relativeTolerance: Float = 1e-5

    /// The process-wide settings the tests change (kernel level, threads, the GEMM's parallel threshold,
    /// the patch-row switch, the padded images' budget), as they were before each test and restored after it.
    private var saved: (level: String, threads: Int, work: Int, patchRows: Bool, paddedFloats: Int)?

    override func setUp() {
        saved = (KernelISA.active, Parallel.threadCount, GEMMTile.minParallelWork, GEMMTile.readsPatchRows,
                 PaddedPatchPlan.maxFloats)
    }

    override func tearDown() {
        guard let saved else { return }
        try? KernelISA.select(saved.level)
        Parallel.threadCount = saved.threads
        GEMMTile.minParallelWork = saved.work
        GEMMTile.readsPatchRows = saved.patchRows
        PaddedPatchPlan.maxFloats = saved.paddedFloats
    }

    /// The activations that node `name` of `fixture` reads: its input node's output on the first
    /// `batch` test images (an observed run), with the node.
    private func nodeInput(_ fixture: String, node name: String, batch: Int) throws -> (node: Node, input: [Float], shape: [Int]) {
        let model = try ModelLoader.load(path: Fixtures.path(fixture, "model.h5"))
        let graph = model.graph
        let index = try XCTUnwrap(graph.nodes.firstIndex { $0.name == name }, "\(fixture) has no node \(name)")
        let source = graph.nodes[index].inputs[0]
        let data = try FixtureData(fixture)
        let perSample = data.inputs.count / data.count
        let executor = try FloatExecutor(graph: graph, maxBatch: batch)
        var captured: [Float] = []
        let images = Array(data.inputs.prefix(batch * perSample))
        _ = images.withUnsafeBufferPointer {
            executor.run(input: $0, batch: batch, observe: { i, output in if i == source { captured = Array(output) } })
        }
        return (graph.nodes[index], captured, graph.nodes[source].shape)
    }

    /// relu_logits_k2's conv2 (13x13x16 -> 11x11x32, 3x3 valid, relu) reads its patches from the
    /// input in place: `qc_sgemm_patch_rows` runs each block of rows in one call, 12 pixels per
    /// micro-kernel call at avx512 across its 11-pixel output rows and across samples. Against
    /// `FloatReference.conv2D`, and bit for bit against the 6-row panels (in place within a row,
    /// through the indirect kernel across rows), on 37 samples, 1 and 2 threads.
    func testStraddlingConvPatchRowsMatchTheReference() throws {
        let batch = 37
        let (node, input, shape) = try nodeInput("zoo/relu_logits_k2", node: "conv2", batch: batch)
        guard case .conv2D(let conv) = node.op else { return XCTFail("conv2 is \(node.op)") }
        let kernel = Conv2DKernel(conv, inputShape: shape)
        XCTAssertNotNil(kernel.paddedPatches)
        XCTAssertTrue(kernel.readsPaddedPatches(batch: batch))
        let expected = FloatReference.conv2D(conv, input: input, inputShape: shape, batch: batch)
        let k = conv.weights.shape[0] * conv.weights.shape[1] * conv.weights.shape[2]
        GEMMTile.minParallelWork = 0
        try assertEveryLevelAndThreads("conv2 patch rows vs 6-row panels", expected: expected, k: k, replacement: {
            GEMMTile.readsPatchRows = true
            return run(kernel, input: input, batch: batch, count: expected.count)
        }, replaced: {
            GEMMTile.readsPatchRows = false
            return run(kernel, input: input, batch: batch, count: expected.count)
        })
    }

    /// Strided convolutions whose output channels fill 16-column panels read padded images too:
    /// resnet_bn's b2_a_conv (14x14x16 -> 7x7x32, 3x3 stride 2, padded below and right) and
    /// b2_proj_conv (1x1 stride 2, the input itself as the image), tv_cnn_plain's conv3 (14x14x24 ->
    /// 7x7x32, 3x3 stride 2). Against `FloatReference.conv2D` at every level, and bit for bit against
    /// the unpadded form they replaced (packed or indirect 6-row panels), on 37 samples, 1 and 2 threads.
    func testStridedConvPatchRowsMatchTheReference() throws {
        let batch = 37
        GEMMTile.minParallelWork = 0
        for (fixture, name) in [("resnet_bn", "b2_a_conv"), ("resnet_bn", "b2_proj_conv"), ("tv_cnn_plain", "conv3")] {
            let (node, input, shape) = try nodeInput(fixture, node: name, batch: batch)
            guard case .conv2D(let conv) = node.op else { return XCTFail("\(name) is \(node.op)") }
            XCTAssertGreaterThan(conv.geometry.strideH, 1, "\(fixture) \(name)")
            let kernel = Conv2DKernel(conv, inputShape: shape)
            XCTAssertNotNil(kernel.paddedPatches, "\(fixture) \(name)")
            let expected = FloatReference.conv2D(conv, input: input, inputShape: shape, batch: batch)
            let k = conv.weights.shape[0] * conv.weights.shape[1] * conv.weights.shape[2]
            try assertEveryLevelAndThreads("\(fixture) \(name) padded vs unpadded", expected: expected, k: k, replacement: {
                PaddedPatchPlan.maxFloats = 1 << 30
                XCTAssertTrue(kernel.readsPaddedPatches(batch: batch))
                return run(kernel, input: input, batch: batch, count: expected.count)
            }, replaced: {
                PaddedPatchPlan.maxFloats = -1
                return run(kernel, input: input, batch: batch, count: expected.count)
            })
        }
    }

    /// sepconv_wide's 3x3 depthwise convs (14x14x16 at stride 1, 14x14x32 at stride 2, both padded)
    /// on their real inputs: at avx512 four interior pixels run at once, four interleaved chains, each
    /// in one pixel's order. Against `FloatReference.depthwiseConv2D` at every level, and bit for bit
    /// between the levels (each pixel's chain is the same FMAs in the same order at avx2 and avx512).
    func testDepthwiseInteriorBlocksMatchTheReference() throws {
        let batch = 11
        Parallel.threadCount = 1
        for name in ["sep1/depthwise", "sep2/depthwise"] {
            let (node, input, shape) = try nodeInput("zoo/sepconv_wide", node: name, batch: batch)
            guard case .depthwiseConv2D(let conv) = node.op else { return XCTFail("\(name) is \(node.op)") }
            let kernel = DepthwiseConv2DKernel(conv, inputShape: shape)
            let expected = FloatReference.depthwiseConv2D(conv, input: input, inputShape: shape, batch: batch)
            let k = conv.geometry.kernelH * conv.geometry.kernelW
            try assertEveryLevel(name, expected: expected, k: k) {
                run(count: expected.count, input: input) { kernel.run(input: $0, output: $1, batch: batch, workspace: $2) }
            }
        }
    }

    /// Stems read from padded images run each output row in one `qc_sgemm_row_inplace` call, at avx512
    /// in blocks of up to 14 pixels as even as they come: relu_logits_k2's conv1 (26-pixel rows, 13 + 13)
    /// and sepconv_wide's stem (stride 2, 14-pixel rows) on their real images. Against
    /// `FloatReference.conv2D` at every level, and bit for bit between the levels (the 6-pixel kernels
    /// of avx2 and these blocks compute each output's FMA chain in the same order).
    func testStemRowBlocksMatchTheReference() throws {
        let batch = 11
        Parallel.threadCount = 1
        for (fixture, name) in [("zoo/relu_logits_k2", "conv1"), ("zoo/sepconv_wide", "stem")] {
            let (node, input, shape) = try nodeInput(fixture, node: name, batch: batch)
            guard case .conv2D(let conv) = node.op else { return XCTFail("\(name) is \(node.op)") }
            let kernel = Conv2DKernel(conv, inputShape: shape)
            XCTAssertNotNil(kernel.paddedImage, "\(fixture) \(name)")
            let expected = FloatReference.conv2D(conv, input: input, inputShape: shape, batch: batch)
            let k = conv.weights.shape[0] * conv.weights.shape[1] * conv.weights.shape[2]
            try assertEveryLevel("\(fixture) \(name)", expected: expected, k: k) {
                run(kernel, input: input, batch: batch, count: expected.count)
            }
        }
    }

    /// `compute()` at every level the CPU runs: within `relativeTolerance * sqrt(k)` of `expected` (the
    /// reference), and the avx512 levels bit for bit the avx2 level (the same FMA chains in the same order).
    private func assertEveryLevel(_ name: String, expected: [Float], k: Int, _ compute: () -> [Float],
                                  file: StaticString = #filePath, line: UInt = #line) throws {
        var outputs: [String: [Float]] = [:]
        for level in KernelISA.available {
            try KernelISA.select(level)
            let actual = compute()
            assertNearReference(actual, expected, k: k, "\(name), \(level)", file: file, line: line)
            outputs[level] = actual
        }
        guard let avx2 = outputs["avx2"] else { return }
        for level in ["avx512", "avx512vnni"] {
            guard let wide = outputs[level] else { continue }
            let mismatches = zip(avx2, wide).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(mismatches, 0, "\(name): \(level) vs avx2", file: file, line: line)
        }
    }

    /// At every level the CPU runs, on 1 and 2 threads: `replacement()` within `relativeTolerance *
    /// sqrt(k)` of `expected` (the reference), and bit for bit `replaced()`, the form it replaced.
    private func assertEveryLevelAndThreads(_ name: String, expected: [Float], k: Int, replacement: () -> [Float],
                                            replaced: () -> [Float], file: StaticString = #filePath,
                                            line: UInt = #line) throws {
        for level in KernelISA.available {
            try KernelISA.select(level)
            for threads in [1, 2] {
                Parallel.threadCount = threads
                let new = replacement(), old = replaced()
                assertNearReference(new, expected, k: k, "\(name), \(level), \(threads) threads", file: file, line: line)
                let mismatches = zip(new, old).filter { $0.bitPattern != $1.bitPattern }.count
                XCTAssertEqual(mismatches, 0, "\(name), \(level), \(threads) threads", file: file, line: line)
            }
        }
    }

    /// Every element of `actual` within `relativeTolerance * sqrt(k) * max(1, |reference|)` of `expected`.
    private func assertNearReference(_ actual: [Float], _ expected: [Float], k: Int, _ context: String,
                                     file: StaticString, line: UInt) {
        let scale = Self.relativeTolerance * Float(k).squareRoot()
        let worst = actual.indices.first { !(abs(actual[$0] - expected[$0]) <= scale * max(1, abs(expected[$0]))) }
        XCTAssertNil(worst, "\(context): element \(worst ?? -1): "
                     + "\(worst.map { "\(actual[$0]) vs reference \(expected[$0])" } ?? "")", file: file, line: line)
    }

    private func run(_ kernel: Conv2DKernel, input: [Float], batch: Int, count: Int) -> [Float] {
        run(count: count, input: input) { kernel.run(input: $0, output: $1, batch: batch, workspace: $2) }
    }

    /// `body(input, output, workspace)` on a NaN-filled output, so an element a kernel forgets to write fails.
    private func run(count: Int, input: [Float],
                     _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        var output = [Float](repeating: .nan, count: count)
        var scratch: [Float] = [0]
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in
                scratch.withUnsafeMutableBufferPointer { s in body(i.baseAddress!, o.baseAddress!, s.baseAddress!) }
            }
        }
        return output
    }
}
