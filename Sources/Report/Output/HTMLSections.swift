import Foundation

/// The page's sections, each a self-contained HTML fragment.
enum HTMLSections {
    private static let e = HTMLFormat.escape

    static func header(_ report: FidelityReport) -> String {
        let model = report.model
        let files = [model.sourceFile, model.quantizedFile].compactMap { $0 }.map(e).joined(separator: " → ")
        let verdict = report.verdict
        let passedCount = report.gates.filter(\.passed).count
        let (title, detail): (String, String)
        switch verdict {
        case .passed: (title, detail) = ("PASSED", "\(passedCount) of \(report.gates.count) gates")
        case .failed: (title, detail) = ("FAILED", "\(report.gates.count - passedCount) of \(report.gates.count) gates failed")
        case .noGates: (title, detail) = ("NO GATES", "qconvert \(report.kind.rawValue)")
        }
        return """
        <header class="top"><div><h1>\(e(model.name))<small>fidelity report · \(report.kind.rawValue)</small></h1>
        <p class="sub">\(files)</p></div>
        <div class="verdict v-\(verdict.rawValue)">\(title)<span>\(detail)</span></div></header>

        """
    }

    static func cards(_ report: FidelityReport) -> String {
        let f = HTMLFormat.self
        var cards: [String] = []
        let evaluation = report.evaluation
        if let evaluation, let agreement = evaluation.top1Agreement {
            let agreeing = Int((agreement * Double(evaluation.samples)).rounded())
            let floor = evaluation.noiseFloor.map { " · noise floor \(f.percent($0.top1AgreementMean))" } ?? ""
            cards.append(card("Top-1 agreement", f.percent(agreement), "\(agreeing) of \(evaluation.samples) samples · \(e(sourceText(evaluation)))\(floor)",
                              grade: agreement >= 0.99 ? "good" : agreement >= 0.95 ? "fair" : "poor"))
        } else {
            cards.append(card("Top-1 agreement", f.missing, evaluation == nil ? "not evaluated (no data)" : "outputs are not class scores", grade: ""))
        }
        if let evaluation, let quantized = evaluation.quantizedAccuracy, let drop = evaluation.accuracyDrop {
            cards.append(card("Accuracy", f.percent(quantized), "float \(f.percent(evaluation.floatAccuracy)) · drop \(f.fixed(drop * 100, digits: 2)) pp",
                              grade: drop <= 0.005 ? "good" : drop <= 0.02 ? "fair" : "poor"))
        } else {
            cards.append(card("Accuracy", f.missing, "no labels in the evaluation data", grade: ""))
        }
        let size = report.size
        cards.append(card("Compression", size.compressionRatio.map { String(format: "%.2f×", $0) } ?? f.missing,
                          "\(f.bytes(Double(size.floatBytes))) float → \(f.bytes(Double(size.fileBytes))) .qbin", grade: ""))
        if let evaluation, let sqnr = evaluation.outputSQNR {
            cards.append(card("Output SQNR", f.decibels(sqnr),
                              "cosine \(f.fixed(evaluation.outputCosine, digits: 5)) · KL \(f.significant(evaluation.softmaxKL)) nats",
                              grade: sqnr >= 30 ? "good" : sqnr >= 15 ? "fair" : "poor"))
        } else {
            cards.append(card("Output SQNR", f.missing, "not evaluated", grade: ""))
        }
        return "<section class=\"cards\">\n" + cards.joined() + "</section>\n"
    }

    private static func card(_ label: String, _ value: String, _ detail: String, grade: String) -> String {
        "<div class=\"card \(grade)\"><div class=\"label\">\(label)</div><div class=\"value\">\(value)</div><div class=\"detail\">\(detail)</div></div>\n"
    }

    /// "held-out 300 of calib.h5" / "reference file data.h5".
    static func sourceText(_ evaluation: EvaluationSummary) -> String {
        switch evaluation.source.kind {
        case .heldOutCalibration: return "held-out \(evaluation.samples) of \(evaluation.source.file)"
        case .referenceFile: return "reference file \(evaluation.source.file)"
        }
    }

    static func panel(title: String, note: String, body: String, extraClass: String = "") -> String {
        "<section class=\"panel \(extraClass)\"><h2>\(e(title))</h2><p class=\"note\">\(e(note))</p>\n\(body)</section>\n"
    }

