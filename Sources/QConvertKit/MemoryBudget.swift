import FloatEngine
import Foundation
import HDF5
import QBin
import QCore

/// The most memory one command may use (`--max-memory`; default half of physical memory). Peaks are
/// computed from declared shapes and counts before anything is allocated, and a job that would need
/// more is refused with exit 2 and the number, instead of being killed or swapping.
public enum MemoryBudget {
    nonisolated(unsafe) public private(set) static var bytes = Int(clamping: ProcessInfo.processInfo.physicalMemory / 2)

    /// Sets the budget for this process (also the limit of whole-dataset HDF5 reads).
    public static func set(_ bytes: Int) {
        self.bytes = bytes
        HDF5Dataset.maxWholeReadBytes = bytes
    }

    /// Parses `8G`, `512M`, `64K` or a plain number of bytes (powers of 1024); nil when malformed.
    public static func parse(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = text.uppercased()
        if digits.hasSuffix("B") { digits.removeLast() }
        var scale = 1
        if let last = digits.last, let unit = units[last] { scale = unit; digits.removeLast() }
        guard let value = Double(digits), value.isFinite, value > 0, value * Double(scale) < 9e18 else { return nil }
        return Int(value * Double(scale))
    }

    /// Float engine peak for `batch` samples: the executor's activation buffers and workspace (the
    /// largest im2col), plus the weights twice (as read, and packed for the kernels). Saturates.
    public static func floatPeak(_ graph: Graph, batch: Int) -> Int {
        let weights = graph.nodes.reduce(0) { adding($0, GraphStatistics.parameterCount($1)) }
        var buffers: Int
        do { buffers = try FloatExecutor.bufferBytes(graph: graph, maxBatch: batch) } catch {
            buffers = 0  // the executor refuses this graph itself, with its own error
            for node in graph.nodes { buffers = adding(buffers, multiplying(product(node.shape), multiplying(batch, 4))) }
        }
        return adding(buffers, multiplying(weights, 8))
    }

    /// Integer simulator peak for `batch` samples: every tensor as int32 (activations per pass,
    /// constants unpacked once).
    public static func simulatorPeak(_ model: QModel, batch: Int) -> Int {
        var activations = 0, constants = 0
        for t in model.tensors {
            if t.isConstant { constants = adding(constants, product(t.shape)) } else { activations = adding(activations, product(t.shape)) }
        }
        return adding(multiplying(activations, multiplying(batch, 4)), multiplying(constants, 8))
    }

    /// Throws when `needed` exceeds the budget, saying what needs it and how to lower it.
    public static func check(_ needed: Int, for what: String, path: String, hint: String) throws(QConvertError) {
        guard needed > bytes else { return }
        throw .io(path: path, detail: "\(what) needs \(format(needed)) of memory, more than the budget of \(format(bytes)) "
                  + "(--max-memory); \(hint)")
    }

    static func format(_ n: Int) -> String {
        if n >= Int.max / 2 { return "more than 4 EB" }
        let scaled = n >= 1 << 30 ? String(format: "%.1f GB", Double(n) / Double(1 << 30)) : String(format: "%.1f MB", Double(n) / Double(1 << 20))
        return "\(scaled) (\(n) bytes)"
    }

    static func product(_ shape: [Int]) -> Int { shape.reduce(1) { multiplying($0, max($1, 0)) } }
    static func adding(_ a: Int, _ b: Int) -> Int { let (r, o) = a.addingReportingOverflow(b); return o ? Int.max : r }
    static func multiplying(_ a: Int, _ b: Int) -> Int { let (r, o) = a.multipliedReportingOverflow(by: b); return o ? Int.max : r }
}
