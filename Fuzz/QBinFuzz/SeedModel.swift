/// Small valid models used as the fuzz corpus seeds (weights of `bits` bits, every op family).
enum FuzzSeed {
    static func model(bits: Int) -> QModel {
        var m = QModel(metadata: [QMetadataEntry("producer", "fuzz seed"), QMetadataEntry("rounding", "gemmlowp"), QMetadataEntry("calibration.conv_out", "minmax")])
        let sw = QType.signed(bits)!, u8 = QType.unsigned(8)!, s8 = QType.signed(8)!
        let lo = Int32(sw.minValue), span = Int32(sw.maxValue - sw.minValue + 1)
        let input = m.addTensor(.activation("input", shape: [4, 4, 3], type: u8, scale: 0.02, zeroPoint: 0))
        let w = m.addTensor(.constant("w", shape: [4, 3, 3, 3], type: sw, scales: [0.1, 0.2, 0.3, 0.4],
                                      values: (0..<108).map { lo + Int32($0) % span }))
        let b = m.addTensor(.constant("b", shape: [4], type: .int32, scales: [0.002], values: [1, -2, 3, -4]))
        let conv = m.addTensor(.activation("conv_out", shape: [4, 4, 4], type: u8, scale: 0.1, zeroPoint: 0))
        let sum = m.addTensor(.activation("sum", shape: [4, 4, 4], type: s8, scale: 0.2, zeroPoint: 1))
        let pool = m.addTensor(.activation("pool", shape: [2, 2, 4], type: s8, scale: 0.2, zeroPoint: 1))
        let flat = m.addTensor(.activation("flat", shape: [16], type: s8, scale: 0.2, zeroPoint: 1))
        let dw = m.addTensor(.constant("dense_w", shape: [3, 16], type: s8, scales: [0.01], values: (0..<48).map { Int32($0) - 24 }))
        let out = m.addTensor(.activation("out", shape: [3], type: s8, scale: 0.5, zeroPoint: 0))
        m.ops = [
            QOp(kind: .conv2D, name: "conv", inputs: [input, w, b], outputs: [conv], attributes: [
                QAttribute("kernel", [3, 3]), QAttribute("stride", [1, 1]), QAttribute("dilation", [1, 1]),
                QAttribute("padding", [1, 1, 1, 1]), QAttribute("groups", [1]),
                QAttribute("multiplier", [1 << 30, 1 << 30, 1 << 30, 1 << 30]), QAttribute("shift", [0, -1, -2, -3]),
                QAttribute("clamp", [0, 255])]),
            QOp(kind: .add, name: "add", inputs: [conv, conv], outputs: [sum], attributes: [
                QAttribute("left_shift", [20]), QAttribute("input_multiplier", [1 << 30, 1 << 30]), QAttribute("input_shift", [0, 0]),
                QAttribute("output_multiplier", [1 << 30]), QAttribute("output_shift", [-20]), QAttribute("clamp", [-128, 127])]),
            QOp(kind: .averagePool2D, name: "pool", inputs: [sum], outputs: [pool], attributes: [
                QAttribute("kernel", [2, 2]), QAttribute("stride", [2, 2]), QAttribute("padding", [0, 0, 0, 0]),
                QAttribute("clamp", [-128, 127])]),
            QOp(kind: .flatten, name: "flatten", inputs: [pool], outputs: [flat]),
            QOp(kind: .dense, name: "dense", inputs: [flat, dw], outputs: [out], attributes: [
                QAttribute("multiplier", [1 << 30]), QAttribute("shift", [-4]), QAttribute("clamp", [-128, 127])]),
        ]
        m.inputs = [input]
        m.outputs = [out]
        return m
    }
}
