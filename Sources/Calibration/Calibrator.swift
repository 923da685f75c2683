import FloatEngine
import QCore

/// Runs calibration samples through the float graph and gathers each node's statistics.
public enum Calibrator {
    /// Streams `sampleCount` samples through `executor` in batches of `batchSize`;
    /// `read(start, count, buffer)` fills `buffer` (count x sampleSize floats). Returns one
    /// `TensorStatistics` per graph node (index = node index, channels = last axis of the node's
    /// shape, `bins` histogram bins); `progress(done, total)` after each batch.
    ///
    /// Memory: the statistics are fixed-size, plus one input batch; the executor reuses its buffers.
    public static func collect(executor: FloatExecutor, sampleCount: Int, batchSize: Int, bins: Int = 2048,
                               read: (Int, Int, UnsafeMutableBufferPointer<Float>) throws -> Void,
                               progress: (Int, Int) -> Void = { _, _ in }) throws -> [TensorStatistics] {
        guard sampleCount > 0, batchSize > 0 else {
            throw CalibrationError.invalidRequest(sampleCount: sampleCount, batchSize: batchSize)
        }
        let statistics = executor.graph.nodes.map { TensorStatistics(channels: $0.shape.last ?? 1, bins: bins) }
        try stream(executor: executor, sampleCount: sampleCount, batchSize: batchSize, read: read,
                   observe: { node, values, _ in statistics[node].add(values) }, progress: progress)
        return statistics
    }

    /// `collect` for the listed nodes only (a rewrite that changed a few tensors and left the others'
    /// values as they were): the same forward passes, histograms for `nodes` alone.
    public static func collect(executor: FloatExecutor, nodes: Set<Int>, sampleCount: Int, batchSize: Int, bins: Int = 2048,
                               read: (Int, Int, UnsafeMutableBufferPointer<Float>) throws -> Void) throws -> [Int: TensorStatistics] {
        guard sampleCount > 0, batchSize > 0 else {
            throw CalibrationError.invalidRequest(sampleCount: sampleCount, batchSize: batchSize)
        }
        var statistics: [Int: TensorStatistics] = [:]
        for k in nodes where executor.graph.nodes.indices.contains(k) {
            statistics[k] = TensorStatistics(channels: executor.graph.nodes[k].shape.last ?? 1, bins: bins)
        }
        try stream(executor: executor, sampleCount: sampleCount, batchSize: batchSize, read: read,
                   observe: { node, values, _ in statistics[node]?.add(values) })
        return statistics
    }

    /// Runs `sampleCount` samples through `executor` in batches of at most `batchSize` (one input buffer,
    /// reused); `observe(node, values, samplesInBatch)` sees every node's output of every batch.
    static func stream(executor: FloatExecutor, sampleCount: Int, batchSize: Int,
                       read: (Int, Int, UnsafeMutableBufferPointer<Float>) throws -> Void,
                       observe: (Int, UnsafeBufferPointer<Float>, Int) -> Void,
                       progress: (Int, Int) -> Void = { _, _ in }) throws {
        let sampleSize = executor.inputShape.reduce(1, *)
        let batch = Swift.max(1, Swift.min(batchSize, sampleCount))
        var input = [Float](repeating: 0, count: batch * sampleSize)
        var start = 0
        while start < sampleCount {
            let n = Swift.min(batch, sampleCount - start)
            try input.withUnsafeMutableBufferPointer { buffer in
                try read(start, n, UnsafeMutableBufferPointer(rebasing: buffer[0..<n * sampleSize]))
            }
            input.withUnsafeBufferPointer { buffer in
                // `run` takes an optional (so escaping) closure; it calls it only during the call.
                withoutActuallyEscaping(observe) { observe in
                    _ = executor.run(input: UnsafeBufferPointer(rebasing: buffer[0..<n * sampleSize]), batch: n) { node, values in
                        observe(node, values, n)
                    }
                }
            }
            start += n
            progress(start, sampleCount)
        }
    }
}
