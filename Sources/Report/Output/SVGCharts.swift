import Foundation

/// The two inline SVG charts of the page. Layers are evenly spaced along x in execution order;
/// every mark carries a `<title>` tooltip with the layer's name and value (no script needed).
enum SVGCharts {
    /// Plot frame in SVG user units (the SVG scales to the page width).
    struct Frame {
        let width = 1100.0, height = 330.0
        let left = 64.0, right = 16.0, bottom = 92.0
        /// Top of the plot area, and of the legend (inside the plot's top-right corner unless a chart
        /// moves the plot down to keep full-height bars clear of it).
        var top = 14.0, legendTop = 14.0
        var plotWidth: Double { width - left - right }
        var plotHeight: Double { height - top - bottom }
        var baseline: Double { top + plotHeight }

        /// Centre of layer slot `i` of `count`.
        func x(_ i: Int, of count: Int) -> Double { left + plotWidth * (Double(i) + 0.5) / Double(count) }
        /// y of `fraction` (0 at the bottom, 1 at the top).
        func y(_ fraction: Double) -> Double { baseline - plotHeight * min(1, max(0, fraction)) }
    }

    /// Relative output error per layer on a log scale. Grid lines at 1-2-5 steps when the values span
    /// up to three decades, at decades beyond that; a layer with zero error sits on the bottom line as a
    /// hollow marker.
    static func relativeError(_ layers: [LayerReport]) -> String {
        let frame = Frame()
        let positive = layers.compactMap(\.outputRelativeError).filter { $0.isFinite && $0 > 0 }
        guard let smallest = positive.min(), let largest = positive.max() else {
            return "<p class=\"note\">no layer has a measured relative error</p>\n"
        }
        let ticks = logTicks(smallest, largest)
        let low = log10(ticks[0]), high = log10(ticks[ticks.count - 1])
        let fraction = { (value: Double) in (log10(value) - low) / (high - low) }
        var svg = open(frame, label: "Relative error of each layer's output, log scale")
        for tick in ticks {
            svg += gridLine(frame, y: frame.y(fraction(tick)), label: String(format: "%g%%", tick * 100))
        }
        var path = ""
        var penDown = false
        var marks = ""
        for (i, layer) in layers.enumerated() {
            guard let value = layer.outputRelativeError, value.isFinite else { penDown = false; continue }
            let x = frame.x(i, of: layers.count)
            let y = value > 0 ? frame.y(fraction(value)) : frame.baseline
            path += "\(penDown ? " L" : " M")\(c(x)),\(c(y))"
            penDown = true
            let tip = "\(layer.name) (\(layer.op)): " + (value > 0 ? HTMLFormat.percent(value, digits: 3) : "exact")
            let style = value > 0 ? "class=\"\(HTMLFormat.bitsClass(layer.weightBits))\" stroke=\"#fff\" stroke-width=\"1.2\"" : "class=\"hollow\""
            marks += "<circle \(style) cx=\"\(c(x))\" cy=\"\(c(y))\" r=\"4.5\"><title>\(HTMLFormat.escape(tip))</title></circle>\n"
        }
        svg += "<path class=\"trace\" d=\"\(path.trimmingCharacters(in: .whitespaces))\"/>\n" + marks
        svg += layerLabels(frame, layers)
        svg += legend(frame, items: bitsLegend(layers))
        return svg + "</svg>\n"
    }

    /// Ticks from the largest tick at or below `smallest` to the smallest at or above `largest`
    /// (at least two): 1, 2, 5 × 10^k for spans up to three decades, 10^k beyond.
    static func logTicks(_ smallest: Double, _ largest: Double) -> [Double] {
        let firstDecade = Int(floor(log10(smallest))), lastDecade = Int(ceil(log10(largest)))
        let mantissas: [Double] = lastDecade - firstDecade > 3 ? [1] : [1, 2, 5]
        let all = (firstDecade...lastDecade).flatMap { k in mantissas.map { $0 * pow(10, Double(k)) } }
        let lowIndex = all.lastIndex { $0 <= smallest * (1 + 1e-12) } ?? 0
        let highIndex = max(all.firstIndex { $0 >= largest * (1 - 1e-12) } ?? all.count - 1, lowIndex + 1)
        return Array(all[lowIndex...min(highIndex, all.count - 1)])
    }

    /// Activations wider than this (int32 logits at 140 dB and more) do not set the SQNR axis: their
    /// bars would squash the 15-45 dB where low-bit layers differ. They are drawn clipped instead.
    static let axisActivationBits = 16

