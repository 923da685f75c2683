import Calibration
import Foundation
import QCore

/// Warnings for inputs on the wrong scale, the commonest silent failure of a conversion: calibration
/// data scaled 0..255 for a model trained on 0..1 (or the reverse) calibrates every range for values
/// the model never sees, and agreement collapses with nothing else looking wrong.
enum InputScaleCheck {
    /// Spans further apart than this factor are called a mismatch: pixel/255 against raw pixels is 255x,
    /// [-1, 1] against [0, 1] 2x (not flagged), two random draws of one distribution ~1x.
    static let spanRatio: Double = 8

    /// Least and largest value of every sample of `source`, read in batches.
    static func range(of source: any SampleSource, batchSize: Int) throws(QConvertError) -> (low: Float, high: Float) {
        var low = Float.infinity, high = -Float.infinity
        var buffer = [Float](repeating: 0, count: max(1, batchSize) * source.sampleSize)
        var start = 0
        while start < source.count {
            let n = min(max(1, batchSize), source.count - start)
            try buffer.withUnsafeMutableBufferPointer { b throws(QConvertError) in
                let rows = UnsafeMutableBufferPointer(rebasing: b[0..<n * source.sampleSize])
                try source.read(start..<start + n, into: rows)
                for v in rows where v.isFinite { low = min(low, v); high = max(high, v) }
            }
            start += n
        }
        return (low, high)
    }

    /// A warning when the calibration and evaluation inputs span ranges `spanRatio` or more apart in
    /// width, or do not overlap at all.
    static func compare(calibration c: (low: Float, high: Float), evaluation e: (low: Float, high: Float)) -> String? {
        guard c.low.isFinite, c.high.isFinite, e.low.isFinite, e.high.isFinite else { return nil }
        let cw = Double(c.high - c.low), ew = Double(e.high - e.low)
        let ratio = cw > 0 && ew > 0 ? max(cw / ew, ew / cw) : 1
        let disjoint = c.high < e.low || e.high < c.low
        guard ratio >= spanRatio || disjoint else { return nil }
        let how = ratio >= spanRatio ? String(format: "spans %.0fx apart", ratio) : "do not overlap"
        return "calibration inputs lie in \(text(c)) but evaluation inputs in \(text(e)) (\(how)): the two files are "
            + "probably scaled differently (e.g. pixel/255 against raw 0..255); every range was calibrated for the "
            + "calibration scale, so scale both files as the model was trained"
    }

    /// A warning when the first BatchNorm of `original` saw, in training, inputs of a spread `spanRatio`
    /// or more away from what `inputs` produce there (from `statistics` of the canonical graph).
    ///
    /// A BatchNorm's moving statistics record the distribution of its input in training: per channel
    /// mean `m_c` and variance `v_c`, so across channels the tensor's variance is `E[v_c + m_c^2] -
    /// E[m_c]^2`. When the BatchNorm was folded backward into the op before it, the canonical node holds
    /// its output instead, whose training distribution is `N(beta_c, gamma_c^2)`.
    static func batchNormCheck(original: Graph, nodeMap: [Int], statistics: [TensorStatistics],
                               inputs: String) -> String? {
        guard let (i, bn) = original.nodes.enumerated().lazy.compactMap({ (i, n) -> (Int, BatchNorm)? in
            if case .batchNorm(let bn) = n.op { return (i, bn) } else { return nil }
        }).first else { return nil }
        let producer = original.nodes[i].inputs[0]
        // Folded backward (into a weighted op with no activation of its own): the canonical node holds the
        // BatchNorm's output. Otherwise (after an activation, folded forward or kept) it holds its input.
        let foldedBackward = nodeMap[producer] == nodeMap[i] && linearWeighted(original.nodes[producer].op)
        let target = nodeMap[producer]
        guard statistics.indices.contains(target), statistics[target].count > 0,
              statistics[target].channels == bn.channels else { return nil }
        var meanOfSquares = 0.0, mean = 0.0
        for c in 0..<bn.channels {
            let m = Double(foldedBackward ? bn.beta[c] : bn.mean[c])
            let v = foldedBackward ? Double(bn.gamma[c] * bn.gamma[c]) : Double(bn.variance[c])
            meanOfSquares += v + m * m
            mean += m
        }
        let n = Double(bn.channels)
        let expected = (max(meanOfSquares / n - (mean / n) * (mean / n), 0)).squareRoot()
        let seen = max(statistics[target].variance, 0).squareRoot()
        guard expected > 0, seen > 0 else { return nil }
        // A fused ReLU after a backward-folded BatchNorm cuts its output: the spread shrinks by a small
        // factor (about 2 for a centred channel), well inside `spanRatio`.
        let ratio = max(expected / seen, seen / expected)
        guard ratio >= spanRatio else { return nil }
        let name = original.nodes[i].name
        let side = foldedBackward ? "output" : "input"
        return String(format: "%@ give the first BatchNorm '%@' an %@ spread (std) of %.3g, but its training statistics "
                      + "say %.3g (%.0fx %@): the model was probably trained on inputs scaled differently",
                      inputs, name, side, seen, expected, ratio, seen > expected ? "larger" : "smaller")
    }

    static func linearWeighted(_ op: Op) -> Bool {
        switch op {
        case .conv2D(let c): return c.activation == .linear
        case .depthwiseConv2D(let c): return c.activation == .linear
        case .conv2DTranspose(let c): return c.activation == .linear
        case .dense(let d): return d.activation == .linear
        default: return false
        }
    }

    static func text(_ r: (low: Float, high: Float)) -> String {
        String(format: "%.4g ... %.4g", r.low, r.high)
    }
}

extension InputScaleCheck {
    /// Every input-scale warning of a conversion: calibration against evaluation inputs (when both are
    /// files of their own), and the calibration (or synthetic) inputs against the first BatchNorm.
    static func warnings(options o: ConvertOptions, original: Graph, canonical: Graph, nodeMap: [Int],
                         statistics: [TensorStatistics], evaluation: (any SampleSource)?) throws(QConvertError) -> [String] {
        var out: [String] = []
        guard let input = canonical.inputs.first, statistics.indices.contains(input) else { return out }
        let calibration = (low: statistics[input].min, high: statistics[input].max)
        if o.calibrationPath != nil, o.evaluationPath != nil, let evaluation {
            if let w = compare(calibration: calibration, evaluation: try range(of: evaluation, batchSize: o.batchSize)) { out.append(w) }
        }
        let what = o.calibrationPath == nil ? "synthetic inputs in \(text(calibration))" : "calibration inputs in \(text(calibration))"
        if let w = batchNormCheck(original: original, nodeMap: nodeMap, statistics: statistics, inputs: what) { out.append(w) }
        return out
    }
}
