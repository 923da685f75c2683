import FloatEngine
import KerasImport
import QCTestSupport
import QCore
@testable import Quantizer
import XCTest

/// The canonical graph computes what the imported graph computes, with BatchNorms folded and ReLUs fused.
final class GraphCanonicalizerTests: XCTestCase {
    /// Folding BN changes float rounding only: outputs agree to float precision.
    static let foldingTolerance: Float = 1e-4

    func testEveryFixtureKeepsItsFunction() throws {
        for name in Fixtures.modelNames {
            let graph = try KerasImporter.load(path: Fixtures.path(name, "model.h5")).graph
            let canonical = try GraphCanonicalizer.canonicalize(graph)
            let batch = 16
            let data = try FixtureData(name)
            let input = Array(data.inputs.prefix(batch * data.inputShape.dropFirst().reduce(1, *)))
            let original = try FloatExecutor(graph: graph, maxBatch: batch)
            let folded = try FloatExecutor(graph: canonical.graph, maxBatch: batch)
            let a = input.withUnsafeBufferPointer { original.run(input: $0, batch: batch) }[0]
            let b = input.withUnsafeBufferPointer { folded.run(input: $0, batch: batch) }[0]
            XCTAssertEqual(a.count, b.count, name)
            let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($0)) }.max() ?? 0
            XCTAssertLessThan(worst, Self.foldingTolerance, "\(name): canonical graph differs by \(worst)")
            XCTAssertFalse(canonical.graph.nodes.contains { if case .identity = $0.op { return true } else { return false } }, name)
        }
    }

    func testResnetBatchNormsFoldAndReLUsFuse() throws {
        let graph = try KerasImporter.load(path: Fixtures.path("resnet_bn", "model.h5")).graph
        let canonical = try GraphCanonicalizer.canonicalize(graph).graph
        // Six BatchNorms, each right after a conv: all folded.
        XCTAssertEqual(canonical.nodes.filter { $0.op.name == "BatchNorm" }.count, 0)
        guard case .conv2D(let stem) = canonical.nodes[canonical.index(of: "stem_conv")!].op else { return XCTFail() }
        XCTAssertEqual(stem.activation, .relu, "the ReLU after stem BN is fused into the conv")
        XCTAssertTrue(stem.hasBias, "folding gives the conv a bias")
        // The classifier's softmax is split off for the edge.
        XCTAssertEqual(canonical.nodes[canonical.outputs[0]].op, .activation(.softmax))
    }

    /// BatchNorm after an activation cannot fold backward; where a dense layer (through flatten /
    /// global pooling) or an unpadded conv reads it, it folds forward into that layer's weights.
    func testBatchNormAfterActivationFoldsForwardWhereExact() throws {
        for name in ["seq_bn_after_act", "dwsep_relu6"] {
            let graph = try KerasImporter.load(path: Fixtures.path(name, "model.h5")).graph
            let before = graph.nodes.filter { $0.op.name == "BatchNorm" }.count
            let canonical = try GraphCanonicalizer.canonicalize(graph).graph
            let after = canonical.nodes.filter { $0.op.name == "BatchNorm" }.count
            XCTAssertLessThan(after, before, "\(name): some BatchNorm folds (backward or forward)")
            XCTAssertFalse(canonical.nodes.contains { node in
                guard case .batchNorm = node.op, let reader = canonical.nodes.first(where: { $0.inputs.contains(canonical.index(of: node.name)!) }) else { return false }
                if case .dense = reader.op { return true }
                return false
            }, "\(name): no BatchNorm is left directly before a dense layer")
        }
    }
}
