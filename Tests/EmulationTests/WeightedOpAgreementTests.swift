import Emulation
import FixedPoint
import QBin
import Simulator
import XCTest

/// conv2D, depthwiseConv2D, conv2DTranspose, dense and channelAffine: the emulator against the integer
/// simulator, for weight widths 2 ... 8, random geometry, weights, scales and inputs (fixed seeds).
final class WeightedOpAgreementTests: XCTestCase {
    private let trialsPerWidth = 4

    func testConv2DAgreesForEveryWeightWidth() throws {
        try sweep("conv2D") { rng, bits in
            let groups = rng.bool() ? 2 : 1
            let cinG = rng.int(1...6), coutG = rng.int(2...9)
            let (kh, kw) = (rng.int(1...3), rng.int(1...3))
            let stride = (rng.int(1...2), rng.int(1...2)), dilation = (rng.int(1...2), rng.int(1...2))
            let pad = (rng.int(0...1), rng.int(0...1), rng.int(0...1), rng.int(0...1))
            let h = rng.int(((kh - 1) * dilation.0 + 1)...8), w = rng.int(((kw - 1) * dilation.1 + 1)...8)
            let outH = (h + pad.0 + pad.1 - ((kh - 1) * dilation.0 + 1)) / stride.0 + 1
            let outW = (w + pad.2 + pad.3 - ((kw - 1) * dilation.1 + 1)) / stride.1 + 1
            return self.weighted(&rng, bits: bits, kind: .conv2D, inShape: [h, w, cinG * groups], outShape: [outH, outW, coutG * groups],
                                 weightShape: [coutG * groups, kh, kw, cinG], taps: kh * kw * cinG,
                                 attributes: window(kernel: (kh, kw), stride: stride, dilation: dilation, padding: pad)
                                    .merging(["groups": [Int32(groups)]]))
        }
    }

    func testDepthwiseConv2DAgreesForEveryWeightWidth() throws {
        try sweep("depthwiseConv2D") { rng, bits in
            let cin = rng.int(1...8), dm = rng.int(1...2)
            let (kh, kw) = (rng.int(1...3), rng.int(1...3))
            let stride = (rng.int(1...2), rng.int(1...2))
            let pad = (rng.int(0...1), rng.int(0...1), rng.int(0...1), rng.int(0...1))
            let h = rng.int(kh...8), w = rng.int(kw...8)
            let outH = (h + pad.0 + pad.1 - kh) / stride.0 + 1, outW = (w + pad.2 + pad.3 - kw) / stride.1 + 1
            return self.weighted(&rng, bits: bits, kind: .depthwiseConv2D, inShape: [h, w, cin], outShape: [outH, outW, cin * dm],
                                 weightShape: [cin * dm, kh, kw], taps: kh * kw,
                                 attributes: window(kernel: (kh, kw), stride: stride, padding: pad).merging(["depth_multiplier": [Int32(dm)]]))
        }
    }

    func testConv2DTransposeAgreesForEveryWeightWidth() throws {
        try sweep("conv2DTranspose") { rng, bits in
            let cin = rng.int(1...5), cout = rng.int(1...6)
            let (kh, kw) = (rng.int(1...3), rng.int(1...3))
            let stride = (rng.int(1...2), rng.int(1...2))
            let h = rng.int(1...5), w = rng.int(1...5)
            let pad = (rng.int(0...1), 0, rng.int(0...1), 0)
            let outH = (h - 1) * stride.0 + kh - pad.0, outW = (w - 1) * stride.1 + kw - pad.2
            return self.weighted(&rng, bits: bits, kind: .conv2DTranspose, inShape: [h, w, cin], outShape: [outH, outW, cout],
                                 weightShape: [cout, kh, kw, cin], taps: max(1, kh * kw * cin / (stride.0 * stride.1)),
                                 attributes: window(kernel: (kh, kw), stride: stride, padding: pad)
                                    .merging(["output_size": [Int32(outH), Int32(outW)]]))
        }
    }

