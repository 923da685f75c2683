import FixedPoint
import FloatEngine
import KerasImport
@testable import Ops
import QCTestSupport
import QCore
@testable import Simulator
import XCTest

/// The integer TV op against the float flow on real feature maps: the ReLU maps that the trained
/// fixtures/tv_cnn feeds its TV layers (conv1, 28 x 28 x 16; conv2, 14 x 14 x 24), from the float
/// engine on 8 test images, quantized to u8 with their own range. Same bound as the synthetic maps.
final class TVSmoothingRealMapTests: XCTestCase {
    override func setUp() { OpRegistry.install() }

    func testRealMapsWithinOneStep() throws {
        let graph = try KerasImporter.load(path: Fixtures.path("tv_cnn", "model.h5")).graph
        let data = try FixtureData("tv_cnn")
        let batch = 8
        let inputs = Array(data.inputs[0..<batch * data.inputs.count / data.count])
        let executor = try FloatExecutor(graph: graph, maxBatch: batch)
        var maps: [String: [Float]] = [:]
        let wanted = ["conv1", "conv2"]
        _ = inputs.withUnsafeBufferPointer { x in
            executor.run(input: x, batch: batch) { node, values in
                if wanted.contains(graph.nodes[node].name) { maps[graph.nodes[node].name] = Array(values) }
            }
        }
        for name in wanted {
            let map = try XCTUnwrap(maps[name], name)
            let shape = try XCTUnwrap(graph.index(of: name).map { graph.nodes[$0].shape })
            let scale = Double(map.max()!) / 255
            let input = map.map { Int32(min(255, max(0, (Double($0) / scale).rounded()))) }
            // The trained layers' own setting (gamma 0.05, 2 steps) and stronger smoothing, relative to the map.
            for (gamma, steps) in [(0.05, 2), (0.02 * scale * 255, 1), (0.05 * scale * 255, 4)] {
                let k = TVSmoothingTests.Case(h: shape[0], w: shape[1], c: shape[2], inScale: scale, outScale: scale,
                                              gamma: gamma, steps: steps)
                for profile in RoundingProfile.allCases {
                    let r = try TVSmoothingTests.measure(k, input: input, batch: batch, profile: profile)
                    print("[tv] real \(name) gamma \(String(format: "%.3g", gamma)) steps \(steps) \(profile): max \(r.max) steps, "
                          + String(format: "%.3f", 100 * r.differing) + " % differ")
                    XCTAssertLessThanOrEqual(r.max, TVSmoothingTests.maxOutputStepError, "\(name) gamma \(gamma) steps \(steps) \(profile)")
                }
            }
        }
    }
}
