@testable import FloatEngine
import QCTestSupport
import QConvertKit
import XCTest

/// The unobserved path folds a BatchNormalization and/or activation into the convolution or dense
/// node before it (`FusionPlan`, `ChannelTail`), computing the same multiply, add and activation in
/// the same order: its outputs equal the observed path's (every node run separately) bit for bit.
final class FusionAgreementTests: XCTestCase {
    /// Fixtures with BatchNormalization after convolutions or dense layers, before or after activations,
    /// activations after convolutions, and merges (residual Add then ReLU; ops_zoo: grouped conv, Subtract,
    /// Multiply, a 3-input Add, BN after Dense).
    static let fixtures = ["resnet_bn", "seq_bn_after_act", "dwsep_relu6", "keras2_cnn", "ops_zoo", "concat_pool_leaky",
                           "zoo/mini_xception", "zoo/bn_act_raw"]

    func testFoldedAndSeparateNodesGiveTheSameFloats() throws {
        defer { Parallel.threadCount = ProcessInfo.processInfo.activeProcessorCount }
        for name in Self.fixtures {
            let model = try ModelLoader.load(path: Fixtures.path(name, "model.h5"))
            let fusion = FusionPlan(graph: model.graph)
            XCTAssertGreaterThan(fusion.folded.filter { $0 }.count, 0, "\(name): nothing folded")
            let data = try FixtureData(name)
            let executor = try FloatExecutor(graph: model.graph, maxBatch: 32)
            let perSample = data.inputs.count / data.count
            for batch in [1, 11, 37] where batch <= data.count {
                let input = Array(data.inputs.prefix(batch * perSample))
                for threads in [1, 2] {
                    Parallel.threadCount = threads
                    let separate = input.withUnsafeBufferPointer { executor.run(input: $0, batch: batch, observe: { _, _ in }) }
                    let folded = input.withUnsafeBufferPointer { executor.run(input: $0, batch: batch) }
                    XCTAssertEqual(folded.map { $0.map(\.bitPattern) }, separate.map { $0.map(\.bitPattern) },
                                   "\(name) batch \(batch), \(threads) threads: folded vs separate nodes")
                }
            }
        }
    }

    /// concat_pool_leaky's Rescaling (its sole reader the 1-channel stem, read from padded images)
    /// folds into the stem's copy of each sample; `testFoldedAndSeparateNodesGiveTheSameFloats` checks
    /// the floats.
    func testAnAffineBeforeAStemFoldsIntoItsCopy() throws {
        let graph = try ModelLoader.load(path: Fixtures.path("concat_pool_leaky", "model.h5")).graph
        let fusion = FusionPlan(graph: graph)
        let stems = fusion.heads.indices.filter { fusion.heads[$0] != nil }
        XCTAssertEqual(stems.map { graph.nodes[$0].name }, ["stem_conv"])
        let executor = try FloatExecutor(graph: graph, maxBatch: 32)
        for stem in stems {
            XCTAssertTrue(executor.fusedLayers[stem] is HeadedStemLayer)
            XCTAssertNil(executor.fusedLayers[fusion.heads[stem]!])
        }
    }

    /// A node is folded only into its sole reader's chain: not when the node before it is a graph
    /// output or has another reader. Some fixture's Add takes its ReLU.
    func testFoldingNeedsASoleReaderThatIsNotAnOutput() throws {
        var mergeTails = 0
        defer { XCTAssertGreaterThan(mergeTails, 0, "no merge took an activation in any fixture") }
        for name in Self.fixtures {
            let graph = try ModelLoader.load(path: Fixtures.path(name, "model.h5")).graph
            let fusion = FusionPlan(graph: graph)
            var readers = [Int](repeating: 0, count: graph.nodes.count)
            for node in graph.nodes { for p in node.inputs { readers[p] += 1 } }
            for (i, tail) in fusion.tails.enumerated() where !tail.isEmpty {
                if case .add = graph.nodes[i].op { mergeTails += 1 }
                for (before, node) in zip([i] + tail.dropLast(), tail) {
                    XCTAssertEqual(readers[before], 1, "\(name): \(graph.nodes[node].name) folded past a shared node")
                    XCTAssertFalse(graph.outputs.contains(before), "\(name): folded past an output")
                    XCTAssertEqual(graph.nodes[node].inputs, [before])
                }
            }
        }
    }
}
