import FloatEngine
import QCore
import XCTest
@testable import Calibration

/// `InputCovariance` against the float reference kernels: for any weight row `w`, the mean of the
/// squared output of a one-row conv over every position equals `wᵀ H w` (H averaged per patch), which
/// holds only when the patches are laid out, padded and grouped exactly like the weight rows.
final class InputCovarianceTests: XCTestCase {
    func testGroupedStridedConvMatchesReferenceOutputEnergy() throws {
        var rng = SampleGenerator(seed: 7)
        let inputShape = [5, 6, 4], batch = 3, groups = 2, cinG = 2, out = 2
        let geometry = ConvGeometry(kernelH: 3, kernelW: 2, strideH: 2, strideW: 1, dilationH: 1, dilationW: 2,
                                    padding: Padding2D(top: 1, bottom: 1, left: 0, right: 2))
        let row = 3 * 2 * cinG
        let weights = rng.gaussians(row * out)
        let conv = Conv2D(geometry: geometry, groups: groups, weights: Tensor(shape: [3, 2, cinG, out], data: weights), bias: nil)
        let input = rng.gaussians(batch * inputShape.reduce(1, *))
        let cov = try XCTUnwrap(InputCovariance(op: .conv2D(conv), inputShape: inputShape, positionsPerSample: 1000))
        XCTAssertEqual(cov.size, row)
        XCTAssertEqual(cov.count, groups)
        input.withUnsafeBufferPointer { cov.add($0, batch: batch) }

        let y = FloatReference.conv2D(conv, input: input, inputShape: inputShape, batch: batch)
        let positions = y.count / out
        XCTAssertEqual(cov.patches, positions)
        for o in 0..<out {
            let w = (0..<row).map { Double(weights[$0 * out + o]) } // Keras [kh, kw, cinG, out] -> row o
            let h = cov.matrix(o / (out / groups))
            var quadratic = 0.0
            for i in 0..<row { for j in 0..<row { quadratic += w[i] * h[i * row + j] * w[j] } }
            var energy = 0.0
            for p in 0..<positions { energy += Double(y[p * out + o]) * Double(y[p * out + o]) }
            XCTAssertEqual(quadratic, energy / Double(positions), accuracy: 1e-4 * energy / Double(positions), "output channel \(o)")
        }
    }

    func testDepthwiseMatchesReferenceOutputEnergyPerChannel() throws {
        var rng = SampleGenerator(seed: 11)
        let inputShape = [4, 4, 3], batch = 2
        let geometry = ConvGeometry(kernelH: 3, kernelW: 3, padding: Padding2D(top: 1, bottom: 1, left: 1, right: 1))
        let weights = rng.gaussians(9 * 3)
        let conv = DepthwiseConv2D(geometry: geometry, weights: Tensor(shape: [3, 3, 3, 1], data: weights), bias: nil)
        let input = rng.gaussians(batch * 48).map { max($0, 0) } // post-ReLU zeros exercise the sparse skip
        let cov = try XCTUnwrap(InputCovariance(op: .depthwiseConv2D(conv), inputShape: inputShape))
        input.withUnsafeBufferPointer { cov.add($0, batch: batch) }
        let y = FloatReference.depthwiseConv2D(conv, input: input, inputShape: inputShape, batch: batch)
        for c in 0..<3 {
            let w = (0..<9).map { Double(weights[$0 * 3 + c]) }
            let h = cov.matrix(c)
            var quadratic = 0.0
            for i in 0..<9 { for j in 0..<9 { quadratic += w[i] * h[i * 9 + j] * w[j] } }
            var energy = 0.0
            for p in 0..<(y.count / 3) { energy += Double(y[p * 3 + c]) * Double(y[p * 3 + c]) }
            XCTAssertEqual(quadratic, energy / Double(y.count / 3), accuracy: 1e-4 * max(energy, 1e-6), "channel \(c)")
        }
    }

    func testSubsamplesPositionsAndSkipsOversizedRows() throws {
        let conv = Conv2D(geometry: ConvGeometry(kernelH: 1, kernelW: 1), weights: Tensor(zeros: [1, 1, 2, 2]), bias: nil)
        let cov = try XCTUnwrap(InputCovariance(op: .conv2D(conv), inputShape: [8, 8, 2], positionsPerSample: 5))
        let input = [Float](repeating: 1, count: 3 * 128)
        input.withUnsafeBufferPointer { cov.add($0, batch: 3) }
        XCTAssertEqual(cov.patches, 15)
        XCTAssertEqual(cov.matrix(0), [1, 1, 1, 1])

        let wide = Dense(weights: Tensor(zeros: [InputCovariance.maxSize + 1, 2]), bias: nil)
        XCTAssertNil(InputCovariance(op: .dense(wide), inputShape: [InputCovariance.maxSize + 1]))
        XCTAssertNil(InputCovariance(op: .flatten, inputShape: [4]))
    }
}
