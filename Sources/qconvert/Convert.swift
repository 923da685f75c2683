import ArgumentParser
import FixedPoint
import Foundation
import QConvertKit

/// `qconvert convert IN.h5 OUT.qbin [options]` (the default subcommand).
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Quantize a Keras .h5 model into a packed low-bit .qbin file, then check it in the integer simulator.",
        discussion: """
            Writes OUT.qbin and OUT.report.json (docs/report.md). The first and last weighted layers stay at 8 bits \
            unless --first-last-bits says otherwise. Without --calibration the conversion is data-free (ranges from \
            BatchNorm statistics and synthetic inputs) and says so. Exit codes: 0 ok, 1 a fidelity gate failed (or, with --strict, a warning), \
            2 bad input, 64 usage error.

            Examples:
              qconvert model.h5 model.qbin --calibration calib.h5
              qconvert model.h5 model.qbin --bits 4 --calibration calib.h5 --eval data.h5 --min-agreement 0.95
              qconvert model.h5 model.qbin --bits 4 --first-last-bits same --layer-bits conv2d=8 --calibration calib.h5
              qconvert model.h5 model.qbin          (data-free: no calibration data)
              qconvert model.weights.h5 model.qbin --config model.json --calibration calib.h5
            """)

    @Argument(help: "The Keras .h5 model.") var model: String
    @Argument(help: "The .qbin file to write.") var output: String
    @Option(help: "Architecture JSON (model.to_json()) of a Keras 3 .weights.h5 model; default: <stem>.json, <stem>.config.json or config.json beside it.") var config: String?

    @Option(help: "Bits of weights and activations (2...8).") var bits = 8
    @Option(help: "Bits of the weights (2...8); overrides --bits.") var weightBits: Int?
    @Option(help: "Bits of the activations (2...8); overrides --bits.") var activationBits: Int?
    @Option(help: "Per-layer bits, NAME=N (repeatable).") var layerBits: [String] = []
    @Option(help: "Bits of the first and last weighted layers: 2...8, or 'same' to treat them like the rest.") var firstLastBits = "8"

    @Option(help: "HDF5 file of calibration samples (N x H x W x C).") var calibration: String?
    @Option(help: "Dataset of samples in the calibration file.") var dataset = "inputs"
    @Option(help: "Use at most this many calibration samples.") var calibrationSamples: Int?
    @Option(help: "Clipping: minmax, percentile, mse, kl, aciq or auto (least estimated error per tensor).") var calibrationMethod = "auto"
    @Option(help: "Percentile for --calibration-method percentile (50...100).") var percentile = 99.99
    @Option(help: "Weight scales: per-channel or per-tensor.") var weightGranularity = "per-channel"
    @Flag(help: "Turn off empirical bias correction.") var noBiasCorrection = false
    @Option(help: "Weight rounding with calibration data: gptq (error-compensating, below 8 bits and for depthwise layers; default) or nearest.") var weightRounding = "gptq"
    @Option(help: "TV smoothing of the activations convolutions read (docs/tv-smoothing.md): off, auto (gamma per point chosen on the calibration data; nothing where none helps) or a relative gamma (times each point's 99.9th percentile of |x|).") var tvSmoothing = "off"
    @Option(help: "Explicit TV steps per inserted op (1...8).") var tvSteps = 1
    @Option(help: "Insert TV smoothing after these layers (comma-separated) instead of before every convolution.") var tvLayers: String?
    @Option(help: "Forward BatchNorm folds (a BatchNorm after an activation into the next layer): measured (kept where the quantized error on calibration samples does not grow; default), always, or never.") var forwardFolds = "measured"
    @Option(help: "Constant input channels (dead after a ReLU) into the next layer's bias: on (default) or off.") var constantChannels = "on"
    @Option(help: "Cross-layer equalization through linear / ReLU activations: on (default: kept where it measures better on the calibration data) or off.") var equalization = "on"
    @Option(help: "Bias absorption: per-channel offsets of a linear / ReLU layer's output moved into the next layer's bias: on (default: kept where it measures better on the calibration data) or off.") var biasAbsorption = "on"
    @Option(help: "Evaluation file (/inputs, optional /outputs and /labels); default: a held-out part of the calibration file.") var eval: String?

    @Option(help: "Fixed-point rounding the file is made for (recorded in it as metadata rounding) and the simulator check uses: gemmlowp or single.") var rounding: RoundingProfile = .gemmlowp
    @Option(help: "Seed of synthetic (data-free) inputs and of the noise floor's draws.") var seed: UInt64 = 0
    @Option(help: "Noise-floor draws: the float model rerun with its grids' rounding noise, to tell method error from bit-width limits (0 skips it).") var noiseFloorDraws = 8
    @Option(help: "Samples per batch (1...4096).") var batchSize = 32
    @Option(help: "JSON report path (default OUT.report.json).") var report: String?
    @Option(help: "Also write the report as a self-contained HTML page.") var reportHtml: String?

    @Option(help: "Gate: least top-1 agreement with the float model (0...1).") var minAgreement: Double?
    @Option(help: "Gate: largest accuracy drop (0...1), needs labels.") var maxAccuracyDrop: Double?
    @Option(help: "Gate: least output SQNR in dB.") var minOutputSqnr: Double?
    @Option(help: "Gate: largest simulator vs emulation difference in LSBs.") var maxLsbError: Int?

    @Flag(help: "Print only errors.") var quiet = false
    @Flag(help: "Treat warnings as failures: exit 1 when the conversion printed any warning.") var strict = false
    @Option(help: "Memory budget, e.g. 4G or 512M (default: half of physical memory); larger needs are refused with exit 2.") var maxMemory: String?
    @Flag(help: "Print the report JSON on stdout.") var json = false
    @Flag(help: "Print each phase's wall time and memory (resident, peak) on stderr.") var timings = false

    func validate() throws {
        for (name, value) in [("--bits", bits), ("--weight-bits", weightBits), ("--activation-bits", activationBits)] {
            if let value, !(2...8).contains(value) { throw ValidationError("\(name) must be between 2 and 8, got \(value)") }
        }
        let overrides = try parsedLayerBits()
        if !overrides.isEmpty, let problem = ConvertOptions.layerBitsProblem(modelPath: model, configPath: config, names: Array(overrides.keys)) {
            throw ValidationError(problem)
        }
        _ = try parsedFirstLast()
        guard ClipMethodNames.all.contains(calibrationMethod) else {
            throw ValidationError("--calibration-method must be one of \(ClipMethodNames.all.joined(separator: ", ")), got '\(calibrationMethod)'")
        }
        guard (50...100).contains(percentile) else { throw ValidationError("--percentile must be between 50 and 100, got \(percentile)") }
        guard ["per-channel", "per-tensor"].contains(weightGranularity) else {
            throw ValidationError("--weight-granularity must be per-channel or per-tensor, got '\(weightGranularity)'")
        }
        guard ["gptq", "nearest"].contains(weightRounding) else {
            throw ValidationError("--weight-rounding must be gptq or nearest, got '\(weightRounding)'")
        }
        _ = try parsedTVSmoothing()
        guard (1...8).contains(tvSteps) else { throw ValidationError("--tv-steps must be between 1 and 8, got \(tvSteps)") }
        if tvSmoothing == "auto", calibration == nil {
            throw ValidationError("--tv-smoothing auto chooses gamma on calibration data: pass --calibration DATA.h5 (or a fixed gamma)")
        }
        guard ForwardFoldPolicy(rawValue: forwardFolds) != nil else {
            throw ValidationError("--forward-folds must be measured, always or never, got '\(forwardFolds)'")
        }
        guard ["on", "off"].contains(constantChannels) else { throw ValidationError("--constant-channels must be on or off, got '\(constantChannels)'") }
        guard ["on", "off"].contains(equalization) else { throw ValidationError("--equalization must be on or off, got '\(equalization)'") }
        guard ["on", "off"].contains(biasAbsorption) else { throw ValidationError("--bias-absorption must be on or off, got '\(biasAbsorption)'") }
        if let n = calibrationSamples, n < 1 { throw ValidationError("--calibration-samples must be at least 1, got \(n)") }
        guard (0...1000).contains(noiseFloorDraws) else { throw ValidationError("--noise-floor-draws must be between 0 and 1000, got \(noiseFloorDraws)") }
        guard (1...4096).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 4096, got \(batchSize)") }
        if let a = minAgreement, !(0...1).contains(a) { throw ValidationError("--min-agreement must be between 0 and 1, got \(a)") }
        if let d = maxAccuracyDrop, !(0...1).contains(d) { throw ValidationError("--max-accuracy-drop must be between 0 and 1, got \(d)") }
        if let l = maxLsbError, l < 0 { throw ValidationError("--max-lsb-error must be >= 0, got \(l)") }
        try checkMemoryOption(maxMemory)
        var paths = ConvertOptions(modelPath: model, outputPath: output)
        paths.reportPath = report
        var outputs: [OutputClash.Role] = [("the output", output), ("--report", paths.resolvedReportPath)]
        if let reportHtml { outputs.append(("--report-html", reportHtml)) }
        var inputs: [OutputClash.Role] = [("the model", model)]
        if let config { inputs.append(("--config", config)) }
        if let calibration { inputs.append(("--calibration", calibration)) }
        if let eval { inputs.append(("--eval", eval)) }
        if let clash = OutputClash.find(outputs: outputs, inputs: inputs) { throw ValidationError(clash) }
    }

    func parsedLayerBits() throws -> [String: Int] {
        var result: [String: Int] = [:]
        for item in layerBits {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, let n = Int(parts[1]), (2...8).contains(n) else {
                throw ValidationError("--layer-bits takes NAME=N with N in 2...8, got '\(item)'")
            }
            result[parts[0]] = n
        }
        return result
    }

    func parsedTVSmoothing() throws -> TVSmoothingMode {
        switch tvSmoothing {
        case "off": return .off
        case "auto": return .auto
        default:
            guard let g = Double(tvSmoothing), g.isFinite, g >= 0, g <= 1 else {
                throw ValidationError("--tv-smoothing takes off, auto or a relative gamma in 0...1 (e.g. 0.01), got '\(tvSmoothing)'")
            }
            return g == 0 ? .off : .relative(g)
        }
    }

    func parsedFirstLast() throws -> Int? {
        if firstLastBits == "same" { return nil }
        guard let n = Int(firstLastBits), (2...8).contains(n) else {
            throw ValidationError("--first-last-bits takes 2...8 or 'same', got '\(firstLastBits)'")
        }
        return n
    }

    func run() throws {
        var options = ConvertOptions(modelPath: model, outputPath: output)
        options.configPath = config
        options.recipe.weightBits = weightBits ?? bits
        options.recipe.activationBits = activationBits ?? bits
        options.recipe.firstLastBits = try parsedFirstLast()
        options.recipe.layerBits = try parsedLayerBits()
        options.recipe.calibrationMethod = ClipMethodNames.parse(calibrationMethod, percentile: percentile)!
        options.recipe.granularity = weightGranularity == "per-tensor" ? .perTensor : .perChannel
        options.recipe.biasCorrection = !noBiasCorrection
        if weightRounding == "nearest" { options.recipe.gptqBelowBits = nil }
        options.forwardFolds = ForwardFoldPolicy(rawValue: forwardFolds)!
        options.recipe.constantChannelsToBias = constantChannels == "on"
        options.equalization = equalization == "on"
        options.biasAbsorption = biasAbsorption == "on"
        options.calibrationPath = calibration
        options.dataset = dataset
        options.calibrationSamples = calibrationSamples
        options.evaluationPath = eval
        options.tvSmoothing = try parsedTVSmoothing()
        options.tvSteps = tvSteps
        options.tvLayers = tvLayers.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        options.seed = seed
        options.noiseFloorDraws = noiseFloorDraws
        options.rounding = rounding
        options.batchSize = batchSize
        options.reportPath = report
        options.reportHTMLPath = reportHtml
        options.gates.minAgreement = minAgreement
        options.gates.maxAccuracyDrop = maxAccuracyDrop
        options.gates.minOutputSQNR = minOutputSqnr
        options.gates.maxLSBError = maxLsbError

        let bars = [ConvertJob.Stage.calibrate: ProgressBar(label: "calibrate"), .evaluate: ProgressBar(label: "evaluate")]
        var last: ConvertJob.Stage?
        let job = ConvertJob(options: options)
        Signals.install()
        applyMemoryOption(maxMemory)
        let summary = try reportingErrors { () throws(QConvertError) -> ReportSummary in
            let printTiming = { (t: PhaseTiming) in if timings { Terminal.printError("timing: " + t.line) } }
            let outcome = try job.run(progress: { stage, done, total in
                if let last, last != stage { bars[last]?.finish() }
                last = stage
                if !quiet { bars[stage]?.update(done, total) }
            }, phase: printTiming)
            let reportStart = DispatchTime.now().uptimeNanoseconds
            // The reports, then the .qbin they describe (named by its SHA-256), all or none.
            let summary = try outcome.commit(json: options.resolvedReportPath, html: options.reportHTMLPath)
            printTiming(PhaseTiming(phase: "report", seconds: Double(DispatchTime.now().uptimeNanoseconds - reportStart) / 1e9))
            return summary
        }
        if let last { bars[last]?.finish() }
        if json { print(try reportingErrors { () throws(QConvertError) in try summary.jsonText() }) }
        for w in summary.warnings { Terminal.printError("warning: \(w)") }
        if !quiet {
            Terminal.printError("wrote \(output) and \(options.resolvedReportPath)\(reportHtml.map { " and " + $0 } ?? "")")
            for line in summary.lines { Terminal.printError("  " + line) }
        }
        try failIfGatesFailed(summary)
        if strict, !summary.warnings.isEmpty {
            Terminal.printError("--strict: \(summary.warnings.count) warning(s); failing")
            throw ExitCode(ExitCodes.gateFailed)
        }
    }
}

/// Exit 1 naming each failed gate.
func failIfGatesFailed(_ summary: ReportSummary) throws {
    let failed = summary.failedGates
    guard failed.isEmpty else {
        for line in failed { Terminal.printError("gate failed: \(line)") }
        throw ExitCode(ExitCodes.gateFailed)
    }
}
