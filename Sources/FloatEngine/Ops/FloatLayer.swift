import QCore

/// One executable step of the float engine: reads its inputs' NHWC buffers for `batch` samples and
/// writes its output buffer. Layers are built once per graph (weights packed, shapes fixed) and run
/// many times; they hold no per-run state, so one layer may serve several batches in sequence.
public protocol FloatLayer: AnyObject {
    /// Floats of scratch memory `run` needs for `batch` samples.
    func workspaceCount(batch: Int) -> Int
    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>)
}

extension FloatLayer {
    public func workspaceCount(batch: Int) -> Int { 0 }
}
