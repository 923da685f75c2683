import QBin

/// Where each activation of a pass lives: one slot per tensor, slots shared by tensors whose lives do
/// not overlap, planned once per model from the ops' order and `QModel.releasedAfterOp`.
///
/// A tensor takes the smallest free slot that holds it (else the largest free one, grown; else a new
/// one) when its op writes it, and its slot is free again after its last reader ran. An op's output
/// never shares a slot with its inputs: they are released only after the op. Sizes are per sample.
struct ActivationPlan {
    /// Per tensor, its slot, or nil for constants (and tensors no op writes other than the input).
    let slotOfTensor: [Int?]
    /// Values per sample of each slot.
    let slotSizes: [Int]
    /// Per op, the activation tensors it reads (`op.kind.hasConstantInputs`: input 0 only) and writes.
    let opInputs: [[Int]]
    let opOutputs: [Int]

    init(model: QModel, releasedAfterOp: [[Int]]) {
        var slotOfTensor = [Int?](repeating: nil, count: model.tensors.count)
        var slotSizes: [Int] = []
        var free: [Int] = []
        func place(_ tensor: Int) {
            let size = model.tensors[tensor].elementCount
            let fitting = free.filter { slotSizes[$0] >= size }.min { slotSizes[$0] < slotSizes[$1] }
            let slot: Int
            if let fitting {
                slot = fitting
            } else if let largest = free.max(by: { slotSizes[$0] < slotSizes[$1] }) {
                slot = largest
                slotSizes[slot] = size
            } else {
                slot = slotSizes.count
                slotSizes.append(size)
            }
            free.removeAll { $0 == slot }
            slotOfTensor[tensor] = slot
        }
        place(model.inputs[0])
        for (index, op) in model.ops.enumerated() {
            place(op.outputs[0])
            for t in releasedAfterOp[index] { if let slot = slotOfTensor[t] { free.append(slot) } }
        }
        self.slotOfTensor = slotOfTensor
        self.slotSizes = slotSizes
        opInputs = model.ops.map { $0.kind.hasConstantInputs ? [$0.inputs[0]] : $0.inputs }
        opOutputs = model.ops.map { $0.outputs[0] }
    }
}

/// One worker's activation memory for passes of up to `capacity` samples, laid out by an
/// `ActivationPlan` and reused pass after pass (no allocation per op or per pass), with each op's
/// input and output buffers built once per pass size.
final class ActivationArena {
    let capacity: Int
    private let plan: ActivationPlan
    private let elementCounts: [Int]
    private let memory: UnsafeMutablePointer<Int32>
    /// Per slot, its first value.
    private let slotStarts: [UnsafeMutablePointer<Int32>]
    /// The samples the op buffers below are sized for (0: none yet).
    private(set) var boundSamples = 0
    private(set) var inputs: [[UnsafeBufferPointer<Int32>]] = []
    private(set) var outputs: [UnsafeMutableBufferPointer<Int32>] = []

    init(plan: ActivationPlan, model: QModel, capacity: Int) {
        self.capacity = capacity
        self.plan = plan
        elementCounts = model.tensors.map(\.elementCount)
        // Each slot starts on a 64-byte line (16 values), as a fresh allocation would.
        let strides = plan.slotSizes.map { ($0 * capacity + 15) / 16 * 16 }
        memory = .allocate(capacity: Swift.max(16, strides.reduce(0, +)))
        var starts: [UnsafeMutablePointer<Int32>] = [], offset = 0
        for stride in strides { starts.append(memory + offset); offset += stride }
        slotStarts = starts
    }

    deinit { memory.deallocate() }

    /// The buffer of activation `tensor` for `samples` samples (at most `capacity`).
    func buffer(_ tensor: Int, samples: Int) -> UnsafeMutableBufferPointer<Int32> {
        UnsafeMutableBufferPointer(start: slotStarts[plan.slotOfTensor[tensor]!], count: samples * elementCounts[tensor])
    }

    /// Sizes every op's buffers for passes of `samples` samples (kernels read their counts).
    func bind(samples: Int) {
        precondition(samples <= capacity, "ActivationArena: \(samples) samples in an arena for \(capacity)")
        guard samples != boundSamples else { return }
        inputs = plan.opInputs.map { $0.map { UnsafeBufferPointer(buffer($0, samples: samples)) } }
        outputs = plan.opOutputs.map { buffer($0, samples: samples) }
        boundSamples = samples
    }
}
