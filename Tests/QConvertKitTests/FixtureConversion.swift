import QCTestSupport
import QConvertKit

extension ConvertOptions {
    /// A committed fixture (or zoo model) converted at `bits` for weights and activations, calibrated on
    /// 128 images of its `calib.h5` and evaluated on its `data.h5`, without a noise floor.
    static func fixture(_ fixture: String, bits: Int, output: String) -> ConvertOptions {
        var options = ConvertOptions(modelPath: Fixtures.path(fixture, "model.h5"), outputPath: output)
        options.recipe.weightBits = bits
        options.recipe.activationBits = bits
        options.calibrationPath = Fixtures.path(fixture, "calib.h5")
        options.calibrationSamples = 128
        options.evaluationPath = Fixtures.path(fixture, "data.h5")
        options.noiseFloorDraws = 0
        return options
    }
}
