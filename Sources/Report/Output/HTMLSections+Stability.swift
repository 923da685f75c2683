import Foundation

extension HTMLSections {
    /// Block amplification above which a block is flagged: it more than doubles the error entering it.
    static let highAmplification = 2.0

    /// The forward-stability table: one row per block (docs/report.md, `forwardStability`).
    static func forwardStability(_ profile: ForwardStability) -> String {
        let f = HTMLFormat.self
        let e = HTMLFormat.escape
        let header = "<tr><th>#</th><th class=\"l\">block (first … last layer)</th><th>layers</th><th>error in</th>"
            + "<th>error out</th><th>amplification</th></tr>"
        let rows = profile.blocks.enumerated().map { k, b -> String in
            let span = b.firstLayer == b.lastLayer ? e(b.firstLayer) : "\(e(b.firstLayer)) … \(e(b.lastLayer))"
            return "<tr><td>\(k)</td><td class=\"l name\" title=\"\(span)\">\(span)</td><td>\(b.layerCount)</td>"
                + "<td>\(f.percent(b.inputError, digits: 3))</td><td>\(f.percent(b.outputError, digits: 3))</td>"
                + "<td>\(flagged(f.fixed(b.amplification, digits: 2) + "×", bad: b.amplification > highAmplification))</td></tr>"
        }
        let summary = "max \(f.fixed(profile.maxAmplification, digits: 2))×, geometric mean \(f.fixed(profile.geometricMeanAmplification, digits: 2))×"
        return panel(title: "Forward stability",
                     note: "how much each block (a residual block, or one op of a chain) magnifies the relative error entering it, "
                        + "its own quantization included; \(summary)",
                     body: "<div class=\"scroll\"><table>\n\(header)\n\(rows.joined(separator: "\n"))\n</table></div>\n")
    }

    /// TV smoothing: per insertion point its gamma, outlier statistics before → after and a histogram pair.
    static func tvSmoothing(_ tv: TVSmoothingReport) -> String {
        let f = HTMLFormat.self
        let e = HTMLFormat.escape
        var body = ""
        if let off = tv.autoScoreOff, let chosen = tv.autoScoreChosen {
            body += "<p class=\"note\">auto: output MSE against the float model \(f.significant(off)) without smoothing, "
                + "\(f.significant(chosen)) with the chosen plan</p>\n"
        }
        let header = "<tr><th class=\"l\">layer</th><th>gamma</th><th>range</th><th>|x| p99.9</th><th>kurtosis</th>"
            + "<th>clipped</th><th class=\"l\">histogram (log share; grey before, blue after)</th></tr>"
        let rows = tv.points.map { p -> String in
            func pair(_ a: String, _ b: String?) -> String { b.map { "\(a) → \($0)" } ?? a }
            let range = { (s: TVMapStatistics) in "[\(f.significant(s.min)), \(f.significant(s.max))]" }
            return "<tr><td class=\"l name\" title=\"\(e(p.layer))\">\(e(p.layer))</td>"
                + "<td>\(p.gamma.map { f.significant($0) } ?? "none")</td>"
                + "<td>\(pair(range(p.before), p.after.map(range)))</td>"
                + "<td>\(pair(f.significant(p.before.absP999), p.after.map { f.significant($0.absP999) }))</td>"
                + "<td>\(pair(f.fixed(p.before.excessKurtosis, digits: 1), p.after.map { f.fixed($0.excessKurtosis, digits: 1) }))</td>"
                + "<td>\(pair(f.percent(p.before.clippedShare, digits: 3), p.after.map { f.percent($0.clippedShare, digits: 3) }))</td>"
                + "<td class=\"l\">\(p.histogram.map(SVGCharts.histogramPair) ?? f.missing)</td></tr>"
        }
        body += "<div class=\"scroll\"><table>\n\(header)\n\(rows.joined(separator: "\n"))\n</table></div>\n"
        return panel(title: "TV smoothing (\(e(tv.mode)), \(tv.steps) step\(tv.steps == 1 ? "" : "s"))",
                     note: "insertion points: the maps a convolution reads; statistics of the calibration values before → after smoothing",
                     body: body)
    }
}

extension SVGCharts {
    /// Smallest share the histogram's log axis shows (1 value in a million).
    static let histogramFloor = 1e-6

    /// A small inline chart of two histograms on one axis: bars before (grey), a step line after (blue),
    /// shares on a log scale from `histogramFloor` to 1 so that rare outliers stay visible.
    static func histogramPair(_ h: TVHistogramPair) -> String {
        let width = 240.0, height = 64.0, base = 52.0, plot = 48.0
        let bins = max(h.before.count, 1)
        let w = width / Double(bins)
        let span = -log10(histogramFloor)
        func y(_ share: Double) -> Double { share <= histogramFloor ? base : base - plot * min(1, (log10(share) + span) / span) }
        func c(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = "<svg viewBox=\"0 0 \(c(width)) \(c(height))\" style=\"width:240px\" role=\"img\" aria-label=\"histogram before and after\">"
        for (k, share) in h.before.enumerated() where share > histogramFloor {
            svg += "<rect fill=\"#afb8c1\" x=\"\(c(Double(k) * w))\" y=\"\(c(y(share)))\" width=\"\(c(max(w - 0.4, 0.4)))\" height=\"\(c(base - y(share)))\"/>"
        }
        if let after = h.after {
            var d = "M0,\(c(base))"
            for (k, share) in after.enumerated() {
                d += " L\(c(Double(k) * w)),\(c(y(share))) L\(c(Double(k + 1) * w)),\(c(y(share)))"
            }
            svg += "<path fill=\"none\" stroke=\"#0969da\" stroke-width=\"1.3\" d=\"\(d) L\(c(width)),\(c(base))\"/>"
        }
        svg += "<line class=\"axis\" x1=\"0\" y1=\"\(c(base))\" x2=\"\(c(width))\" y2=\"\(c(base))\"/>"
        svg += "<text x=\"0\" y=\"63\">\(HTMLFormat.escape(HTMLFormat.significant(h.low)))</text>"
        svg += "<text x=\"\(c(width))\" y=\"63\" text-anchor=\"end\">\(HTMLFormat.escape(HTMLFormat.significant(h.high)))</text>"
        return svg + "</svg>"
    }
}
