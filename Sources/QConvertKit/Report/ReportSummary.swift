import Foundation
import Report

/// The report of a finished job, as the CLI shows it: a few lines, the failed gates, the files.
public struct ReportSummary: Sendable {
    public let report: FidelityReport
    /// Lines for the terminal that explain a figure of the report (not warnings: nothing is wrong).
    public internal(set) var notes: [String] = []
    init(_ report: FidelityReport) { self.report = report }

    /// Writes the JSON report to `json` and the HTML page to `html` (either may be nil).
    public func write(json: String?, html: String?) throws(QConvertError) {
        try ReportBuilder.write(report, json: json, html: html)
    }

    /// Gates that failed, one line each: `min-agreement: measured 0.982 < 0.995`.
    public var failedGates: [String] {
        report.gates.filter { !$0.passed }.map { g in
            let relation = g.comparison == .atLeast ? "<" : ">"
            guard let value = g.measured else { return "\(g.name): could not be measured (\(g.comparison.symbol) \(String(format: "%.4g", g.threshold)))" }
            let measured = String(format: "%.4g", value)
            var line = "\(g.name): measured \(measured)\(g.unit.isEmpty ? "" : " " + g.unit) \(relation) \(String(format: "%.4g", g.threshold))"
            if g.name == "min-agreement", let floor = report.evaluation?.noiseFloor, floor.top1AgreementMean < g.threshold {
                line += String(format: "; the float model itself keeps only %.4g on average under these grids' rounding noise "
                               + "(noise floor, %d draws): more bits are the likely remedy, not another clipping or rounding method",
                               floor.top1AgreementMean, floor.draws)
            }
            return line
        }
    }

    public var warnings: [String] { report.warnings }

    /// A short table for the terminal.
    public var lines: [String] {
        var out: [String] = []
        let s = report.size
        out.append(String(format: "size: %d bytes (float %d bytes, %.1fx smaller); weights %d bytes packed (ideal %.0f)",
                          s.fileBytes, s.floatBytes, s.compressionRatio ?? 0, s.packedWeightBytes, s.idealWeightBytes))
        out.append(contentsOf: notes)
        if let e = report.evaluation {
            var parts = ["\(e.samples) samples (\(e.source.file))"]
            if let a = e.top1Agreement { parts.append(String(format: "top-1 agreement %.2f%%", 100 * a)) }
            if let f = e.floatAccuracy, let q = e.quantizedAccuracy {
                parts.append(String(format: "accuracy %.2f%% -> %.2f%%", 100 * f, 100 * q))
            } else if let q = e.quantizedAccuracy {
                parts.append(String(format: "accuracy %.2f%%", 100 * q))
            }
            if let sqnr = e.outputSQNR { parts.append(String(format: "output SQNR %.1f dB", sqnr)) }
            out.append("fidelity: " + parts.joined(separator: ", "))
            if let n = e.noiseFloor {
                out.append(String(format: "noise floor: the float model under its grids' rounding noise alone agrees %.2f%% with itself "
                                  + "(%.2f ... %.2f%% over %d draws)", 100 * n.top1AgreementMean, 100 * n.top1AgreementMin,
                                  100 * n.top1AgreementMax, n.draws))
            }
        }
        let compared = report.layers.compactMap(\.simulatorVsEmulation)
        let total = compared.reduce(0) { $0 + $1.compared }
        let identical = compared.reduce(0) { $0 + $1.counts[0] }
        let maxLSB = compared.map(\.maxAbsDifference).max() ?? 0
        if total > 0 {
            out.append(String(format: "simulator vs emulation: %.3f%% of op outputs bit-identical, max %lld LSB",
                              100 * Double(identical) / Double(total), maxLSB))
        }
        for g in report.gates {
            let measured = g.measured.map { String(format: "%.4g", $0) } ?? "-"
            out.append("gate \(g.name) \(g.comparison.symbol) \(String(format: "%.4g", g.threshold)): \(measured) \(g.passed ? "PASS" : "FAIL")")
        }
        return out
    }

    /// The report as JSON text (stdout of `--json`).
    public func jsonText() throws(QConvertError) -> String {
        do { return String(decoding: try ReportWriter.json(report), as: UTF8.self) } catch {
            throw .io(path: "<report>", detail: "cannot encode the report: \(error)")
        }
    }
}

extension ConvertOutcome {
    public var report: ReportSummary {
        var summary = ReportSummary(ReportBuilder.convertReport(self))
        summary.notes = sizeNotes
        return summary
    }

    /// Writes the reports (`html` first, then `json`) to temporary files, then renames them and last
    /// the `.qbin` into place: all of them, or none. Returns the report written.
    @discardableResult
    public func commit(json: String?, html: String?) throws(QConvertError) -> ReportSummary {
        let summary = report
        try ReportBuilder.stage(summary.report, json: json, html: html, into: stage)
        try stage.commit()
        return summary
    }
}

extension ConvertOutcome {
    /// Simulator vs float emulation on the final output values, both run end to end on the same
    /// quantized inputs (not teacher-forced).
    public var simulatorVsEmulation: LSBHistogram {
        LSBHistogram(counts: evaluation.endToEnd.lsbCounts, maxAbsDifference: Int64(evaluation.endToEnd.maxLSB))
    }
}
