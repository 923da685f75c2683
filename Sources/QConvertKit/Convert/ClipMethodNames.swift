import Calibration

/// The CLI spellings of the calibration methods (Calibration's `ClipMethod`).
public enum ClipMethodNames {
    public static var all: [String] { ClipMethod.allNames }
    public static func parse(_ text: String, percentile: Double) -> ClipMethod? { ClipMethod.parse(text, percentile: percentile) }
}
