import ArgumentParser
import QConvertKit

/// Exit codes (README "Exit codes"): 0 success, 1 a fidelity gate failed, 2 bad input, 64 usage error.
enum ExitCodes {
    static let gateFailed: Int32 = 1
    static let badInput: Int32 = 2
}

@main
struct QConvert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qconvert",
        abstract: "Post-training quantization of Keras CNNs to packed low-bit .qbin files.",
        subcommands: [Convert.self, Inspect.self, Run.self, Validate.self],
        defaultSubcommand: Convert.self)
}

/// Runs a pipeline step and turns its error into a one-line message and exit code 2.
func reportingErrors<T>(_ body: () throws(QConvertError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        Terminal.printError("error: \(error.description)")
        throw ExitCode(ExitCodes.badInput)
    }
}