    /// The SQNR axis top in dB: from the layers that matter (weights, and activations of at most
    /// `axisActivationBits` bits, below the exact cap), rounded up to a grid step, at least two steps.
    static func sqnrAxisTop(_ layers: [LayerReport]) -> (top: Double, step: Double) {
        let cap = ReportMetrics.sqnrCapDB
        let activations = layers.filter { ($0.activationBits ?? 8) <= axisActivationBits }.compactMap(\.activationSQNR)
        let measured = (activations + layers.compactMap(\.weightSQNR)).filter { $0.isFinite && $0 < cap }
        let largest = measured.max() ?? 40
        let step = largest > 60 ? 20.0 : 10.0
        return (max(step * 2, ceil((largest * 1.08) / step) * step), step)
    }

    /// Activation SQNR as bars and weight SQNR as diamonds, linear dB scale from 0. A value above the
    /// axis top (a wide int32 output) is drawn to the top with a break mark and its value.
    static func sqnr(_ layers: [LayerReport]) -> String {
        var frame = Frame()
        frame.top = 34  // bars reach the top (exact, clipped): the legend goes above them
        frame.legendTop = 6
        let cap = ReportMetrics.sqnrCapDB
        guard !layers.flatMap({ [$0.activationSQNR, $0.weightSQNR] }).compactMap({ $0 }).isEmpty else {
            return "<p class=\"note\">no layer has a measured SQNR</p>\n"
        }
        let (top, step) = sqnrAxisTop(layers)
        var anyClipped = false
        var svg = open(frame, label: "Activation and weight SQNR of each layer in dB")
        svg += "<defs><pattern id=\"exact\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
            + "<rect width=\"6\" height=\"6\" fill=\"#b6e3ff\"/><rect width=\"3\" height=\"6\" fill=\"#54aeff\"/></pattern></defs>\n"
        for level in stride(from: 0.0, through: top, by: step) {
            svg += gridLine(frame, y: frame.y(level / top), label: String(format: "%.0f dB", level))
        }
        let slot = frame.plotWidth / Double(layers.count)
        let barWidth = min(28, slot * 0.62)
        for (i, layer) in layers.enumerated() {
            let x = frame.x(i, of: layers.count)
            if let value = layer.activationSQNR, value.isFinite {
                let y = frame.y(max(0, value) / top)
                let fill = value >= cap ? "fill=\"url(#exact)\"" : "class=\"abar\""
                let clipped = value < cap && value > top
                let tip = "\(layer.name): activation SQNR \(HTMLFormat.decibels(value, digits: 2))"
                    + (clipped ? String(format: " (bar clipped at the axis top, %.0f dB)", top) : "")
                svg += "<rect \(fill) x=\"\(c(x - barWidth / 2))\" y=\"\(c(y))\" width=\"\(c(barWidth))\" height=\"\(c(frame.baseline - y))\" rx=\"2\">"
                    + "<title>\(HTMLFormat.escape(tip))</title></rect>\n"
                if clipped {
                    anyClipped = true
                    svg += clipMark(x: x, y: y + 9, width: barWidth)
                    if barWidth >= 14 {
                        svg += "<text class=\"cliptext\" x=\"\(c(x))\" y=\"\(c(y + 28))\" text-anchor=\"middle\">\(String(format: "%.0f", value))</text>\n"
                    }
                }
            }
            if let value = layer.weightSQNR, value.isFinite {
                let y = frame.y(max(0, value) / top)
                svg += String(format: "<path class=\"wsq\" d=\"M%.1f,%.1f l6,6 l-6,6 l-6,-6 z\">", x, y - 6)
                    + "<title>\(HTMLFormat.escape("\(layer.name): weight SQNR \(HTMLFormat.decibels(value, digits: 2)) at \(layer.weightBits.map { "\($0) bits" } ?? "?")"))</title></path>\n"
            }
        }
        svg += layerLabels(frame, layers)
        svg += legend(frame, items: [("abar", "rect", "activation SQNR"), ("wsq", "diamond", "weight SQNR"), ("exact", "pattern", "exact (no error)")]
                      + (anyClipped ? [("clip", "break", "clipped (value in dB)")] : []))
        return svg + "</svg>\n"
    }

    // MARK: pieces

