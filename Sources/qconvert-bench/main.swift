import ArgumentParser
import Foundation
import Ops
import QConvertKit

// qconvert-bench <subcommand> [options]; `qconvert-bench help SUBCOMMAND` lists each one's options.
//   gemm       float32 GEMM/conv kernel throughput at 1 and 2 threads vs measured FMA peak
//   images     end-to-end float engine images/s per fixture, batch 1/32, threads 1/2
//   calibrate  Calibrator.collect images/s, wall time and peak RSS (calib.h5 cycled)
//   qbin       integer simulator images/s on each fixture converted to .qbin, beside the float
//              engine, plus int8 GEMM GOP/s at 1 and 2 threads
// Exit codes: 0 ok, 2 a failed measurement (a missing fixture, a model that does not convert),
// 64 a usage error.

struct QConvertBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qconvert-bench",
        abstract: "Throughput benchmarks of qconvert's float engine, calibration and integer simulator.",
        subcommands: [Gemm.self, Images.self, Calibrate.self, QBinCommand.self])

    struct Gemm: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Float32 GEMM/conv kernel throughput at 1 and 2 threads vs the measured FMA peak.")
        @OptionGroup var options: GemmBench.Options
        func run() { GemmBench.run(options) }
    }

    struct Images: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End-to-end float engine images/s per fixture, batch 1 and 32, threads 1 and 2.")
        @OptionGroup var options: ImagesBench.Options
        func run() throws { try measuring("images") { try ImagesBench.run(options) } }
    }

    struct Calibrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Calibrator.collect images/s, wall time and peak RSS on one fixture (calib.h5 cycled).")
        @OptionGroup var options: CalibrationBench.Options
        func run() throws { try measuring("calibrate") { try CalibrationBench.run(options) } }
    }

    struct QBinCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "qbin",
            abstract: "Integer simulator images/s on each fixture converted to .qbin, beside the float engine, plus int8 GEMM GOP/s.")
        @OptionGroup var options: QBinBench.Options
        func run() throws { try measuring("qbin") { try QBinBench.run(options) } }
    }
}

/// The one place the tool maps a failed measurement to an exit status (2, like qconvert's bad input).
func measuring(_ subcommand: String, _ body: () throws -> Void) throws {
    do { try body() } catch {
        FileHandle.standardError.write(Data("qconvert-bench \(subcommand): \(error)\n".utf8))
        throw ExitCode(2)
    }
}

// A QCONVERT_ISA this CPU or build cannot honour is a usage error (64), as in qconvert.
if let error = KernelISA.environmentError {
    FileHandle.standardError.write(Data("qconvert-bench: \(error)\n".utf8))
    exit(64)
}
// Which machine and kernel level produce the numbers, before a measurement: on stdout before a text
// table, on stderr beside JSON (which stays one document).
let benchArguments = Array(CommandLine.arguments.dropFirst())
if ["gemm", "images", "calibrate", "qbin"].contains(benchArguments.first ?? ""),
   !benchArguments.contains(where: { $0 == "--help" || $0 == "-h" }) {
    if benchArguments.contains("--json") {
        FileHandle.standardError.write(Data("\(KernelISA.summary)\n".utf8))
    } else {
        print(KernelISA.summary)
    }
}
OpRegistry.install()
QConvertBench.main()
