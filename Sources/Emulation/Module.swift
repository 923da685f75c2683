/// Quantized float emulation of a QModel.
public enum EmulationModule {}
