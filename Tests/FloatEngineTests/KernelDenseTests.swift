@testable import FloatEngine
import QCore
import XCTest

/// DenseKernel against FloatReference.dense, and FloatReference.gemm against hand values.
final class KernelDenseTests: XCTestCase {
    func testReferenceGEMMHandValues() {
        // [1 2; 3 4; 5 6] * [1 0 2; 0 1 3]
        let c = FloatReference.gemm(a: [1, 2, 3, 4, 5, 6], b: [1, 0, 2, 0, 1, 3], m: 3, n: 3, k: 2)
        XCTAssertEqual(c, [1, 2, 8, 3, 4, 18, 5, 6, 28])
    }

    func testDenseMatchesReference() {
        var values = SeededValues(seed: 4)
        // (rows per sample, in, out, activation): edge N, K blocking (300, 600), softmax after the GEMM.
        let cases: [(rows: Int, inFeatures: Int, outFeatures: Int, activation: Activation)] = [
            (1, 300, 37, .relu), (5, 7, 16, .linear), (1, 64, 10, .softmax), (13, 600, 48, .relu6), (2, 1, 1, .linear),
        ]
        for (index, c) in cases.enumerated() {
            let dense = Dense(weights: Tensor(shape: [c.inFeatures, c.outFeatures], data: values.array(c.inFeatures * c.outFeatures)),
                              bias: values.array(c.outFeatures), activation: c.activation)
            let kernel = DenseKernel(dense, rows: c.rows)
            for batch in [1, 3] {
                let input = values.array(batch * c.rows * c.inFeatures)
                let expected = FloatReference.dense(dense, input: input, rows: batch * c.rows)
                forEachThreadCount { threads in
                    let actual = runKernel(outputCount: expected.count, workspace: kernel.workspaceCount(batch: batch), input: input) {
                        kernel.run(input: $0, output: $1, batch: batch, workspace: $2)
                    }
                    assertKernelClose(actual, expected, k: c.inFeatures, "dense case \(index), batch \(batch), \(threads) threads")
                }
            }
        }
    }
}
