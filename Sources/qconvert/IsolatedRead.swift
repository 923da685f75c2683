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
        let errors = Pipe()
        process.standardError = errors
        let collected = ChildOutput()
        errors.fileHandleForReading.readabilityHandler = { handle in collected.append(handle.availableData) }
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
        errors.fileHandleForReading.readabilityHandler = nil
        collected.append(errors.fileHandleForReading.readDataToEndOfFile())
        if process.terminationReason == .uncaughtSignal {
            throw .io(path: path, detail: "the isolated reader process died of signal \(process.terminationStatus) reading it "
                      + "(libhdf5 crashes on some damaged or crafted files); qconvert did not read the file. Re-save the model with Keras")
        }
        // A bad file: report the child's error rather than read the file again in this process, where
        // libhdf5's own allocations would not be held to the budget (the child's address space is).
        if process.terminationStatus == ExitCodes.badInput, let message = collected.errorLine() {
            throw .reported(message)
        }
    }

    /// Address space the child may map: the memory budget plus room for the runtime, libraries and stacks.
    static func addressSpaceLimit(budget: Int) -> Int { budget + (1 << 30) }

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
        // libhdf5 allocates what a crafted file declares (a 70 KB file asked for 2.9 GB of variable-length
        // strings): hold this process's address space to the budget, so such a read fails here (exit 2).
        var limit = rlimit(rlim_cur: rlim_t(IsolatedRead.addressSpaceLimit(budget: MemoryBudget.bytes)),
                           rlim_max: rlim_t(IsolatedRead.addressSpaceLimit(budget: MemoryBudget.bytes)))
        _ = setrlimit(Int32(RLIMIT_AS.rawValue), &limit)
        _ = try reportingErrors { () throws(QConvertError) in try ModelLoader.load(path: model, configPath: config) }
    }
}

/// The child's standard error, gathered while it runs (so a full pipe never blocks it).
final class ChildOutput: @unchecked Sendable {
    private var data = Data()
    private let lock = NSLock()

    func append(_ chunk: Data) {
        lock.lock(); data.append(chunk); lock.unlock()
    }

    /// The first `error: ` line without its prefix.
    func errorLine() -> String? {
        lock.lock(); defer { lock.unlock() }
        let text = String(decoding: data.prefix(1 << 16), as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("error: ") }) else { return nil }
        return String(line.dropFirst("error: ".count))
    }
}