    static func warnings(_ warnings: [String]) -> String {
        guard !warnings.isEmpty else { return "" }
        let items = warnings.map { "<li>\(e($0))</li>" }.joined(separator: "\n")
        return "<section class=\"panel warnings\"><h2>Warnings (\(warnings.count))</h2><ul>\n\(items)\n</ul></section>\n"
    }

    static func gates(_ gates: [Gate], command: ReportKind) -> String {
        guard !gates.isEmpty else { return "" }
        let rows = gates.map { gate in
            let measured = gate.measured.map { HTMLFormat.significant($0, digits: 4) } ?? "not measured"
            let result = gate.passed ? "<span class=\"ok\">pass</span>" : "<span class=\"bad\">FAIL</span>"
            return "<tr><td class=\"l\">\(e(gate.name))</td><td>\(measured) \(e(gate.unit))</td><td>\(gate.comparison.symbol) \(HTMLFormat.significant(gate.threshold, digits: 4)) \(e(gate.unit))</td><td>\(result)</td></tr>"
        }.joined(separator: "\n")
        return """
        <section class="panel"><h2>Gates</h2><p class="note">thresholds checked by qconvert \(command.rawValue)</p>
        <table><tr><th class="l">gate</th><th>measured</th><th>required</th><th>result</th></tr>
        \(rows)
        </table></section>

        """
    }

    static func recipeAndSize(_ report: FidelityReport) -> String {
        let recipe = report.recipe
        let f = HTMLFormat.self
        var recipeRows: [(String, String)] = [
            ("bits", "W\(recipe.weightBits) / A\(recipe.activationBits)" + (recipe.firstLastEightBit ? ", first and last layer 8-bit" : "")),
            ("weight scales", recipe.weightGranularity == .perChannel ? "per channel" : "per tensor"),
            ("calibration", recipe.dataFree ? "data-free (weights and BatchNorm statistics)" : recipe.calibrationMethod),
        ]
        if let file = recipe.calibrationFile {
            recipeRows.append(("calibration data", "\(recipe.calibrationSamples.map(String.init) ?? "?") samples of \(file)"))
        }
        if let rule = recipe.weightRounding { recipeRows.append(("weight rounding", rule)) }
        recipeRows.append(("rounding", recipe.roundingProfile))
        recipeRows.append(("seed", String(recipe.seed)))
        for override in recipe.bitOverrides {
            let bits = [override.weightBits.map { "W\($0)" }, override.activationBits.map { "A\($0)" }].compactMap { $0 }.joined(separator: "/")
            recipeRows.append(("override", "\(override.layer): \(bits) (\(override.reason))"))
        }
        if let evaluation = report.evaluation {
            recipeRows.append(("evaluation", sourceText(evaluation)))
        }
        let size = report.size
        let overhead = size.idealWeightBytes > 0 ? Double(size.packedWeightBytes) / size.idealWeightBytes - 1 : 0
        let sizeRows: [(String, String)] = [
            ("parameters", f.grouped(Int64(size.parameterCount))),
            ("float32 weights", f.bytes(Double(size.floatBytes))),
            (".qbin file", "\(f.bytes(Double(size.fileBytes))) (\(f.grouped(Int64(size.fileBytes))) bytes)"),
            ("packed weights", "\(f.bytes(Double(size.packedWeightBytes))), \(String(format: "%+.1f%%", overhead * 100)) vs ideal"),
            ("ideal Σ params·bits/8", f.bytes(size.idealWeightBytes)),
            ("compression", size.compressionRatio.map { String(format: "%.2f× smaller than float32", $0) } ?? f.missing),
        ]
        let packedShare = size.fileBytes > 0 ? min(1, Double(size.packedWeightBytes) / Double(size.fileBytes)) : 0
        let bar = String(format: "<div class=\"note\">packed weights are %.0f%% of the file</div><div class=\"bar\"><i style=\"width:%.1f%%\"></i></div>",
                         packedShare * 100, packedShare * 100)
        return """
        <div class="split">
        \(panel(title: "Recipe", note: "options that produced this model", body: definitionList(recipeRows)))\
        \(panel(title: "Size", note: "bytes on disk vs float32", body: bar + definitionList(sizeRows)))\
        </div>

        """
    }

    private static func definitionList(_ rows: [(String, String)]) -> String {
        "<dl>" + rows.map { "<dt>\(e($0.0))</dt><dd>\(e($0.1))</dd>" }.joined() + "</dl>\n"
    }
}
