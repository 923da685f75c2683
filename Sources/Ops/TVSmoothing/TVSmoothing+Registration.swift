extension TVSmoothing {
    /// Every part of the TV smoothing op (docs/tv-smoothing.md).
    public static let registration = OpRegistration(
        example: TVSmoothing(gamma: 0.1, steps: 2), exampleInputShape: [6, 5, 3], kind: TVSmoothingKind(), integer: TVSmoothingInteger(),
        emulated: TVSmoothingTwin(), keras: TVSmoothingKeras())
}
