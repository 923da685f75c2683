import ArgumentParser
import Foundation
import QConvertKit

/// Exit codes (README "Exit codes"): 0 success, 1 a fidelity gate failed, 2 bad input, 64 usage error.
enum ExitCodes {
    static let gateFailed: Int32 = 1
    static let badInput: Int32 = 2
    static let usage: Int32 = 64
}

@main
struct QConvert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qconvert",
        abstract: "Post-training quantization of Keras CNNs to packed low-bit .qbin files.",
        discussion: """
            Examples:
              qconvert model.h5 model.qbin --calibration calib.h5
                  W8A8 with calibration data; writes model.qbin and model.report.json
              qconvert model.h5 m4.qbin --bits 4 --calibration calib.h5 --report-html r.html
                  4-bit weights and activations, with an HTML report
              qconvert inspect model.h5
                  layers, shapes, parameters and MACs (a .qbin: ops, bits, scales, sizes)
              qconvert run model.qbin --input x.h5 --output y.h5
                  run the integer simulator on x.h5's /inputs
              qconvert validate model.qbin --reference data.h5 --min-agreement 0.99
                  CI gate against the Keras outputs in data.h5 (exit 1 when a gate fails)

            'convert' is the default subcommand: 'qconvert IN.h5 OUT.qbin' converts. \
            Run 'qconvert help SUBCOMMAND' for a subcommand's options.
            """,
        version: QConvertVersion.number,
        subcommands: [Convert.self, Inspect.self, Run.self, Validate.self, ReadModel.self],
        defaultSubcommand: Convert.self)

    /// Refuses a `QCONVERT_ISA` this CPU or build cannot honour (usage error, 64) before any work, and
    /// catches a misspelled subcommand before the default subcommand takes it for a model path.
    static func main() {
        if let error = KernelISA.environmentError {
            Terminal.printError("error: \(error.description)")
            Foundation.exit(ExitCodes.usage)
        }
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let word = arguments.first,
           let guess = SubcommandSuggestion.guess(word, among: configuration.subcommands.map { $0._commandName } + ["help"]) {
            Terminal.printError("error: unknown subcommand '\(word)'; did you mean '\(guess)'? "
                                + "(or, if '\(word)' is a model file, it does not exist)")
            Terminal.printError("usage: qconvert \(guess) ... (see 'qconvert --help')")
            Foundation.exit(ExitCodes.usage)
        }
        IsolatedRead.install()
        main(arguments)
    }
}

/// Runs a pipeline step and turns its error into a one-line message and its exit code: 64 for a
/// usage error (an option that cannot work with the given files), else 2 (bad input).
func reportingErrors<T>(_ body: () throws(QConvertError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        Terminal.printError("error: \(error.description)")
        throw ExitCode(error.isUsageError ? ExitCodes.usage : ExitCodes.badInput)
    }
}
