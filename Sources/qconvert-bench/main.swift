import Foundation

// qconvert-bench <subcommand> [options]
//   gemm [--json] [--reps N] [--only NAME]  float32 GEMM/conv kernel throughput at 1 and 2 threads vs measured FMA peak
//   images [--fixtures DIR] [--json] [--reps N] [--only NAME]...
//                                           end-to-end float engine images/s per fixture, batch 1/32, threads 1/2
//   calibrate [--fixture NAME] [--samples N] [--batch B] [--threads T] [--json]
//                                           Calibrator.collect images/s, wall time and peak RSS (calib.h5 cycled)
//   qbin [--fixtures DIR] [--bits N] [--json] [--reps N] [--only NAME]...
//                                           integer simulator images/s on each fixture converted to .qbin, beside
//                                           the float engine, plus int8 GEMM GOP/s at 1 and 2 threads

let usage = """
usage: qconvert-bench gemm [--json] [--reps N] [--only NAME]
       qconvert-bench images [--fixtures DIR] [--json] [--reps N] [--only FIXTURE]...
       qconvert-bench calibrate [--fixtures DIR] [--fixture NAME] [--samples N] [--batch B] [--threads T] [--json]
       qconvert-bench qbin [--fixtures DIR] [--bits N] [--json] [--reps N] [--only FIXTURE]...
"""

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "gemm":
    do {
        let options = try GemmBench.Options(parsing: Array(arguments.dropFirst()))
        GemmBench.run(options)
    } catch {
        FileHandle.standardError.write(Data("qconvert-bench gemm: \(error)\n\(usage)\n".utf8))
        exit(2)
    }
case "images":
    do {
        let options = try ImagesBench.Options(parsing: Array(arguments.dropFirst()))
        try ImagesBench.run(options)
    } catch {
        FileHandle.standardError.write(Data("qconvert-bench images: \(error)\n\(usage)\n".utf8))
        exit(2)
    }
case "qbin":
    do {
        let options = try QBinBench.Options(parsing: Array(arguments.dropFirst()))
        try QBinBench.run(options)
    } catch {
        FileHandle.standardError.write(Data("qconvert-bench qbin: \(error)\n\(usage)\n".utf8))
        exit(2)
    }
case "calibrate":
    do {
        let options = try CalibrationBench.Options(parsing: Array(arguments.dropFirst()))
        try CalibrationBench.run(options)
    } catch {
        FileHandle.standardError.write(Data("qconvert-bench calibrate: \(error)\n\(usage)\n".utf8))
        exit(2)
    }
default:
    FileHandle.standardError.write(Data("\(usage)\n".utf8))
    exit(2)
}
