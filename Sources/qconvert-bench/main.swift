import Foundation

// qconvert-bench <subcommand> [options]
//   gemm [--json] [--reps N] [--only NAME]  float32 GEMM/conv kernel throughput at 1 and 2 threads vs measured FMA peak
//   images [--fixtures DIR] [--json] [--reps N] [--only NAME]...
//                                           end-to-end float engine images/s per fixture, batch 1/32, threads 1/2
//   calibrate [--fixture NAME] [--samples N] [--batch B] [--threads T] [--json]
//                                           Calibrator.collect images/s, wall time and peak RSS (calib.h5 cycled)
//   qbin [--fixtures DIR] [--bits N] [--json] [--reps N] [--only NAME]... [--no-gemm] [--work DIR] [--profile] [--samples-per-pass N]
//                                           integer simulator images/s on each fixture converted to .qbin, beside
//                                           the float engine, plus int8 GEMM GOP/s at 1 and 2 threads

let usage = """
usage: qconvert-bench gemm [--json] [--reps N] [--only NAME]
       qconvert-bench images [--fixtures DIR] [--json] [--reps N] [--only FIXTURE]...
       qconvert-bench calibrate [--fixtures DIR] [--fixture NAME] [--samples N] [--batch B] [--threads T] [--json]
       qconvert-bench qbin [--fixtures DIR] [--bits N] [--json] [--reps N] [--only FIXTURE]... [--no-gemm] [--work DIR] [--profile] [--samples-per-pass N]
"""

/// Runs the named subcommand; throws on bad options or a failed measurement.
func runSubcommand(_ name: String, _ options: [String]) throws {
    switch name {
    case "gemm": GemmBench.run(try GemmBench.Options(parsing: options))
    case "images": try ImagesBench.run(try ImagesBench.Options(parsing: options))
    case "qbin": try QBinBench.run(try QBinBench.Options(parsing: options))
    case "calibrate": try CalibrationBench.run(try CalibrationBench.Options(parsing: options))
    default: throw BenchUsageError()
    }
}

struct BenchUsageError: Error, CustomStringConvertible {
    var description: String { "unknown or missing subcommand" }
}

// The one place the tool maps a failure to an exit status (2, like qconvert's bad input).
let arguments = Array(CommandLine.arguments.dropFirst())
do {
    try runSubcommand(arguments.first ?? "", Array(arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("qconvert-bench \(arguments.first ?? ""): \(error)\n\(usage)\n".utf8))
    exit(2)
}
