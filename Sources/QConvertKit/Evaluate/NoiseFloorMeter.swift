import FloatEngine
import QCore
import Report

/// Measures `NoiseFloor`: the float model's top-1 agreement with itself when every nonzero value of a
/// node that holds a quantized tensor's value gets uniform noise of ±½ that tensor's step (rounding
/// noise alone: float weights, no clipping; zero is exact on every grid). The caller feeds the input as
/// the quantized model sees it (quantized and dequantized), and `clean` from the unquantized input. Each
/// draw is its own SplitMix64 stream, consumed in sample order, so the result depends only on the seed,
/// the samples and the grids.
struct NoiseFloorMeter {
    /// Per float node: the quantization step of the tensor holding its value, or nil (no noise).
    let steps: [Float?]
    private var streams: [SplitMix64]
    private var agreeing: [Int]
    private var samples = 0

    init(steps: [Float?], draws: Int, seed: UInt64) {
        self.steps = steps
        // One stream per draw, seeded by successive outputs of a SplitMix64 of the seed (the first skipped).
        var mix = SplitMix64(seed: seed ^ 0x6E6F_6973_6566_6C72)
        _ = mix.next()
        streams = (0..<draws).map { _ in SplitMix64(seed: mix.next()) }
        agreeing = [Int](repeating: 0, count: draws)
    }

    /// Runs every draw on one batch and counts the samples whose top-1 class matches `clean`'s.
    mutating func add(executor: FloatExecutor, input: [Float], batch: Int, clean: [Float], classes: Int) {
        guard classes > 0 else { return }
        let steps = self.steps
        for d in streams.indices {
            var stream = streams[d]
            let noisy = input.withUnsafeBufferPointer { x in
                executor.run(input: x, batch: batch, perturb: { node, values in
                    guard let step = steps[node] else { return }
                    for i in values.indices where values[i] != 0 {
                        // Uniform in [-1/2, 1/2) step: the top 24 bits of one draw. Zero is always on the
                        // grid (integer zero point), so ReLU's exact zeros keep no rounding error.
                        values[i] += step * (Float(stream.next() >> 40) * 0x1p-24 - 0.5)
                    }
                })[0]
            }
            streams[d] = stream
            for row in 0..<batch where ReportMetrics.argmax(noisy, row: row, classes: classes) == ReportMetrics.argmax(clean, row: row, classes: classes) {
                agreeing[d] += 1
            }
        }
        samples += batch
    }

    func summary(gate: Double?) -> NoiseFloor? {
        guard samples > 0, !agreeing.isEmpty else { return nil }
        let shares = agreeing.map { Double($0) / Double(samples) }
        return NoiseFloor(draws: shares.count, top1AgreementMean: shares.reduce(0, +) / Double(shares.count),
                          top1AgreementMin: shares.min()!, top1AgreementMax: shares.max()!,
                          shareAtGate: gate.map { g in Double(shares.filter { $0 >= g }.count) / Double(shares.count) })
    }
}
