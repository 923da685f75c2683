import ArgumentParser
import FloatEngine
import Foundation
import QConvertKit
import Simulator

/// `qconvert-bench qbin`: images/s of the integer simulator (`IntegerSimulator.run(input:batch:)`, the
/// call behind `qconvert run`) on each fixture converted to `.qbin`, beside the float engine on the
/// same model, at batch 1 and 32 with 1 and 2 threads; then the simulator's int8 GEMM in GOP/s.
///
/// Each fixture's `model.h5` is converted with its `calib.h5` by `ConvertJob` (the `qconvert convert`
/// pipeline, `--bits` for weights and activations, first and last layers at 8 bits) into `--work DIR`
/// (default: a temporary folder, removed at exit); an existing `<fixture>.w<bits>.qbin` there newer than
/// the model is reused, so `tools/bench_peers_int8.py` can call this once per round cheaply.
///
/// Timing as in `ImagesBench` (and `tools/bench_peers.py`): one pass classifies `data.h5/inputs`
/// (300 images) in batches, the last padded by wrapping around and counted in full; a sample repeats
/// passes for at least `minimumSampleSeconds`; samples of every fixture, engine and setting are
/// interleaved over `reps` rounds and the median is reported. Top-1 agreement of the simulator with
/// the Keras outputs in `data.h5/outputs` is computed once, at batch 32.
enum QBinBench {
    struct Options: ParsableArguments {
        @Option(help: "Folder of fixture folders (model.h5, data.h5, calib.h5).") var fixtures = "fixtures"
        @Option(help: "Bits of weights and activations of the converted models (2...8).") var bits = 8
        @Flag(help: "Print JSON instead of a table.") var json = false
        @Option(help: "Timed repetitions per configuration (median reported).") var reps = 5
        @Option(help: "Only this fixture (repeatable; default all).") var only: [String] = []
        /// Where the converted models go (kept); nil = a temporary folder removed at exit.
        @Option(help: "Folder for the converted models (kept); default a temporary folder removed at exit.") var work: String?
        /// Skip the int8 GEMM measurement (the per-round calls of the peer script).
        @Flag(name: .customLong("no-gemm"), help: "Skip the int8 GEMM measurement.") var noGemm = false
        var gemm: Bool { !noGemm }
        /// Print where the simulator's time goes per op (batch 32, 1 thread) instead of the images/s table.
        @Flag(help: "Print where the simulator's time goes per op (batch 32, 1 thread) instead of images/s.") var profile = false
        /// The simulator's samples per pass (`IntegerSimulator.samplesPerPass`); nil = its default.
        @Option(help: "The simulator's samples per pass (default: its own).") var samplesPerPass: Int?

        func validate() throws {
            guard (2...8).contains(bits) else { throw ValidationError("--bits needs an integer in 2...8, got \(bits)") }
            guard reps > 0 else { throw ValidationError("--reps needs a positive integer, got \(reps)") }
            if let n = samplesPerPass, n <= 0 { throw ValidationError("--samples-per-pass needs a positive integer, got \(n)") }
        }
    }

    enum BenchError: Error, CustomStringConvertible {
        case noFixtures(String)
        case fixture(String, String)
        var description: String {
            switch self {
            case .noFixtures(let folder): return "no fixture folders with model.h5, data.h5 and calib.h5 in \(folder)"
            case .fixture(let name, let detail): return "\(name): \(detail)"
            }
        }
    }

    struct Setting: Hashable {
        let batch: Int, threads: Int
        var key: String { "batch\(batch)_threads\(threads)" }
    }

    static let settings = [Setting(batch: 1, threads: 1), Setting(batch: 1, threads: 2),
                           Setting(batch: 32, threads: 1), Setting(batch: 32, threads: 2)]
    static let minimumSampleSeconds = 0.2
    /// GEMM shapes (M x N x K) of `Tests/SimulatorTests/GEMMBenchTests.swift`: a 28x28 3x3 conv at
    /// 64 -> 64 channels, a square-ish dense, a 14x14 3x3 conv 128 -> 128.
    static let gemmShapes = [(784, 64, 576), (1024, 256, 1024), (196, 128, 1152)]

