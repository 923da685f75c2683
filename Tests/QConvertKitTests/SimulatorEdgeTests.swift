import Foundation
import QBin
import QCTestSupport
import QConvertKit
import Simulator
import XCTest

/// `IntegerSimulator.run(input:batch:)` (edges quantized and dequantized in each worker, activations in
/// reused arenas, results written in place) against the plain path: the per-value edges around the
/// reference kernels' `runQuantized` on one thread.
final class SimulatorEdgeTests: XCTestCase {
    func testRunEqualsPerValueEdgesAroundTheReference() throws {
        let folder = try Fixtures.temporaryFolder(self)
        for (fixture, bits) in [("resnet_bn", 8), ("keras2_cnn", 4)] {
            let (_, _, path) = try ConvertFixtureTests.convert(fixture, bits: bits, in: folder, evalSamples: false)
            let model = try QBinReader.read(path: path)
            let reference = try IntegerSimulator(model: model, rounding: .gemmlowp, maxBatch: 32, reference: true)
            reference.threads = 1
            let fast = try IntegerSimulator(model: model, rounding: .gemmlowp, maxBatch: 32)
            let inputTensor = model.tensors[model.inputs[0]]
            let samples = try SampleFile(path: Fixtures.path(fixture, "data.h5"), dataset: "inputs", expectedShape: fast.inputShape)
            let size = samples.sampleSize
            var images = [Float](repeating: 0, count: 37 * size)
            try images.withUnsafeMutableBufferPointer { try samples.read(0..<37, into: $0) }
            // Values the images never hold, to reach every branch of the input edge.
            let hard: [Float] = [.nan, .infinity, -.infinity, 1e30, -1e30, -0, 0.5 * inputTensor.scales[0], -2.5 * inputTensor.scales[0]]
            for (i, x) in hard.enumerated() { images[i * 7] = x; images[size + i * 5] = x }

            for batch in [1, 3, 8, 32, 37] {
                let quantized = images[0..<(batch * size)].map { inputTensor.quantizeEdge($0) }
                let expected = zip(model.outputs, reference.runQuantized(input: quantized, batch: batch, observe: nil)).map { t, values in
                    values.map { model.tensors[t].dequantizeEdge($0).bitPattern }
                }
                for threads in [1, 2] {
                    fast.threads = threads
                    let got = images.withUnsafeBufferPointer { fast.run(input: $0, batch: batch) }
                    XCTAssertEqual(got.map { $0.map(\.bitPattern) }, expected, "\(fixture) W\(bits): batch \(batch), \(threads) threads")
                    // A second call reuses the arenas of the first.
                    let again = images.withUnsafeBufferPointer { fast.run(input: $0, batch: batch) }
                    XCTAssertEqual(again.map { $0.map(\.bitPattern) }, expected, "\(fixture) W\(bits): batch \(batch), \(threads) threads, again")
                }
            }
        }
    }
}