    /// Two white zigzags across a bar: the bar goes on past the axis top.
    private static func clipMark(x: Double, y: Double, width: Double) -> String {
        let half = width / 2 + 2
        var d = ""
        for dy in [0.0, 5.0] {
            d += String(format: "M%.1f,%.1f L%.1f,%.1f L%.1f,%.1f L%.1f,%.1f L%.1f,%.1f ", x - half, y + dy + 2, x - half / 2, y + dy - 2,
                        x, y + dy + 2, x + half / 2, y + dy - 2, x + half, y + dy + 2)
        }
        return "<path class=\"clip\" d=\"\(d.trimmingCharacters(in: .whitespaces))\"/>\n"
    }

    /// A coordinate with one decimal (locale-independent).
    private static func c(_ value: Double) -> String { String(format: "%.1f", value) }

    private static func open(_ frame: Frame, label: String) -> String {
        "<svg viewBox=\"0 0 \(c(frame.width)) \(c(frame.height))\" role=\"img\" aria-label=\"\(HTMLFormat.escape(label))\">\n"
            + String(format: "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", frame.left, frame.baseline, frame.width - frame.right, frame.baseline)
    }

    private static func gridLine(_ frame: Frame, y: Double, label: String) -> String {
        String(format: "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", frame.left, y, frame.width - frame.right, y)
            + "<text x=\"\(c(frame.left - 8))\" y=\"\(c(y + 4))\" text-anchor=\"end\">\(HTMLFormat.escape(label))</text>\n"
    }

    /// Rotated layer names under the axis; every k-th name when there are too many to read. Long
    /// names keep their distinguishing ends (`HTMLFormat.distinctLabels`); the full name is the tooltip.
    private static func layerLabels(_ frame: Frame, _ layers: [LayerReport]) -> String {
        let every = max(1, Int((Double(layers.count) / 60).rounded(.up)))
        let labels = HTMLFormat.distinctLabels(layers.map(\.name), maxLength: 18)
        var out = ""
        for (i, layer) in layers.enumerated() where i % every == 0 {
            let x = frame.x(i, of: layers.count)
            out += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" transform=\"rotate(-45 %.1f %.1f)\">", x + 3, frame.baseline + 12, x + 3, frame.baseline + 12)
                + "<title>\(HTMLFormat.escape(layer.name))</title>" + HTMLFormat.escape(labels[i]) + "</text>\n"
        }
        return out
    }

    private static func bitsLegend(_ layers: [LayerReport]) -> [(String, String, String)] {
        let bits = Set(layers.map { HTMLFormat.bitsClass($0.weightBits) })
        let names = [("b8", "8-bit weights"), ("b6", "5–7-bit weights"), ("b4", "4-bit weights"), ("b2", "2–3-bit weights"), ("bn", "no weights")]
        return names.filter { bits.contains($0.0) }.map { ($0.0, "circle", $0.1) }
    }

    /// Legend in the top-right corner, right-aligned: (css class, shape, text).
    private static func legend(_ frame: Frame, items: [(String, String, String)]) -> String {
        var out = ""
        var x = frame.width - frame.right - 4
        for (cls, shape, text) in items.reversed() {
            let textWidth = Double(text.count) * 6.2
            x -= textWidth
            out += "<text x=\"\(c(x))\" y=\"\(c(frame.legendTop + 10))\">\(HTMLFormat.escape(text))</text>"
            x -= 14
            switch shape {
            case "circle": out += "<circle class=\"\(cls)\" cx=\"\(c(x + 5))\" cy=\"\(c(frame.legendTop + 6))\" r=\"4.5\"/>"
            case "diamond": out += "<path class=\"\(cls)\" d=\"M\(c(x + 5)),\(c(frame.legendTop + 1)) l5,5 l-5,5 l-5,-5 z\"/>"
            case "pattern": out += "<rect fill=\"url(#\(cls))\" x=\"\(c(x))\" y=\"\(c(frame.legendTop + 1))\" width=\"10\" height=\"10\"/>"
            case "break":
                out += "<rect class=\"abar\" x=\"\(c(x))\" y=\"\(c(frame.legendTop + 1))\" width=\"10\" height=\"10\"/>"
                    + "<path class=\"clip\" d=\"M\(c(x - 1)),\(c(frame.legendTop + 6)) l3,-2 l3,2 l3,-2 l3,2\"/>"
            default: out += "<rect class=\"\(cls)\" x=\"\(c(x))\" y=\"\(c(frame.legendTop + 1))\" width=\"10\" height=\"10\"/>"
            }
            x -= 18
        }
        return "<g>\(out)</g>\n"
    }
}
