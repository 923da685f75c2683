import ArgumentParser
import FloatEngine
import Foundation
import QConvertKit

/// `qconvert-bench images`: end-to-end images/s of the float engine on every fixture, at batch 1
/// and 32 with 1 and 2 threads, measured the way `tools/bench_peers.py` measures ONNX Runtime and
/// TFLite so the numbers sit in one table.
///
/// One pass classifies the fixture's test images (`data.h5/inputs`, 300) in batches; the last batch
/// is padded to full size by wrapping around to the first images and counted in full (batch 32:
/// 10 batches, 320 images). A sample repeats passes until it lasts at least `minimumSampleSeconds`;
/// samples of all fixtures and settings are interleaved, `reps` rounds, and the median is reported,
/// because the two shared cores are sometimes busy with other load.
enum ImagesBench {
    struct Options: ParsableArguments {
        @Option(help: "Folder of fixture folders (model.h5 + data.h5).") var fixtures = "fixtures"
        @Flag(help: "Print JSON instead of a table.") var json = false
        @Option(help: "Timed repetitions per configuration (median reported).") var reps = 5
        /// Only these fixtures (all when empty).
        @Option(help: "Only this fixture (repeatable; default all).") var only: [String] = []

        func validate() throws {
            guard reps > 0 else { throw ValidationError("--reps needs a positive integer, got \(reps)") }
        }
    }

    enum BenchError: Error, CustomStringConvertible {
        case noFixtures(String)
        var description: String {
            switch self {
            case .noFixtures(let folder): return "no fixture folders with model.h5 and data.h5 in \(folder)"
            }
        }
    }

    /// One timed configuration: batch size and worker threads. `key` is the JSON name that
    /// `tools/bench_peers.py` reads (`batch32_threads2`).
    struct Setting: Hashable {
        let batch: Int, threads: Int
        var key: String { "batch\(batch)_threads\(threads)" }
    }

    static let settings = [Setting(batch: 1, threads: 1), Setting(batch: 1, threads: 2),
                           Setting(batch: 32, threads: 1), Setting(batch: 32, threads: 2)]

    /// Same as bench_peers.py's MIN_RUN_SECONDS: long enough that timer resolution and one-off
    /// stalls do not dominate.
    static let minimumSampleSeconds = 0.2

    /// A loaded fixture: its executor and the test images, padded per batch size.
    final class Workload {
        let name: String
        let executor: FloatExecutor
        let sampleSize: Int
        let images: [Float]
        let imageCount: Int

        init(name: String, folder: String) throws {
            self.name = name
            let model = try ModelLoader.load(path: "\(folder)/model.h5")
            executor = try FloatExecutor(graph: model.graph, maxBatch: settings.map(\.batch).max()!)
            let samples = try SampleFile(path: "\(folder)/data.h5", dataset: "inputs", expectedShape: executor.inputShape)
            sampleSize = samples.sampleSize
            imageCount = samples.count
            var images = [Float](repeating: 0, count: samples.count * sampleSize)
            try images.withUnsafeMutableBufferPointer { buffer in try samples.read(0..<samples.count, into: buffer) }
            self.images = images
        }

        /// The images of one pass at `batch`: rounded up to whole batches by wrapping around.
        func padded(batch: Int) -> [Float] {
            let count = (imageCount + batch - 1) / batch * batch
            var out = [Float](repeating: 0, count: count * sampleSize)
            for i in 0..<count {
                let source = (i % imageCount) * sampleSize
                out.replaceSubrange(i * sampleSize..<(i + 1) * sampleSize, with: images[source..<source + sampleSize])
            }
            return out
        }

        /// Runs one pass at `batch` over `input` (from `padded`) and returns the images classified.
        @discardableResult
        func pass(_ input: [Float], batch: Int) -> Int {
            let count = input.count / sampleSize
            input.withUnsafeBufferPointer { buffer in
                var start = 0
                while start < count {
                    let slice = UnsafeBufferPointer(rebasing: buffer[start * sampleSize..<(start + batch) * sampleSize])
                    _ = executor.run(input: slice, batch: batch)
                    start += batch
                }
            }
            return count
        }
    }

    static func run(_ options: Options) throws {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        let names = try fixtureNames(options)
        var workloads: [Workload] = []
        for name in names {
            do {
                workloads.append(try Workload(name: name, folder: "\(options.fixtures)/\(name)"))
            } catch {
                // A fixture the engine cannot load is reported and skipped; the others still count.
                FileHandle.standardError.write(Data("qconvert-bench images: \(name): \(error)\n".utf8))
            }
        }

        // Warm up each configuration once and size its samples.
        struct Job { let workload: Workload; let setting: Setting; let input: [Float]; let passes: Int }
        var jobs: [Job] = []
        for workload in workloads {
            for setting in settings {
                Parallel.threadCount = setting.threads
                let input = workload.padded(batch: setting.batch)
                workload.pass(input, batch: setting.batch)
                let once = max(Timing.seconds { workload.pass(input, batch: setting.batch) }, 1e-7)
                let passes = max(1, Int((minimumSampleSeconds / once).rounded()))
                jobs.append(Job(workload: workload, setting: setting, input: input, passes: passes))
            }
        }
        var samples = [[Double]](repeating: [], count: jobs.count)
        for _ in 0..<options.reps {
            for (j, job) in jobs.enumerated() {
                Parallel.threadCount = job.setting.threads
                var images = 0
                let t = Timing.seconds {
                    for _ in 0..<job.passes { images += job.workload.pass(job.input, batch: job.setting.batch) }
                }
                samples[j].append(Double(images) / t)
            }
        }

        var results: [String: [String: Double]] = [:]
        for (j, job) in jobs.enumerated() {
            results[job.workload.name, default: [:]][job.setting.key] = Timing.median(samples[j])
        }
        if options.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
        } else {
            printTable(results, order: workloads.map(\.name), reps: options.reps)
        }
    }

    /// Folders under `options.fixtures` holding both `model.h5` and `data.h5`, sorted, filtered by `--only`.
    static func fixtureNames(_ options: Options) throws -> [String] {
        let manager = FileManager.default
        let all = (try? manager.contentsOfDirectory(atPath: options.fixtures)) ?? []
        let names = all.filter { name in
            manager.fileExists(atPath: "\(options.fixtures)/\(name)/model.h5")
                && manager.fileExists(atPath: "\(options.fixtures)/\(name)/data.h5")
                && (options.only.isEmpty || options.only.contains(name))
        }.sorted()
        guard !names.isEmpty else { throw BenchError.noFixtures(options.fixtures) }
        return names
    }

    static func printTable(_ results: [String: [String: Double]], order: [String], reps: Int) {
        print("float engine images/s, median of \(reps) interleaved samples (higher is better)")
        print("fixture".padding(toLength: 20, withPad: " ", startingAt: 0)
              + settings.map { $0.key.leftPadded(to: 17) }.joined())
        for name in order {
            let cells = settings.map { setting in
                (results[name]?[setting.key]).map { String(format: "%.0f", $0) }?.leftPadded(to: 17) ?? "-".leftPadded(to: 17)
            }
            print(name.padding(toLength: 20, withPad: " ", startingAt: 0) + cells.joined())
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: " ", count: max(0, width - count)) + self
    }
}