    /// One engine on one fixture: `run(input, batch)` classifies `batch` images from `input`.
    final class Engine {
        let name: String
        let setThreads: (Int) -> Void
        let run: (UnsafeBufferPointer<Float>, Int) -> [Float]
        init(name: String, setThreads: @escaping (Int) -> Void, run: @escaping (UnsafeBufferPointer<Float>, Int) -> [Float]) {
            self.name = name; self.setThreads = setThreads; self.run = run
        }
    }

    final class Fixture {
        let name: String
        let sampleSize: Int
        let imageCount: Int
        let images: [Float]
        let reference: [Float]?
        let engines: [Engine]
        let qbinBytes: Int
        let simulator: IntegerSimulator

        init(name: String, folder: String, work: String, bits: Int) throws {
            self.name = name
            let qbin = "\(work)/\(name).w\(bits).qbin"
            let model = "\(folder)/model.h5"
            if !isFresh(qbin, than: model) {
                var options = ConvertOptions(modelPath: model, outputPath: qbin)
                options.calibrationPath = "\(folder)/calib.h5"
                options.recipe.weightBits = bits
                options.recipe.activationBits = bits
                options.noiseFloorDraws = 0
                do { try ConvertJob(options: options).run().commit(json: nil, html: nil) } catch { throw BenchError.fixture(name, "convert: \(error)") }
            }
            qbinBytes = ((try? FileManager.default.attributesOfItem(atPath: qbin)[.size]) as? Int) ?? 0
            let simulator: IntegerSimulator
            do { simulator = try IntegerSimulator(path: qbin, rounding: .gemmlowp, maxBatch: 32) } catch {
                throw BenchError.fixture(name, "simulator: \(error)")
            }
            self.simulator = simulator
            let executor = try FloatExecutor(graph: try ModelLoader.load(path: model).graph, maxBatch: 32)
            engines = [
                Engine(name: "sim", setThreads: { simulator.threads = $0 }, run: { simulator.run(input: $0, batch: $1)[0] }),
                Engine(name: "float", setThreads: { Parallel.threadCount = $0 }, run: { executor.run(input: $0, batch: $1)[0] }),
            ]
            let samples = try SampleFile(path: "\(folder)/data.h5", dataset: "inputs", expectedShape: simulator.inputShape)
            sampleSize = samples.sampleSize
            imageCount = samples.count
            var images = [Float](repeating: 0, count: samples.count * sampleSize)
            try images.withUnsafeMutableBufferPointer { try samples.read(0..<samples.count, into: $0) }
            self.images = images
            let outputSize = simulator.outputShapes[0].reduce(1, *)
            reference = try EvaluationTargets.read(path: "\(folder)/data.h5", count: imageCount, outputSize: outputSize).referenceOutputs
        }

        /// The images of one pass at `batch`: rounded up to whole batches by wrapping around.
        func padded(batch: Int) -> [Float] {
            let count = (imageCount + batch - 1) / batch * batch
            return (0..<count).flatMap { i in images[(i % imageCount) * sampleSize..<(i % imageCount + 1) * sampleSize] }
        }

        /// One pass of `engine` at `batch` over `input`; returns the outputs of every image, in order.
        @discardableResult
        func pass(_ engine: Engine, _ input: [Float], batch: Int) -> [Float] {
            var outputs: [Float] = []
            input.withUnsafeBufferPointer { buffer in
                var start = 0
                while start < input.count / sampleSize {
                    outputs += engine.run(UnsafeBufferPointer(rebasing: buffer[start * sampleSize..<(start + batch) * sampleSize]), batch)
                    start += batch
                }
            }
            return outputs
        }

