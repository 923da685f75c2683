extension TensorStatistics {
    /// Chooses the clip range for quantizing to `levels = 2^bits` uniform levels (asymmetric, zero
    /// exactly representable); `bits` is clamped to 1...16. Every method's range is widened to hold
    /// zero and narrowed to `[min(min, 0), max(max, 0)]`; `low` is 0 for a non-negative tensor.
    /// The formulas of each method are in docs/calibration.md.
    public func clipRange(method: ClipMethod, bits: Int) -> ClipRange {
        let bits = Swift.min(Swift.max(bits, 1), 16)
        switch method {
        case .auto:
            var best: ClipRange?
            for candidate in ClipMethod.autoCandidates {
                let range = clipRange(method: candidate, bits: bits)
                if best == nil || range.estimatedMSE < best!.estimatedMSE { best = range }
            }
            return best!
        case .minmax: return finish(low: min, high: max, method: method, bits: bits)
        case .percentile(let p): return finish(low: percentile(100 - p), high: percentile(p), method: method, bits: bits)
        case .mse:
            let (low, high) = mseSearch(bits: bits)
            return finish(low: low, high: high, method: method, bits: bits)
        case .kl:
            let threshold = klThreshold(bits: bits)
            return finish(low: -threshold, high: threshold, method: method, bits: bits)
        case .aciq:
            let (low, high) = aciqRange(bits: bits)
            return finish(low: low, high: high, method: method, bits: bits)
        }
    }

    /// The full range `[min(min, 0), max(max, 0)]` (both 0 for an empty tensor).
    var fullRange: (low: Float, high: Float) {
        count > 0 ? (Swift.min(min, 0), Swift.max(max, 0)) : (0, 0)
    }

    /// Applies the `ClipRange` invariant and fills in the estimated MSE.
    private func finish(low: Float, high: Float, method: ClipMethod, bits: Int) -> ClipRange {
        let full = fullRange
        var l = Swift.min(Swift.max(low, full.low), 0), h = Swift.max(Swift.min(high, full.high), 0)
        if isNonNegative { l = 0 }
        if !l.isFinite { l = full.low }
        if !h.isFinite { h = full.high }
        return ClipRange(low: l, high: h, method: method.name, estimatedMSE: quantizationMSE(low: l, high: h, bits: bits))
    }
}
