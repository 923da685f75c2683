/// qconvert's version: `qconvert --version`, the `.qbin` `producer` metadata and the report's `generator`.
public enum QConvertVersion {
    public static let number = "0.1.0"
    /// `qconvert 0.1.0`.
    public static let producer = "qconvert \(number)"
}