        /// Share of the test images whose argmax under `engine` equals the Keras reference's.
        func top1Agreement(_ engine: Engine) -> Double? {
            guard let reference, imageCount > 0 else { return nil }
            let outputs = pass(engine, padded(batch: 32), batch: 32)
            let classes = reference.count / imageCount
            var agree = 0
            for i in 0..<imageCount where argmax(outputs[i * classes..<(i + 1) * classes]) == argmax(reference[i * classes..<(i + 1) * classes]) {
                agree += 1
            }
            return Double(agree) / Double(imageCount)
        }
    }

    static func run(_ options: Options) throws {
        let savedThreads = Parallel.threadCount
        defer { Parallel.threadCount = savedThreads }
        let work: String
        if let folder = options.work {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            work = folder
        } else {
            work = NSTemporaryDirectory() + "qconvert-bench-qbin-\(ProcessInfo.processInfo.processIdentifier)"
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        }
        defer { if options.work == nil { try? FileManager.default.removeItem(atPath: work) } }

        var fixtures: [Fixture] = []
        for name in try fixtureNames(options) {
            do {
                let fixture = try Fixture(name: name, folder: "\(options.fixtures)/\(name)", work: work, bits: options.bits)
                if let n = options.samplesPerPass { fixture.simulator.samplesPerPass = n }
                fixtures.append(fixture)
            } catch {
                // A fixture that cannot be converted or loaded is reported and skipped; the others still count.
                FileHandle.standardError.write(Data("qconvert-bench qbin: \(name): \(error)\n".utf8))
            }
        }

        if options.profile {
            for fixture in fixtures { printProfile(fixture, reps: options.reps) }
            return
        }

        struct Job { let fixture: Fixture; let engine: Engine; let setting: Setting; let input: [Float]; let passes: Int }
        var jobs: [Job] = []
        for fixture in fixtures {
            for engine in fixture.engines {
                for setting in settings {
                    engine.setThreads(setting.threads)
                    let input = fixture.padded(batch: setting.batch)
                    fixture.pass(engine, input, batch: setting.batch)
                    let once = max(Timing.seconds { fixture.pass(engine, input, batch: setting.batch) }, 1e-7)
                    jobs.append(Job(fixture: fixture, engine: engine, setting: setting, input: input,
                                    passes: max(1, Int((minimumSampleSeconds / once).rounded()))))
                }
            }
        }
        var samples = [[Double]](repeating: [], count: jobs.count)
        for _ in 0..<options.reps {
            for (j, job) in jobs.enumerated() {
                job.engine.setThreads(job.setting.threads)
                let count = job.input.count / job.fixture.sampleSize
                let t = Timing.seconds { for _ in 0..<job.passes { job.fixture.pass(job.engine, job.input, batch: job.setting.batch) } }
                samples[j].append(Double(count * job.passes) / t)
            }
        }

        var results: [String: [String: Double]] = [:]
        for (j, job) in jobs.enumerated() {
            results[job.fixture.name, default: [:]]["\(job.engine.name)_\(job.setting.key)"] = Timing.median(samples[j])
        }
        for fixture in fixtures {
            fixture.engines[0].setThreads(2)
            results[fixture.name]?["sim_top1_agreement"] = fixture.top1Agreement(fixture.engines[0])
            results[fixture.name]?["qbin_bytes"] = Double(fixture.qbinBytes)
        }
        let gemm = options.gemm ? measureGEMM(reps: max(options.reps, 7)) : []
        let peak = options.gemm ? IntegerPeakProbe(repetitions: max(options.reps, 7)) ?? 0 : 0
        // avx2 / avx512: 8-bit weights run the s16 path, bounded by `vpmaddwd`, half the products of the
        // `vpmaddubsw` the u8 path (<= 7-bit weights) uses; each GEMM is set against its own path's peak.
        let peakS16 = options.gemm ? IntegerPeakProbe(repetitions: max(options.reps, 7), s16: true) : nil
        func pathPeak(_ result: IntegerGEMMBenchResult) -> Double { result.path == "s16" ? peakS16 ?? peak : peak }
        if options.json {
            var document: [String: [String: Double]] = results
            if !gemm.isEmpty {
                var table = Dictionary(uniqueKeysWithValues: gemm.map { ("\($0.m)x\($0.n)x\($0.k)_w\($0.weightBits)_threads\($0.threads)", $0.gops) })
                table["peak_probe_1thread"] = peak
                if let peakS16 { table["peak_probe_s16_1thread"] = peakS16 }
                document["int8_gemm"] = table
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(document), as: UTF8.self))
        } else {
            printTable(results, order: fixtures.map(\.name), options: options)
            if !gemm.isEmpty {
                print(String(format: "int8 peak, one thread (qc_int8_probe at %@: twelve independent chains of the level's multiply-add idiom): %.1f GOP/s",
                             gemm[0].isa, peak))
                if let peakS16 {
                    print(String(format: "s16 path's peak, one thread (qc_int8_probe_s16: vpmaddwd chains, the exact instruction for 8-bit weights here): %.1f GOP/s",
                                 peakS16))
                }
            }
            for result in gemm {
                print("\(result)" + String(format: "  (%.0f %% of the 1-thread peak of its path)", result.gops / pathPeak(result) * 100))
            }
        }
    }

    /// The simulator's int8 GEMM (`IntegerGEMMBench`: packed weights x int8 activations -> int32, im2col
    /// and requantization excluded) on `gemmShapes`, 8- and 4-bit weights, 1 and 2 threads.
    static func measureGEMM(reps: Int) -> [IntegerGEMMBenchResult] {
        var results: [IntegerGEMMBenchResult] = []
        for (m, n, k) in gemmShapes {
            for bits in [8, 4] {
                for threads in [1, 2] {
                    results.append(IntegerGEMMBench(m: m, n: n, k: k, weightBits: bits, threads: threads, repetitions: reps))
                }
            }
        }
        return results
    }

    /// Folders holding `model.h5`, `data.h5` and `calib.h5`, sorted, filtered by `--only`.
    static func fixtureNames(_ options: Options) throws -> [String] {
        let manager = FileManager.default
        let names = ((try? manager.contentsOfDirectory(atPath: options.fixtures)) ?? []).filter { name in
            ["model.h5", "data.h5", "calib.h5"].allSatisfy { manager.fileExists(atPath: "\(options.fixtures)/\(name)/\($0)") }
                && (options.only.isEmpty || options.only.contains(name))
        }.sorted()
        guard !names.isEmpty else { throw BenchError.noFixtures(options.fixtures) }
        return names
    }

    static func printTable(_ results: [String: [String: Double]], order: [String], options: Options) {
        print("images/s, median of \(options.reps) interleaved samples (higher is better); sim = integer simulator on "
              + "the W\(options.bits)A\(options.bits) .qbin, float = float engine on model.h5")
        print("fixture".padding(toLength: 20, withPad: " ", startingAt: 0) + "setting".padding(toLength: 17, withPad: " ", startingAt: 0)
              + "       sim     float  sim/float  sim top-1")
        for name in order {
            let r = results[name] ?? [:]
            for setting in settings {
                let sim = r["sim_\(setting.key)"] ?? 0, float = r["float_\(setting.key)"] ?? 0
                print(name.padding(toLength: 20, withPad: " ", startingAt: 0) + setting.key.padding(toLength: 17, withPad: " ", startingAt: 0)
                      + String(format: "%10.0f%10.0f%10.2fx", sim, float, float > 0 ? sim / float : 0)
                      + (r["sim_top1_agreement"].map { String(format: "%10.1f%%", $0 * 100) } ?? ""))
            }
        }
    }
}

/// Whether `path` exists and was modified after `source`.
private func isFresh(_ path: String, than source: String) -> Bool {
    let manager = FileManager.default
    guard let made = (try? manager.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
          let changed = (try? manager.attributesOfItem(atPath: source))?[.modificationDate] as? Date else { return false }
    return made > changed
}

private func argmax(_ values: ArraySlice<Float>) -> Int {
    var best = values.startIndex
    for i in values.indices where values[i] > values[best] { best = i }
    return best - values.startIndex
}
