import FixedPoint

/// `add` / `subtract` of inputs with different scales, TFLite's integer scheme:
///
///     v_i = requant((q_i - z_i) << leftShift, inputMultiplier[i])    (the shift wraps in int32, as TFLite's)
///     q   = clamp(zout + requant(sum_i sign_i * v_i, outputMultiplier))
///
/// `sign_i` is +1, except -1 for the second input of `subtract`. No broadcasting: every input has the
/// output's shape.
final class ReferenceAdd: IntegerLayer {
    let profile: RoundingProfile
    let inputZeros: [Int32]
    let inputMultipliers: [QuantizedMultiplier]
    let signs: [Int32]
    let leftShift: Int32
    let output: ChannelRequantizer

    init(profile: RoundingProfile, inputZeros: [Int32], inputMultipliers: [QuantizedMultiplier], subtract: Bool,
         leftShift: Int32, output: ChannelRequantizer) {
        self.profile = profile; self.inputZeros = inputZeros; self.inputMultipliers = inputMultipliers
        signs = inputZeros.indices.map { subtract && $0 == 1 ? -1 : 1 }
        self.leftShift = leftShift; self.output = output
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output out: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        for index in 0..<out.count {
            var sum: Int32 = 0
            for i in inputs.indices {
                let shifted = (inputs[i][index] &- inputZeros[i]) &<< leftShift
                sum = sum &+ signs[i] &* profile.multiply(shifted, by: inputMultipliers[i])
            }
            out[index] = output.apply(sum, channel: 0)
        }
    }
}
