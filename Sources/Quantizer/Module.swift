/// Float graph + calibration statistics -> quantized QModel (docs/quantization.md).
public enum QuantizerModule {}
