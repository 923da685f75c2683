import FloatEngine
import HDF5
import KerasImport
import QCTestSupport
import QCore
import XCTest
@testable import Calibration

/// Calibration of the committed resnet_bn fixture on 64 samples of its `calib.h5`.
final class FixtureCalibrationTests: XCTestCase {
    static let fixture = "resnet_bn"
    static let samples = 64

    private func collect(batchSize: Int, samples: Int = FixtureCalibrationTests.samples, progress: (Int, Int) -> Void = { _, _ in }) throws -> (Graph, [TensorStatistics], [Float]) {
        let model = try KerasImporter.load(path: Fixtures.path(Self.fixture, "model.h5"))
        let executor = try FloatExecutor(graph: model.graph, maxBatch: batchSize)
        let inputs = try HDF5File.open(Fixtures.path(Self.fixture, "calib.h5")).root.dataset("inputs")
        XCTAssertGreaterThanOrEqual(inputs.shape[0], samples)
        var seen = [Float]()
        let stats = try Calibrator.collect(executor: executor, sampleCount: samples, batchSize: batchSize,
                                           read: { start, count, buffer in
                                               try inputs.readFloats(rows: start..<start + count, into: buffer)
                                               seen.append(contentsOf: buffer)
                                           }, progress: progress)
        return (model.graph, stats, seen)
    }

    func testResNetStatisticsAreSane() throws {
        var reports: [(Int, Int)] = []
        let (graph, stats, inputs) = try collect(batchSize: 16) { reports.append(($0, $1)) }
        XCTAssertEqual(reports.map(\.0), [16, 32, 48, 64])
        XCTAssertEqual(Set(reports.map(\.1)), [64])
        XCTAssertEqual(stats.count, graph.nodes.count)

        var nonNegativeNodes = 0
        for (i, node) in graph.nodes.enumerated() {
            let s = stats[i], context = "node \(i) \(node.name) (\(node.op.name))"
            XCTAssertEqual(s.count, Self.samples * node.shape.reduce(1, *), context)
            XCTAssertEqual(s.channelMeans.count, node.shape.last, context)
            XCTAssertEqual(s.nonFiniteCount, 0, context)
            XCTAssertTrue(s.min.isFinite && s.max.isFinite && s.min <= s.max, context)
            XCTAssertGreaterThan(s.variance, 0, context)
            if case .activation(let a) = node.op, a.isNonNegative {
                nonNegativeNodes += 1
                XCTAssertTrue(s.isNonNegative, "\(context): min \(s.min)")
                XCTAssertGreaterThanOrEqual(s.percentile(0), 0, context)
            }
            for (method, bits) in ClipMethod.autoCandidates.map({ ($0, 8) }) + [(.auto, 4)] {
                do {
                    let r = s.clipRange(method: method, bits: bits)
                    let where_ = "\(context) \(method.name) \(bits) bits: [\(r.low), \(r.high)] of [\(s.min), \(s.max)]"
                    XCTAssertTrue(r.low <= 0 && r.high > 0 && r.low >= Swift.min(s.min, 0) && r.high <= Swift.max(s.max, 0), where_)
                    if s.isNonNegative { XCTAssertEqual(r.low, 0, where_) }
                    // A sane range keeps most of the tensor: at least its 90th percentile of |x|.
                    XCTAssertGreaterThanOrEqual(r.high - r.low, 0.5 * (s.percentile(90) - s.percentile(10)), where_)
                    XCTAssertTrue(r.estimatedMSE.isFinite && r.estimatedMSE >= 0, where_)
                }
            }
        }
        XCTAssertGreaterThanOrEqual(nonNegativeNodes, 5, "resnet_bn has ReLU layers")

        // The input is pixel / 255, one channel: statistics equal the raw data's.
        let input = stats[graph.inputs[0]]
        XCTAssertEqual(input.min, inputs.min())
        XCTAssertEqual(input.max, inputs.max())
        XCTAssertTrue(input.min >= 0 && input.max <= 1)
        let mean = inputs.reduce(0.0) { $0 + Double($1) } / Double(inputs.count)
        XCTAssertEqual(input.channelMeans[0], mean, accuracy: 1e-9)
    }

    /// One batch of 16 and four of 4 see the same activations: the same extremes, means and KL
    /// thresholds (the float engine's sums may differ in the last bits between batch sizes).
    func testBatchSizeDoesNotChangeStatistics() throws {
        let (graph, one, _) = try collect(batchSize: 16, samples: 16)
        let (_, eight, _) = try collect(batchSize: 4, samples: 16)
        for i in graph.nodes.indices {
            XCTAssertEqual(one[i].min, eight[i].min, accuracy: 1e-5 * one[i].absMax)
            XCTAssertEqual(one[i].max, eight[i].max, accuracy: 1e-5 * one[i].absMax)
            XCTAssertEqual(one[i].mean, eight[i].mean, accuracy: 1e-5 * Double(one[i].absMax))
            let a = one[i].clipRange(method: .kl, bits: 8), b = eight[i].clipRange(method: .kl, bits: 8)
            XCTAssertEqual(a.high, b.high, accuracy: 0.01 * one[i].absMax, graph.nodes[i].name)
        }
    }
}
