import Foundation
import QBin
import QCore

extension ModelBuilder {
    /// A standalone activation: ReLU / ReLU6 as a clamped `requantize`; a final softmax left to the edge
    /// (metadata `output.activation`); any other function as a `lookupTable` over every input code.
    mutating func lowerActivation(_ i: Int, _ activation: Activation, bits: Int) throws(QuantizerError) {
        let node = graph.nodes[i]
        let x = input(i)
        switch activation {
        case .softmax:
            guard graph.outputs.contains(i), consumerCount[i] == 2 else {
                throw .unsupportedLayer(name: node.name, op: node.op.name,
                                        reason: "softmax is supported only as the model's final activation (applied in float to the dequantized logits)")
            }
            tensorOf[i] = x.tensor
            params[i] = x.params
            outputActivation = .softmax
        case .linear, .relu, .relu6:
            let p = try outputParams(i, bits: bits)
            let m = try quantizer.multiplier(Double(x.params.scale) / Double(p.scale), layer: node.name)
            let t = addOutput(i, p)
            let clamp = p.clamp(relu: activation != .linear, relu6: activation == .relu6)
            model.ops.append(QOp(kind: .requantize, name: node.name, inputs: [x.tensor], outputs: [t],
                                 attributes: [QAttribute("multiplier", [m.multiplier]), QAttribute("shift", [m.shift]),
                                              QAttribute("clamp", clamp)]))
            record(i, kind: .requantize, tensor: t, p: p)
        default:
            let p = try outputParams(i, bits: bits)
            let inType = x.params.type
            var table: [Int32] = []
            table.reserveCapacity(1 << inType.bits)
            for q in inType.minValue...inType.maxValue {
                let real = Double(x.params.scale) * Double(q - Int64(x.params.zeroPoint))
                table.append(p.quantize(Float(Self.evaluate(activation, real))))
            }
            let tableTensor = model.addTensor(.constant(node.name + "/table", shape: [table.count], type: .int32,
                                                        scales: [1], values: table))
            let t = addOutput(i, p)
            model.ops.append(QOp(kind: .lookupTable, name: node.name, inputs: [x.tensor, tableTensor], outputs: [t]))
            record(i, kind: .lookupTable, tensor: t, p: p)
        }
    }

    /// The float function of an elementwise activation (the float engine's formulas, in double).
    static func evaluate(_ a: Activation, _ x: Double) -> Double {
        switch a {
        case .linear, .softmax: return x
        case .relu: return Swift.max(x, 0)
        case .relu6: return Swift.min(Swift.max(x, 0), 6)
        case .leakyRelu(let alpha): return x >= 0 ? x : Double(alpha) * x
        case .generalRelu(let maxValue, let slope, let threshold):
            let top = maxValue.map(Double.init) ?? .infinity
            return x >= top ? top : (x >= Double(threshold) ? x : Double(slope) * (x - Double(threshold)))
        case .sigmoid: return 1 / (1 + exp(-x))
        case .tanh: return Foundation.tanh(x)
        case .hardSigmoid(let slope, let offset): return Swift.min(Swift.max(Double(slope) * x + Double(offset), 0), 1)
        case .swish: return x / (1 + exp(-x))
        case .hardSwish: return x * Swift.min(Swift.max(x + 3, 0), 6) / 6
        case .gelu: return 0.5 * x * erfc(-x / 2.0.squareRoot())
        }
    }
}
