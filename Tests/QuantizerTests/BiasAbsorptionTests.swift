import Calibration
import FloatEngine
import HDF5
import KerasImport
import QCTestSupport
import QCore
@testable import Quantizer
import XCTest

/// Bias absorption (`BiasAbsorption`) on a real fixture: exact in float on the calibration inputs it
/// was measured on, and declined where the reader pads with zeros.
final class BiasAbsorptionTests: XCTestCase {
    /// The rewrite only reassociates float sums (the bias correction is summed in Double, the layers
    /// then add shifted values): outputs agree to float rounding, relative to max(1, |value|).
    static let tolerance: Float = 1e-4
    static let samples = 64

    /// zoo/sepconv_wide and zoo/mini_xception (residual adds), canonicalized and equalized as the recipe
    /// does: their depthwise -> pointwise pairs (linear, centred) are absorbed; every node keeps its
    /// values on the calibration inputs, except the shifted ones, which hold exactly `value - c` per channel.
    func testAbsorptionIsExactOnCalibrationInputs() throws {
        for fixture in ["zoo/sepconv_wide", "zoo/mini_xception"] { try checkExact(fixture) }
    }

    private func checkExact(_ fixture: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let imported = try KerasImporter.load(path: Fixtures.path(fixture, "model.h5")).graph
        let graph = CrossLayerEqualization.equalize(try GraphCanonicalizer.canonicalize(imported).graph).graph
        let inputs = try HDF5File.open(Fixtures.path(fixture, "calib.h5")).root.dataset("inputs")
        let sampleSize = inputs.shape.dropFirst().reduce(1, *)
        var input = [Float](repeating: 0, count: Self.samples * sampleSize)
        try input.withUnsafeMutableBufferPointer { try inputs.readFloats(rows: 0..<Self.samples, into: $0) }

        let executor = try FloatExecutor(graph: graph, maxBatch: Self.samples)
        let statistics = try Calibrator.collect(executor: executor, sampleCount: Self.samples, batchSize: Self.samples) { start, count, buffer in
            for i in 0..<(count * sampleSize) { buffer[i] = input[start * sampleSize + i] }
        }
        let absorbed = BiasAbsorption.absorb(graph) { (statistics[$0].channelMins, statistics[$0].channelMaxs) }
        XCTAssertFalse(absorbed.pairs.isEmpty, "\(fixture) has absorbable pairs", file: file, line: line)
        XCTAssertTrue(absorbed.pairs.contains { $0.shifts.contains { $0 != 0 } }, "\(absorbed.pairs)", file: file, line: line)
        XCTAssertEqual(absorbed.graph.nodes.map(\.name), graph.nodes.map(\.name))

        func values(_ g: Graph) throws -> [[Float]] {
            let e = try FloatExecutor(graph: g, maxBatch: Self.samples)
            var all = [[Float]](repeating: [], count: g.nodes.count)
            _ = input.withUnsafeBufferPointer { e.run(input: $0, batch: Self.samples) { node, v in all[node] = Array(v) } }
            return all
        }
        let before = try values(graph), after = try values(absorbed.graph)
        var shifts: [Int: [Float]] = [:]
        for pair in absorbed.pairs { for k in pair.shiftedNodes { shifts[k] = pair.shifts } }
        for k in graph.nodes.indices {
            let c = shifts[k]
            var worst: Float = 0
            for i in before[k].indices {
                let expected = before[k][i] - (c.map { $0[i % $0.count] } ?? 0)
                worst = max(worst, abs(after[k][i] - expected) / max(1, abs(expected)))
            }
            XCTAssertLessThan(worst, Self.tolerance, "\(fixture) node \(graph.nodes[k].name)\(c == nil ? "" : " (shifted)") differs by \(worst)", file: file, line: line)
            // A shifted ReLU channel starts at 0 on the calibration data: nothing was cut.
            if let c, case .conv2D(let conv) = graph.nodes[k].op, conv.activation == .relu {
                let channels = c.count
                for ch in 0..<channels where c[ch] > 0 {
                    let lowest = stride(from: ch, to: after[k].count, by: channels).map { after[k][$0] }.min() ?? 0
                    XCTAssertEqual(lowest, 0, accuracy: Self.tolerance * max(1, c[ch]), "\(graph.nodes[k].name) channel \(ch)")
                }
            }
        }
    }

    /// A reader that pads with zeros is declined: a padded tap would read 0 where the shifted tensor
    /// stands for `-c`. (resnet_bn's 3x3 convs all pad `same`.)
    func testPaddedReaderIsDeclined() throws {
        let imported = try KerasImporter.load(path: Fixtures.path("resnet_bn", "model.h5")).graph
        let graph = try GraphCanonicalizer.canonicalize(imported).graph
        // Every channel shifted by 1: as if calibration had seen each channel >= 1.
        let absorbed = BiasAbsorption.absorb(graph) { k in
            let c = graph.nodes[k].shape.last ?? 1
            return ([Float](repeating: 1, count: c), [Float](repeating: 2, count: c))
        }
        let padded = CrossLayerEqualization.pairs(graph).filter { ModelBuilder.hasZeroPadding(graph.nodes[$0.consumer].op) }
        XCTAssertFalse(padded.isEmpty, "resnet_bn has pairs into padded convs")
        for pair in padded {
            XCTAssertTrue(absorbed.declined.contains { $0.producer == graph.nodes[pair.producer].name }, graph.nodes[pair.producer].name)
            XCTAssertFalse(absorbed.pairs.contains { $0.producer == graph.nodes[pair.producer].name })
        }
    }
}
