import Foundation

// qconvert-bench <subcommand> [options]
//   gemm [--json] [--reps N] [--only NAME]  float32 GEMM/conv kernel throughput at 1 and 2 threads vs measured FMA peak
//   images                     end-to-end images/s per fixture (not yet written)

let usage = """
usage: qconvert-bench gemm [--json] [--reps N] [--only NAME]
       qconvert-bench images
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
    print("not yet")
default:
    FileHandle.standardError.write(Data("\(usage)\n".utf8))
    exit(2)
}
