import ArgumentParser
import Calibration
import FloatEngine
import Foundation
import QConvertKit
import Quantizer

/// `qconvert-bench calibrate`: calibration throughput and peak memory of one fixture.
///
/// Builds the graph `qconvert convert` calibrates (the Keras model, canonicalised: BN folded, ReLU
/// fused) and streams `samples` images through `Calibrator.collect` in batches, cycling through the
/// fixture's `calib.h5/inputs` (512 images), so `samples` may exceed the file. The images are read
/// into memory once, before the clock starts; the timed part is the forward pass plus statistics.
///
/// Peak memory is the process's `ru_maxrss`: run one sample count per process (see
/// `tools/calibration-scaling.sh`) so a larger run cannot inherit a smaller one's peak.
enum CalibrationBench {
    struct Options: ParsableArguments {
        @Option(help: "Folder of fixture folders.") var fixtures = "fixtures"
        @Option(help: "The fixture whose model and calib.h5 are used.") var fixture = "resnet_bn"
        @Option(help: "Images to stream through calibration (calib.h5 is cycled).") var samples = 512
        @Option(help: "Images per batch.") var batch = 32
        @Option(help: "Worker threads (default: all cores).") var threads = Parallel.threadCount
        @Flag(help: "Print JSON instead of a table.") var json = false

        func validate() throws {
            for (name, value) in [("--samples", samples), ("--batch", batch), ("--threads", threads)] where value <= 0 {
                throw ValidationError("\(name) needs a positive integer, got \(value)")
            }
        }
    }

    /// One run's figures; the JSON keys are what `tools/calibration-scaling.sh` reads.
    struct Result: Encodable {
        let fixture: String
        let samples: Int
        let batch: Int
        let threads: Int
        let nodes: Int
        let seconds: Double
        let imagesPerSecond: Double
        /// Peak resident set of the whole process (`ru_maxrss`), bytes.
        let peakRSSBytes: Int
        /// Peak resident set just before calibration started (model, executor, images loaded), bytes.
        let rssBeforeBytes: Int

        enum CodingKeys: String, CodingKey {
            case fixture, samples, batch, threads, nodes, seconds
            case imagesPerSecond = "images_per_second"
            case peakRSSBytes = "peak_rss_bytes"
            case rssBeforeBytes = "rss_before_bytes"
        }
    }

    static func run(_ options: Options) throws {
        let folder = "\(options.fixtures)/\(options.fixture)"
        let loaded = try ModelLoader.load(path: "\(folder)/model.h5")
        let graph = try GraphCanonicalizer.canonicalize(loaded.graph).graph
        let executor = try FloatExecutor(graph: graph, maxBatch: options.batch)
        let file = try SampleFile(path: "\(folder)/calib.h5", dataset: "inputs", expectedShape: executor.inputShape)
        let sampleSize = file.sampleSize, available = file.count
        var images = [Float](repeating: 0, count: available * sampleSize)
        try images.withUnsafeMutableBufferPointer { buffer in try file.read(0..<available, into: buffer) }

        Parallel.threadCount = options.threads
        let rssBefore = peakRSSBytes()
        var seconds = 0.0
        try images.withUnsafeBufferPointer { source in
            // Sample i is image i mod `available`; a batch may wrap around the end of the file.
            func read(start: Int, count: Int, into buffer: UnsafeMutableBufferPointer<Float>) {
                for k in 0..<count {
                    let image = (start + k) % available
                    let from = UnsafeBufferPointer(rebasing: source[image * sampleSize..<(image + 1) * sampleSize])
                    _ = UnsafeMutableBufferPointer(rebasing: buffer[k * sampleSize..<(k + 1) * sampleSize]).initialize(from: from)
                }
            }
            let start = DispatchTime.now().uptimeNanoseconds
            let statistics = try Calibrator.collect(executor: executor, sampleCount: options.samples, batchSize: options.batch,
                                                    read: read)
            seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            withExtendedLifetime(statistics) {}
        }
        let result = Result(fixture: options.fixture, samples: options.samples, batch: options.batch, threads: options.threads,
                            nodes: graph.nodes.count, seconds: seconds, imagesPerSecond: Double(options.samples) / seconds,
                            peakRSSBytes: peakRSSBytes(), rssBeforeBytes: rssBefore)
        if options.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print("calibrate \(result.fixture): \(result.samples) samples (\(available) images of calib.h5, cycled), "
                  + "batch \(result.batch), \(result.threads) thread(s), \(result.nodes) nodes")
            print(String(format: "  %.0f images/s, %.3f s wall, peak RSS %.1f MiB (%.1f MiB before calibration)",
                         result.imagesPerSecond, result.seconds,
                         Double(result.peakRSSBytes) / 1_048_576, Double(result.rssBeforeBytes) / 1_048_576))
        }
    }

    /// `getrusage(RUSAGE_SELF).ru_maxrss`: the process's peak resident set, in bytes (Linux reports KiB).
    static func peakRSSBytes() -> Int { ProcessMemory.peakBytes }
}
