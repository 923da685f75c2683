import ArgumentParser
import FixedPoint
import QConvertKit

/// `qconvert validate MODEL.qbin --reference REF.h5 [gates]`: exit 0 when every gate passes, 1 otherwise.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a .qbin in the integer simulator on reference inputs and check fidelity gates (for CI).",
        discussion: "REF.h5 holds /inputs, /outputs (the source framework's outputs) and optionally /labels. Exit codes: 0 all gates pass, 1 a gate failed (or, with --strict, a warning), 2 bad input, 64 usage error.")

    @Argument(help: "The .qbin model.") var model: String
    @Option(help: "Reference HDF5 file: /inputs, /outputs, optional /labels.") var reference: String
    @Option(help: "Least top-1 agreement with the reference outputs (0...1).") var minAgreement: Double?
    @Option(help: "Largest accuracy drop vs the reference outputs' accuracy (0...1), needs /labels.") var maxAccuracyDrop: Double?
    @Option(help: "Least output SQNR vs the reference outputs, dB.") var minOutputSqnr: Double?
    @Option(help: "Largest simulator vs float-emulation difference of any op output, LSBs.") var maxLsbError: Int?
    @Option(help: "Write the JSON report here.") var report: String?
    @Option(help: "Write the HTML report here.") var reportHtml: String?
    @Option(help: "Fixed-point rounding, gemmlowp or single: overrides the profile the file records (docs/numerics.md).") var rounding: RoundingProfile?
    @Option(help: "Samples per batch (1...4096).") var batchSize = 32
    @Flag(help: "Print the report JSON on stdout.") var json = false
    @Flag(help: "Treat warnings as failures: exit 1 when validation printed any warning.") var strict = false
    @Option(help: "Memory budget, e.g. 4G or 512M (default: half of physical memory); larger needs are refused with exit 2.") var maxMemory: String?

    func validate() throws {
        if let a = minAgreement, !(0...1).contains(a) { throw ValidationError("--min-agreement must be between 0 and 1, got \(a)") }
        if let d = maxAccuracyDrop, !(0...1).contains(d) { throw ValidationError("--max-accuracy-drop must be between 0 and 1, got \(d)") }
        if let l = maxLsbError, l < 0 { throw ValidationError("--max-lsb-error must be >= 0, got \(l)") }
        guard (1...4096).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 4096, got \(batchSize)") }
        try checkMemoryOption(maxMemory)
        var outputs: [OutputClash.Role] = []
        if let report { outputs.append(("--report", report)) }
        if let reportHtml { outputs.append(("--report-html", reportHtml)) }
        if let clash = OutputClash.find(outputs: outputs, inputs: [("the model", model), ("--reference", reference)]) {
            throw ValidationError(clash)
        }
    }

    func run() throws {
        var job = ValidateJob(modelPath: model, referencePath: reference)
        job.gates.minAgreement = minAgreement
        job.gates.maxAccuracyDrop = maxAccuracyDrop
        job.gates.minOutputSQNR = minOutputSqnr
        job.gates.maxLSBError = maxLsbError
        job.rounding = rounding
        job.batchSize = batchSize
        Signals.install()
        applyMemoryOption(maxMemory)
        let bar = ProgressBar(label: "validate")
        let summary = try reportingErrors { () throws(QConvertError) -> ReportSummary in
            let s = try job.run(progress: bar.update)
            try s.write(json: report, html: reportHtml)
            return s
        }
        bar.finish()
        if json { print(try reportingErrors { () throws(QConvertError) in try summary.jsonText() }) }
        for line in summary.lines { Terminal.printError(line) }
        for w in summary.warnings { Terminal.printError("warning: \(w)") }
        if summary.report.gates.isEmpty { Terminal.printError("no gates given (--min-agreement, --max-accuracy-drop, --min-output-sqnr, --max-lsb-error)") }
        try failIfGatesFailed(summary)
        if strict, !summary.warnings.isEmpty {
            Terminal.printError("--strict: \(summary.warnings.count) warning(s); failing")
            throw ExitCode(ExitCodes.gateFailed)
        }
    }
}
