import Foundation
import Ops
import QBin
import QCTestSupport
import QConvertKit
import Report
import XCTest

/// TV smoothing inserted during conversion (docs/tv-smoothing.md) and the forward-stability profile, on
/// the real fixtures: `resnet_bn`, `keras2_cnn` and the trained TV pair `tv_cnn` / `tv_cnn_plain`.
final class TVConversionTests: XCTestCase {
    static func convert(_ fixture: String, bits: Int, tv: TVSmoothingMode, in folder: URL, name: String = "m",
                        steps: Int = 1) throws -> (ConvertOutcome, FidelityReport, String) {
        let output = folder.appendingPathComponent("\(name).qbin").path
        var options = ConvertOptions.fixture(fixture, bits: bits, output: output)
        options.heldOutFraction = 0.1
        options.tvSmoothing = tv
        options.tvSteps = steps
        let outcome = try ConvertJob(options: options).run()
        try outcome.commit(json: options.resolvedReportPath, html: nil)
        return (outcome, outcome.report.report, output)
    }

    static func tvOps(_ path: String) throws -> Int {
        try QBinReader.read(path: path).ops.filter { $0.kind == TVSmoothingKind.kind }.count
    }

    /// A fixed gamma inserts one integer op per insertion point; each smoothed map stays inside the
    /// range of its input (the maximum principle), the histogram pair covers the values, and the
    /// simulator still equals the emulation.
    func testFixedGammaInsertsOneOpPerPoint() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let (_, report, path) = try Self.convert("resnet_bn", bits: 4, tv: .relative(0.02), in: folder, steps: 2)
        let tv = try XCTUnwrap(report.tvSmoothing)
        XCTAssertEqual(tv.mode, "0.02")
        XCTAssertEqual(tv.steps, 2)
        XCTAssertEqual(tv.points.map(\.layer), ["stem_conv", "b1_a_conv", "b1_out", "b2_a_conv"])
        XCTAssertEqual(try Self.tvOps(path), tv.points.count)
        for p in tv.points {
            let after = try XCTUnwrap(p.after, p.layer)
            XCTAssertEqual(try XCTUnwrap(p.gamma), 0.02 * p.before.absP999, accuracy: 1e-6 * p.before.absP999, p.layer)
            XCTAssertGreaterThanOrEqual(after.min, p.before.min - 1e-5, p.layer)
            XCTAssertLessThanOrEqual(after.max, p.before.max + 1e-5, p.layer)
            XCTAssertLessThanOrEqual(after.absP999, p.before.absP999 * 1.001, p.layer)
            let h = try XCTUnwrap(p.histogram, p.layer)
            XCTAssertEqual(h.before.count, 48)
            XCTAssertEqual(h.before.reduce(0, +), 1, accuracy: 1e-6, p.layer)
            XCTAssertEqual(try XCTUnwrap(h.after).reduce(0, +), 1, accuracy: 1e-6, p.layer)
            XCTAssertLessThanOrEqual(h.low, after.min)
            XCTAssertGreaterThanOrEqual(h.high, p.before.max)
        }
        for layer in report.layers {
            XCTAssertLessThanOrEqual(layer.simulatorVsEmulation?.maxAbsDifference ?? 0, 1, layer.name)
        }
        let html = ReportWriter.html(report)
        XCTAssertTrue(html.contains("TV smoothing (0.02, 2 steps)"))
        XCTAssertTrue(html.contains("aria-label=\"histogram before and after\""))
    }

    /// `auto` scores candidates against the float model on two halves of its scoring samples; what it
    /// reports is consistent (nothing inserted where no gamma won, chosen score <= off score), and the
    /// same inputs give byte-identical `.qbin` and report.
    func testAutoIsConsistentAndDeterministic() throws {
        let folder = try Fixtures.temporaryFolder(self)
        var runs: [(FidelityReport, Data)] = []
        for name in ["a", "b"] {
            let (_, report, path) = try Self.convert("keras2_cnn", bits: 3, tv: .auto, in: folder, name: name)
            runs.append((report, try Data(contentsOf: URL(fileURLWithPath: path))))
            let tv = try XCTUnwrap(report.tvSmoothing)
            XCTAssertEqual(tv.mode, "auto")
            XCTAssertLessThanOrEqual(try XCTUnwrap(tv.autoScoreChosen), try XCTUnwrap(tv.autoScoreOff))
            XCTAssertFalse(tv.points.isEmpty)
            for p in tv.points { XCTAssertEqual(p.gamma == nil, p.after == nil, p.layer) }
            XCTAssertEqual(try Self.tvOps(path), tv.points.filter { $0.gamma != nil }.count)
            if tv.points.allSatisfy({ $0.gamma == nil }) { XCTAssertEqual(tv.autoScoreChosen, tv.autoScoreOff) }
        }
        XCTAssertEqual(runs[0].1, runs[1].1, "auto: same .qbin bytes")
        var second = runs[1].0
        second.model = runs[0].0.model
        XCTAssertEqual(second, runs[0].0, "auto: same report")
    }

    /// The paper's setting: a CNN trained with TVSmoothing layers (tools/make_tv_fixtures.py) imports with
    /// its TV layers as integer ops and converts at its bars; its twin trained without them too.
    func testTrainedTVModelConverts() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let (_, tv8, path) = try Self.convert("tv_cnn", bits: 8, tv: .off, in: folder, name: "tv8")
        XCTAssertEqual(try Self.tvOps(path), 2, "tv1 and tv2 from the Keras model")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(tv8.evaluation?.top1Agreement), 0.99)
        let (_, tv4, _) = try Self.convert("tv_cnn", bits: 4, tv: .off, in: folder, name: "tv4")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(tv4.evaluation?.top1Agreement), 0.9)
        for layer in tv4.layers { XCTAssertLessThanOrEqual(layer.simulatorVsEmulation?.maxAbsDifference ?? 0, 1, layer.name) }
        let (_, plain, plainPath) = try Self.convert("tv_cnn_plain", bits: 8, tv: .off, in: folder, name: "plain")
        XCTAssertEqual(try Self.tvOps(plainPath), 0)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(plain.evaluation?.top1Agreement), 0.99)
    }

    /// The forward-stability profile: blocks between single-tensor cuts (resnet_bn's residual blocks
    /// are one block each, fork to add), chained (each block's input error is the previous output
    /// error), amplification = out / in, and shown in the HTML.
    func testForwardStabilityProfile() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let (_, report, _) = try Self.convert("resnet_bn", bits: 8, tv: .off, in: folder)
        let profile = try XCTUnwrap(report.forwardStability)
        XCTAssertEqual(profile.blocks.map(\.lastLayer), ["b1_add", "b2_add", "gap", "classifier"])
        XCTAssertEqual(profile.blocks.first?.firstLayer, "b1_a_conv")
        XCTAssertGreaterThan(profile.blocks[0].layerCount, 1)
        for (previous, block) in zip(profile.blocks, profile.blocks.dropFirst()) {
            XCTAssertEqual(block.inputError, previous.outputError)
        }
        for block in profile.blocks {
            XCTAssertEqual(block.amplification, block.outputError / block.inputError, accuracy: 1e-12)
            let last = try XCTUnwrap(report.layers.first { $0.name == block.lastLayer })
            XCTAssertEqual(last.outputRelativeError, block.outputError)
        }
        XCTAssertEqual(profile.maxAmplification, profile.blocks.map(\.amplification).max())
        XCTAssertTrue(ReportWriter.html(report).contains("<h2>Forward stability</h2>"))
    }
}
