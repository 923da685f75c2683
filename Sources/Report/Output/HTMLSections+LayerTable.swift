import Foundation

extension HTMLSections {
    /// Excess kurtosis above which a distribution counts as heavy-tailed (a Laplace distribution has
    /// 3; values far above it mean a few outliers set the range and waste quantization levels).
    static let heavyTailKurtosis = 10.0
    /// `max |x| / p99.9 |x|` above which the range is dominated by rare outliers.
    static let outlierRatio = 4.0
    /// SQNR below which a layer is flagged (about 2.5 effective bits of 8).
    static let lowSQNR = 15.0

    /// One row per layer: bits, clipping, errors, outliers, simulator agreement, accumulator headroom.
    static func layerTable(_ layers: [LayerReport]) -> String {
        let f = HTMLFormat.self
        let e = HTMLFormat.escape
        let header = """
        <tr><th>#</th><th class="l">layer</th><th>bits<br>W A</th><th class="l">scales</th><th>clip range</th>\
        <th>W SQNR</th><th>A SQNR</th><th>rel. error</th><th>kurtosis</th><th>|x| p99.9 / max</th>\
        <th class="l">sim = emu</th><th>LSB ±1 / ±2 / ≥3</th><th>acc. int32</th></tr>
        """
        // Long names keep both ends (the column is narrow); the cell's tooltip holds the full name.
        let labels = HTMLFormat.distinctLabels(layers.map(\.name), maxLength: 26)
        let rows = layers.enumerated().map { position, layer -> String in
            var cells: [String] = []
            cells.append("<td>\(layer.index)</td>")
            cells.append("<td class=\"l name\" title=\"\(e(layer.name))\">\(e(labels[position]))<div class=\"op\">\(e(layer.op))</div></td>")
            cells.append("<td>\(bitsBadge(layer.weightBits)) \(bitsBadge(layer.activationBits))</td>")
            let scales = layer.granularity.map { $0 == .perChannel ? "channel" : "tensor" } ?? f.missing
            cells.append("<td class=\"l\">\(scales)</td>")
            if let clip = layer.clip {
                cells.append("<td>[\(f.significant(clip.low)), \(f.significant(clip.high))]<div class=\"op\">\(e(clip.method))</div></td>")
            } else {
                cells.append("<td>\(f.missing)</td>")
            }
            cells.append("<td>\(flagged(f.decibels(layer.weightSQNR), bad: (layer.weightSQNR ?? .infinity) < lowSQNR))</td>")
            cells.append("<td>\(flagged(f.decibels(layer.activationSQNR), bad: (layer.activationSQNR ?? .infinity) < lowSQNR))</td>")
            cells.append("<td>\(relativeErrorText(layer.outputRelativeError))</td>")
            cells.append(outlierCells(layer.activationOutliers))
            cells.append(simulatorCells(layer.simulatorVsEmulation))
            cells.append("<td>\(accumulatorText(layer.accumulator))</td>")
            return "<tr>" + cells.joined() + "</tr>"
        }.joined(separator: "\n")
        return panel(title: "Layers",
                     note: "outliers: float activations on calibration data; sim = emu: bit-identical share of integer simulator vs float emulation outputs",
                     body: "<div class=\"scroll\"><table>\n\(header)\n\(rows)\n</table></div>\n")
    }

    static func bitsBadge(_ bits: Int?) -> String {
        guard let bits else { return HTMLFormat.missing }
        return "<span class=\"bits \(HTMLFormat.bitsClass(bits))\">\(bits)</span>"
    }

    static func flagged(_ text: String, bad: Bool, warn: Bool = false) -> String {
        bad ? "<span class=\"bad\">\(text)</span>" : warn ? "<span class=\"warn\">\(text)</span>" : text
    }

    private static func relativeErrorText(_ value: Double?) -> String {
        guard let value else { return HTMLFormat.missing }
        guard value.isFinite else { return "<span class=\"bad\">∞</span>" }
        if value == 0 { return "exact" }
        return flagged(HTMLFormat.percent(value, digits: value < 0.001 ? 4 : 2), bad: value > 0.25, warn: value > 0.1)
    }

    private static func outlierCells(_ stats: OutlierStats?) -> String {
        guard let stats else { return "<td>\(HTMLFormat.missing)</td><td>\(HTMLFormat.missing)</td>" }
        let kurtosis = flagged(HTMLFormat.fixed(stats.excessKurtosis, digits: 1), bad: false, warn: stats.excessKurtosis > heavyTailKurtosis)
        let maxAbs = max(abs(stats.min), abs(stats.max))
        let spread = "\(HTMLFormat.significant(stats.absP999)) / \(HTMLFormat.significant(maxAbs))"
        let ratioHigh = stats.absP999 > 0 && maxAbs / stats.absP999 > outlierRatio
        return "<td>\(kurtosis)</td><td>\(flagged(spread, bad: false, warn: ratioHigh))</td>"
    }

    private static func simulatorCells(_ histogram: LSBHistogram?) -> String {
        guard let histogram else { return "<td>\(HTMLFormat.missing)</td><td>\(HTMLFormat.missing)</td>" }
        let share = histogram.identicalShare
        let level = histogram.counts[3] > 0 || share < 0.97 ? " m-bad" : share < 0.99 ? " m-warn" : ""
        let meter = "<span class=\"meter\(level)\"><i style=\"width:\(String(format: "%.1f", share * 100))%\"></i></span>"
        let shareText = flagged(HTMLFormat.percent(share, digits: 2), bad: histogram.counts[3] > 0, warn: share < 0.97)
        let counts = histogram.counts
        let beyond = counts[3] > 0 ? "<span class=\"bad\">\(counts[3])</span>" : "0"
        return "<td class=\"l\">\(meter)\(shareText)</td><td>\(counts[1]) / \(counts[2]) / \(beyond)</td>"
    }

    private static func accumulatorText(_ check: AccumulatorCheck?) -> String {
        guard let check else { return HTMLFormat.missing }
        let headroom = check.headroomBits.map { String(format: "%.1f bits free", $0) } ?? ""
        switch check.status {
        case .ok: return "<span title=\"max |acc| \(HTMLFormat.grouped(check.boundAbs))\">ok<div class=\"op\">\(headroom)</div></span>"
        case .fallback: return "<span class=\"warn\" title=\"max |acc| \(HTMLFormat.grouped(check.boundAbs))\">fallback</span>"
        }
    }
}
