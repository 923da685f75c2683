import ArgumentParser
import FloatEngine
import Foundation
import QCore

/// `qconvert-bench gemm`: throughput of the float kernels on typical layer shapes at 1 and 2
/// threads, against one core's FMA peak measured in the same run. Each figure is the median of
/// `reps` samples; 1- and 2-thread samples alternate so that load on the second core hits both.
enum GemmBench {
    struct Options: ParsableArguments {
        @Flag(help: "Print JSON instead of a table.") var json = false
        @Option(help: "Timed repetitions per shape (median reported).") var reps = 7
        /// Only shapes whose name contains this text.
        @Option(help: "Only shapes whose name contains this text.") var only: String?

        func validate() throws {
            guard reps > 0 else { throw ValidationError("--reps needs a positive integer, got \(reps)") }
        }
    }

    /// One benchmarked layer: a kernel, its input, and its GEMM dimensions (flops = 2 * M * K * N).
    struct Shape {
        let name: String
        let m: Int, k: Int, n: Int
        let inputCount: Int, outputCount: Int
        let run: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    }

    struct Result: Codable {
        let name: String
        let m: Int, k: Int, n: Int
        let gflops1: Double, gflops2: Double
        let fractionOfPeak1: Double, speedup2: Double
    }

    struct Report: Codable {
        let peakGflopsPerCore: Double
        let reps: Int
        let results: [Result]
    }

    static func run(_ options: Options) {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        let peak = Timing.measurePeak(reps: options.reps)
        var results: [Result] = []
        for shape in shapes() where options.only.map({ shape.name.contains($0) }) ?? true {
            results.append(measure(shape, reps: options.reps, peak: peak))
        }
        let report = Report(peakGflopsPerCore: peak, reps: options.reps, results: results)
        if options.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: (try? encoder.encode(report)) ?? Data(), as: UTF8.self))
        } else {
            printTable(report)
        }
    }

    static func measure(_ shape: Shape, reps: Int, peak: Double) -> Result {
        let input = UnsafeMutablePointer<Float>.allocate(capacity: shape.inputCount)
        let output = UnsafeMutablePointer<Float>.allocate(capacity: shape.outputCount)
        defer { input.deallocate(); output.deallocate() }
        for i in 0..<shape.inputCount { input[i] = Float((i &* 7919) % 1000) / 500 - 1 }
        output.initialize(repeating: 0, count: shape.outputCount)
        let flops = 2 * Double(shape.m) * Double(shape.k) * Double(shape.n)
        let call = { shape.run(UnsafePointer(input), output) }
        var samples: [Int: [Double]] = [1: [], 2: []]
        var calls: [Int: Int] = [:]
        for threads in [1, 2] {
            Parallel.threadCount = threads
            call()  // warm caches and pages
            calls[threads] = Timing.callsPerSample(minimum: 0.05, call)
        }
        for _ in 0..<reps {
            for threads in [1, 2] {
                Parallel.threadCount = threads
                let count = calls[threads]!
                let t = Timing.seconds { for _ in 0..<count { call() } }
                samples[threads]!.append(flops * Double(count) / t / 1e9)
            }
        }
        let g1 = Timing.median(samples[1]!), g2 = Timing.median(samples[2]!)
        return Result(name: shape.name, m: shape.m, k: shape.k, n: shape.n, gflops1: g1, gflops2: g2,
                      fractionOfPeak1: g1 / peak, speedup2: g2 / g1)
    }

    static func printTable(_ report: Report) {
        print(String(format: "single-core FP32 peak (12 SIMD8 FMA chains): %.1f GFLOP/s; median of %d samples",
                     report.peakGflopsPerCore, report.reps))
        print("shape".padding(toLength: 32, withPad: " ", startingAt: 0)
              + "      M      K      N  1T GFLOP/s  1T/peak  2T GFLOP/s  2T/1T")
        for r in report.results {
            print(r.name.padding(toLength: 32, withPad: " ", startingAt: 0)
                  + String(format: "%7d %6d %6d %10.1f %7.0f%% %11.1f %6.2fx",
                           r.m, r.k, r.n, r.gflops1, r.fractionOfPeak1 * 100, r.gflops2, r.speedup2))
        }
    }

    /// The layer shapes (batch 32) plus a plain GEMM, a 1x1 conv and a depthwise conv.
    static func shapes() -> [Shape] {
        let batch = 32
        var shapes: [Shape] = []
        func conv(_ name: String, input: [Int], kernel: Int, stride: Int = 1, out: Int, groups: Int = 1) {
            let pad = kernel / 2
            let geometry = ConvGeometry(kernelH: kernel, kernelW: kernel, strideH: stride, strideW: stride,
                                        padding: Padding2D(top: pad, bottom: pad, left: pad, right: pad))
            let weightShape = [kernel, kernel, input[2] / groups, out]
            let weights = Tensor(shape: weightShape, data: (0..<weightShape.reduce(1, *)).map { Float($0 % 17) / 17 - 0.5 })
            let layer = Conv2DKernel(Conv2D(geometry: geometry, groups: groups, weights: weights, bias: nil, activation: .relu),
                                     inputShape: input)
            let m = batch * layer.outputShape[0] * layer.outputShape[1]
            shapes.append(Shape(name: name, m: m, k: kernel * kernel * input[2] / groups, n: out,
                                inputCount: batch * input.reduce(1, *), outputCount: m * out) { i, o in
                layer.run(input: i, output: o, batch: batch, workspace: o)
            })
        }
        conv("conv3x3 14x14x32->64", input: [14, 14, 32], kernel: 3, out: 64)
        conv("conv3x3 28x28x1->16 (fixture)", input: [28, 28, 1], kernel: 3, out: 16)
        conv("conv3x3 7x7x64->64 (fixture)", input: [7, 7, 64], kernel: 3, out: 64)
        conv("conv3x3 28x28x16->32", input: [28, 28, 16], kernel: 3, out: 32)
        conv("conv3x3/2 14x14x32->64", input: [14, 14, 32], kernel: 3, stride: 2, out: 64)
        conv("conv1x1 14x14x64->128 (direct)", input: [14, 14, 64], kernel: 1, out: 128)

        let dense = Dense(weights: Tensor(shape: [512, 512], data: (0..<(512 * 512)).map { Float($0 % 13) / 13 - 0.5 }), bias: nil)
        let denseKernel = DenseKernel(dense, rows: 1)
        shapes.append(Shape(name: "dense 512->512 (batch 1024)", m: 1024, k: 512, n: 512,
                            inputCount: 1024 * 512, outputCount: 1024 * 512) { i, o in
            denseKernel.run(input: i, output: o, batch: 1024, workspace: o)
        })

        // Depthwise: "K" is the 9 taps and "N" the channels, so 2*M*K*N counts its multiply-adds too.
        let dwGeometry = ConvGeometry(kernelH: 3, kernelW: 3, padding: Padding2D(top: 1, bottom: 1, left: 1, right: 1))
        let dw = DepthwiseConv2D(geometry: dwGeometry, weights: Tensor(shape: [3, 3, 48, 1], data: (0..<432).map { Float($0 % 11) / 11 }),
                                 bias: nil, activation: .relu6)
        let dwKernel = DepthwiseConv2DKernel(dw, inputShape: [14, 14, 48])
        shapes.append(Shape(name: "depthwise3x3 14x14x48", m: batch * 196, k: 9, n: 48,
                            inputCount: batch * 196 * 48, outputCount: batch * 196 * 48) { i, o in
            dwKernel.run(input: i, output: o, batch: batch, workspace: o)
        })
        return shapes
    }
}
