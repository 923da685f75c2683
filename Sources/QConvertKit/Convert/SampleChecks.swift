/// Checks on how many samples calibration and evaluation get, made before the slow part of a job.
extension FidelityGates {
    /// Throws a usage error naming the first gate that the evaluation data cannot measure: any gate but
    /// `max-lsb-error` with no evaluation samples, `max-accuracy-drop` without labels. (Measured as
    /// "not measured", such a gate used to fail with exit 1, as if the model were bad.)
    /// `source` describes the evaluation data; `moreSamples` and `labels` say what to pass instead.
    public func checkMeasurable(samples: Int, hasLabels: Bool, source: String, moreSamples: String,
                                labels: String) throws(QConvertError) {
        if samples == 0 {
            let named = [("min-agreement", minAgreement != nil), ("max-accuracy-drop", maxAccuracyDrop != nil),
                         ("min-output-sqnr", minOutputSQNR != nil)]
            if let gate = named.first(where: { $0.1 })?.0 {
                throw .unmeasurableGate(gate: gate, reason: "there are no evaluation samples (\(source))", remedy: moreSamples)
            }
        }
        if maxAccuracyDrop != nil, !hasLabels {
            throw .unmeasurableGate(gate: "max-accuracy-drop", reason: "it needs labels, and the evaluation data (\(source)) has none", remedy: labels)
        }
    }
}

/// Warnings about sample counts too small to trust.
enum SampleCountWarnings {
    /// Below this many calibration samples, ranges and bias correction rest on too few images: the
    /// min/max of one image, and percentile, MSE or KL clipping of one image's histogram, say little
    /// about the next image. One batch of the default size.
    static let fewCalibrationSamples = 32

    static func calibration(_ count: Int, path: String) -> [String] {
        guard count < fewCalibrationSamples else { return [] }
        return ["calibration uses only \(count) sample\(count == 1 ? "" : "s") of \(path); clipping ranges and bias correction "
                + "from so few samples fit them, not the data the model will see (pass a few hundred representative samples)"]
    }
}