    func testDenseAgreesForEveryWeightWidth() throws {
        try sweep("dense") { rng, bits in
            let inF = rng.int(1...96), outF = rng.int(1...24)
            let rows = rng.bool() ? [rng.int(2...3)] : []
            return self.weighted(&rng, bits: bits, kind: .dense, inShape: rows + [inF], outShape: rows + [outF],
                                 weightShape: [outF, inF], taps: inF, attributes: [:])
        }
    }

    func testChannelAffineAgreesForEveryWidth() throws {
        try sweep("channelAffine") { rng, bits in
            let c = rng.int(1...12)
            return self.weighted(&rng, bits: bits, kind: .channelAffine, inShape: [rng.int(1...4), rng.int(1...4), c], outShape: nil,
                                 weightShape: [c], taps: 1, attributes: [:])
        }
    }

    // MARK: Helpers

    /// Runs `trialsPerWidth` random models per weight width 2 ... 8, asserts agreement per model and
    /// prints the totals per width.
    private func sweep(_ name: String, _ make: (inout TestRNG, Int) -> QModel, file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = TestRNG(seed: UInt64(name.utf8.reduce(0) { $0 &* 31 &+ Int($1) }.magnitude))
        var totals: [RoundingProfile: Agreement] = [:]
        for bits in 2...8 {
            var perWidth: [RoundingProfile: Agreement] = [:]
            for trial in 0..<trialsPerWidth {
                let model = make(&rng, bits)
                let agreement = try compareWithSimulator(model, batch: 3, seed: UInt64(bits * 100 + trial))
                assertAgrees(agreement, "\(name) w\(bits) trial \(trial) \(model.ops[0].attributes)", file: file, line: line)
                for (p, a) in agreement { perWidth[p, default: Agreement()].add(a); totals[p, default: Agreement()].add(a) }
            }
            print("[emulation] \(name) w\(bits): single \(perWidth[.single]!), gemmlowp \(perWidth[.gemmlowp]!)")
        }
        print("[emulation] \(name) all widths: single \(totals[.single]!), gemmlowp \(totals[.gemmlowp]!)")
    }

    /// One weighted op with random symmetric weights of `bits`, per-channel (or per-tensor) scales, an
    /// optional bias, a random clamp, and fixed-point attributes derived from the scales.
    private func weighted(_ rng: inout TestRNG, bits: Int, kind: QOpKind, inShape: [Int], outShape: [Int]?, weightShape: [Int],
                          taps: Int, attributes: [String: [Int32]]) -> QModel {
        let (inType, zin) = randomActivation(&rng, bits: [8, 8, 4, bits][rng.int(0...3)])
        let (outType, zout) = randomActivation(&rng, bits: rng.bool() ? 8 : max(bits, 4))
        let wType = QType.signed(bits)!
        let channels = weightShape[0]
        var b = ModelBuilder()
        let sx = rng.double(0.01, 0.05)
        let x = b.input(inShape, inType, scale: Float(sx), zero: zin)
        let sw = rng.double(0.002, 0.2)
        let weightScales = rng.bool() ? (0..<channels).map { _ in Float(sw * rng.double(0.6, 1.4)) } : [Float(sw)]
        let w = b.constant("w", weightShape, wType, rng.weights(weightShape.reduce(1, *), wType), scales: weightScales)
        let sOut = outputScale(inputScale: sx, weightScale: sw, taps: taps, input: inType, weights: wType, output: outType)
        let y = b.activation("y", outShape ?? inShape, outType, scale: sOut, zero: zout)
        var inputs = [x, w]
        if kind == .channelAffine || rng.bool() {
            let spread = Int64(taps) * Int64(wType.maxValue) * 40
            inputs.append(b.constant("b", [channels], .int32, (0..<channels).map { _ in rng.int32(-spread...spread) }))
        }
        b.op(kind, inputs, y, attributes.merging(b.weightedRequant(input: x, weights: w, output: y, clamp: randomClamp(&rng, outType, zero: zout))))
        return b.finished(outputs: [y])
    }
}
