import Foundation
import QBin
import Report

/// The warning for a conversion that measured far worse than its noise floor: it names the layer where
/// the error starts, so that a bad conversion never passes for a merely lossy one.
enum FidelityWarnings {
    /// Top-1 agreement this far below the noise floor's mean is "far below": the floor's own spread
    /// over draws is ~1 pt on 300 samples, and the recipe lands within ~1-2 pt of it where it works.
    static let agreementMargin = 0.03
    /// A layer's relative error "jumps" when it at least doubles the largest before it and grows by
    /// this much (end-to-end relative errors of a healthy 8-bit model stay below ~0.05).
    static let jumpIncrease = 0.1

    /// A weighted layer with more than this share of its weight codes at 0 has lost many of its weights
    /// to a range set by a few: Gaussian weights with the range at ~3.5 sigma leave ~1 % at 0 at 8 bits,
    /// ~20 % at 4 bits; the issue's folded layer had 84 %, dead_bn_raw's conv2 44 % at 8 bits.
    static func zeroCodeShare(bits: Int) -> Double { bits >= 6 ? 0.25 : 0.5 }

    static func belowNoiseFloor(_ e: EvaluationSummary, layers: [LayerReport], model: QModel) -> String? {
        guard let agreement = e.top1Agreement, let floor = e.noiseFloor,
              agreement < floor.top1AgreementMean - agreementMargin else { return nil }
        var line = String(format: "top-1 agreement %.2f%% is %.1f pt below the noise floor (%.2f%%: the float model under "
                          + "these grids' rounding noise alone), so the method, not the bit width, loses accuracy",
                          100 * agreement, 100 * (floor.top1AgreementMean - agreement), 100 * floor.top1AgreementMean)
        if let sqnr = e.outputSQNR { line += String(format: " (output SQNR %.1f dB)", sqnr) }
        if let (layer, before) = firstJump(layers) {
            line += String(format: "; the relative error first jumps at layer '%@' (%@): %.3g before it, %.3g after; likely cause: %@",
                           layer.name, layer.op, before, layer.outputRelativeError ?? 0, cause(layer, zeroShare: zeroCodes(model, layer.name)))
        }
        return line
    }

    /// The first layer whose end-to-end relative error at least doubles the largest before it and grows
    /// by `jumpIncrease`; failing that, the layer with the largest increase. Returns it and the error before.
    static func firstJump(_ layers: [LayerReport]) -> (LayerReport, Double)? {
        var largest = 0.0
        var best: (LayerReport, Double, Double)?
        for layer in layers {
            guard let error = layer.outputRelativeError, error.isFinite else { continue }
            let increase = error - largest
            if error >= 2 * largest, increase >= jumpIncrease { return (layer, largest) }
            if increase > (best?.2 ?? 0) { best = (layer, largest, increase) }
            largest = max(largest, error)
        }
        return best.map { ($0.0, $0.1) }
    }

    /// Share of the weight codes of op `name` that are 0 (nil for an op without a weight tensor).
    static func zeroCodes(_ model: QModel, _ name: String) -> Double? {
        guard let op = model.ops.first(where: { $0.name == name }), op.inputs.count > 1,
              let values = try? model.tensors[op.inputs[1]].unpackedValues(), !values.isEmpty else { return nil }
        return Double(values.filter { $0 == 0 }.count) / Double(values.count)
    }

    static func cause(_ layer: LayerReport, zeroShare: Double?) -> String {
        if let share = zeroShare, let bits = layer.weightBits, share > zeroCodeShare(bits: bits) {
            return String(format: "%.0f%% of its %d-bit weight codes are 0: a few large weights set the per-channel ranges and "
                          + "round the rest away (a BatchNorm folded over dead or tiny-variance channels, one outlier input "
                          + "channel; docs/quantization.md, \"Rewrites\")", 100 * share, bits)
        }
        if let bits = layer.weightBits, let sqnr = layer.weightSQNR, sqnr < 6.02 * Double(bits) - 20 {
            return String(format: "its weights quantize poorly (weight SQNR %.1f dB at %d bits): a few large weights set the "
                          + "per-channel ranges and round the rest to few levels (a BatchNorm folded over dead or tiny-variance "
                          + "channels, one outlier input channel)", sqnr, bits)
        }
        if let sqnr = layer.activationSQNR, let bits = layer.activationBits, bits <= 16, sqnr < 6.02 * Double(bits) - 25 {
            let clip = layer.clip.map { String(format: " [%.4g, %.4g] (%@)", $0.low, $0.high, $0.method) } ?? ""
            return String(format: "its output grid%@ leaves %.1f dB activation SQNR at %d bits: the clip range is far wider than "
                          + "most values (an outlier channel, inputs on the wrong scale)", clip, sqnr, bits)
        }
        return "rounding noise accumulates here; more bits for it (--layer-bits \(layer.name)=8) are the likely remedy"
    }
}
