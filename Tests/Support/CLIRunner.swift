import Foundation

/// Runs the built `qconvert` binary (beside the test bundle) and captures its output.
public enum CLIRunner {
    public struct Result {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The built binary: `QCONVERT_BIN` if set, else `qconvert` in the build products folder, which
    /// is the test bundle's folder (macOS) or the test executable's own folder (Linux).
    public static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["QCONVERT_BIN"] { return URL(fileURLWithPath: path) }
        var folders: [URL] = []
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            folders.append(bundle.bundleURL.deletingLastPathComponent())
        }
        folders.append(Bundle.main.bundleURL)
        folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        folders.append(Bundle.main.bundleURL.appendingPathComponent("debug"))
        let candidates = folders.map { $0.appendingPathComponent("qconvert") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    /// The built `qconvert-bench`, beside `qconvert`.
    public static var benchBinary: URL { binary.deletingLastPathComponent().appendingPathComponent("qconvert-bench") }

    /// Runs `executable` (default `qconvert`) in `directory` (default the current one); `environment`
    /// entries are added to (or replace) this process's environment for the child.
    public static func run(_ arguments: [String], executable: URL? = nil, in directory: URL? = nil,
                           environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = executable ?? binary
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting so a large output cannot block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}
