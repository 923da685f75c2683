import Foundation

/// Running sums comparing one op's output across runs (float vs dequantized simulator; simulator vs
/// emulation in LSBs), so evaluation memory does not grow with the number of samples.
struct LayerComparison {
    // Float reference vs simulator (dequantized), accumulated error through depth.
    var floatEnergy = 0.0
    var errorEnergy = 0.0
    // Float reference vs its own fake quantization with the tensor's encoding (this tensor's error alone).
    var quantizationErrorEnergy = 0.0
    // Simulator vs emulation with the simulator's inputs (teacher forcing), |difference| 0, 1, 2, 3+.
    var lsbCounts = [Int](repeating: 0, count: 4)
    var maxLSB: Int32 = 0

    var relativeError: Double { floatEnergy > 0 ? (errorEnergy / floatEnergy).squareRoot() : 0 }
    var outputSQNR: Double { Self.sqnr(floatEnergy, errorEnergy) }
    var activationSQNR: Double { Self.sqnr(floatEnergy, quantizationErrorEnergy) }
    var compared: Int { lsbCounts.reduce(0, +) }
    var identicalShare: Double { compared > 0 ? Double(lsbCounts[0]) / Double(compared) : 1 }

    /// `10 log10(signal / noise)` in dB, capped at 200 (no noise).
    static func sqnr(_ signal: Double, _ noise: Double) -> Double {
        guard noise > 0 else { return 200 }
        guard signal > 0 else { return 0 }
        return min(200, 10 * (signal / noise).log10)
    }

    mutating func addLSB(_ a: UnsafeBufferPointer<Int32>, _ b: [Int32]) {
        for i in 0..<min(a.count, b.count) {
            let d = abs(a[i] &- b[i])
            lsbCounts[Int(min(d, 3))] += 1
            maxLSB = max(maxLSB, d)
        }
    }
}

extension Double {
    var log10: Double { Foundation.log10(self) }
}
