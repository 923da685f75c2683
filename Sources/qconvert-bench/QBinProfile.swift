import Foundation
import QBin
import Simulator

extension QBinBench {
    /// `qconvert-bench qbin --profile`: where the simulator's time goes, per op, on one thread in passes
    /// of `samplesPerPass` samples (as `run` splits a batch of 32): the wall time between consecutive ops
    /// of `runQuantized` (kernel, output allocation and bookkeeping), summed over the test images
    /// (padded to whole batches of 32), median of `reps` rounds.
    static func printProfile(_ fixture: Fixture, reps: Int) {
        let simulator = fixture.simulator
        let model = simulator.model
        simulator.threads = 1
        let inputTensor = model.tensors[model.inputs[0]]
        let input = fixture.padded(batch: 32).map { inputTensor.quantizeEdge($0) }
        let passSamples = simulator.samplesPerPass
        let batchValues = passSamples * fixture.sampleSize
        var samples = [[Double]](repeating: [], count: model.ops.count)
        for _ in 0..<(reps + 1) {  // the first pass warms up and is not counted
            var seconds = [Double](repeating: 0, count: model.ops.count)
            var start = 0
            while start < input.count {
                let batch = Array(input[start..<start + batchValues])
                var last = DispatchTime.now().uptimeNanoseconds
                _ = simulator.runQuantized(input: batch, batch: passSamples) { op, _, _ in
                    let now = DispatchTime.now().uptimeNanoseconds
                    seconds[op] += Double(now - last) / 1e9
                    last = now
                }
                start += batchValues
            }
            for op in seconds.indices { samples[op].append(seconds[op]) }
        }
        let medians = samples.map { Timing.median(Array($0.dropFirst())) }
        let total = medians.reduce(0, +)
        let images = input.count / fixture.sampleSize
        print("\(fixture.name): \(String(format: "%.1f", 1000 * total)) ms per \(images) images (passes of \(passSamples), 1 thread, \(String(format: "%.0f", Double(images) / total)) images/s)")
        for op in medians.indices.sorted(by: { medians[$0] > medians[$1] }) {
            let o = model.ops[op]
            let shape = model.tensors[o.outputs[0]].shape.map(String.init).joined(separator: "x")
            print(String(format: "  %5.1f%%  %7.2f ms  %@  %@ -> %@", 100 * medians[op] / total, 1000 * medians[op],
                         o.name.padding(toLength: 22, withPad: " ", startingAt: 0),
                         o.kind.description.padding(toLength: 20, withPad: " ", startingAt: 0), shape))
        }
    }
}
