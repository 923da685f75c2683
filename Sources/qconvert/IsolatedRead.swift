import ArgumentParser
import Foundation
import QConvertKit

/// Reads an untrusted model file first in a child process (this executable, hidden subcommand
/// `__read-model`) under a time limit, so that a libhdf5 hang or memory corruption on a crafted file
/// (two found by fuzzing, docs/robustness.md "Fuzzing") becomes a clean exit 2 instead of a hang or a
/// crash of the command. The child's own error (exit 2) is left to the in-process read to report.
/// `QCONVERT_ISOLATED_READ=0` turns it off.
enum IsolatedRead {
    /// Seconds the child may take: 60 plus 10 per 100 MB of file (`QCONVERT_ISOLATED_READ_SECONDS`
    /// replaces the 60, for tests).
    static func timeLimit(fileBytes: Int) -> Double {
        let base = ProcessInfo.processInfo.environment["QCONVERT_ISOLATED_READ_SECONDS"].flatMap(Double.init) ?? 60
        return max(base, 0.1) + 10 * Double(fileBytes) / 100e6
    }

    static var enabled: Bool { ProcessInfo.processInfo.environment["QCONVERT_ISOLATED_READ"] != "0" }

    static func install() {
        guard enabled else { return }
        ModelLoader.isolatedReadCheck = { path, config throws(QConvertError) in try check(path, config: config) }
    }

    static func check(_ path: String, config: String? = nil) throws(QConvertError) {
        // Missing files and the like are reported by the in-process read, which names them best.
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              attributes[.type] as? FileAttributeType == .typeRegular,
              let executable = executablePath() else { return }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        let limit = timeLimit(fileBytes: size)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["__read-model", path, "--max-memory", "\(MemoryBudget.bytes)"] + (config.map { ["--config", $0] } ?? [])
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        environment["QCONVERT_ISOLATED_READ"] = "0"
        process.environment = environment
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        do { try process.run() } catch { return }  // cannot isolate (no fork allowed): read in process
        if done.wait(timeout: .now() + limit) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            done.wait()
            throw .io(path: path, detail: "reading it did not finish within \(String(format: "%.0f", limit)) s in an isolated reader process "
                      + "(libhdf5 hangs on some damaged or crafted files); qconvert stopped it and did not read the file. "
                      + "Re-save the model with Keras, or set QCONVERT_ISOLATED_READ=0 if this file is trusted and just slow")
        }
        if process.terminationReason == .uncaughtSignal {
            throw .io(path: path, detail: "the isolated reader process died of signal \(process.terminationStatus) reading it "
                      + "(libhdf5 crashes on some damaged or crafted files); qconvert did not read the file. Re-save the model with Keras")
        }
    }

    private static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 { return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return Bundle.main.executablePath
    }
}

/// The child side of `IsolatedRead`: reads a model the way every command does, and exits 0, or 2
/// with the error. Not listed in --help.
struct ReadModel: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__read-model", shouldDisplay: false)
    @Argument var model: String
    @Option var maxMemory: String?
    @Option var config: String?

    func run() throws {
        applyMemoryOption(maxMemory)
        _ = try reportingErrors { () throws(QConvertError) in try ModelLoader.load(path: model, configPath: config) }
    }
}
