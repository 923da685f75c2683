/// Streaming activation statistics and clipping ranges (docs/calibration.md).
public enum CalibrationModule {}
