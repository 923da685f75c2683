import HDF5
import QCore

/// Rows of float samples read in batches: a file, a slice of one, or synthetic samples in memory.
public protocol SampleSource {
    var count: Int { get }
    var sampleSize: Int { get }
    /// Reads samples `range` into `buffer` (`range.count x sampleSize` floats).
    func read(_ range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws(QConvertError)
}

extension SampleFile: SampleSource {}

/// Samples `range` of another source (the calibration / held-out split of one file).
public struct SampleSlice: SampleSource {
    public let base: any SampleSource
    public let range: Range<Int>
    public init(_ base: any SampleSource, _ range: Range<Int>) { self.base = base; self.range = range }
    public var count: Int { range.count }
    public var sampleSize: Int { base.sampleSize }
    public func read(_ r: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws(QConvertError) {
        try base.read((range.lowerBound + r.lowerBound)..<(range.lowerBound + r.upperBound), into: buffer)
    }
}

/// Samples held in memory (synthetic inputs of a data-free conversion).
public struct InMemorySamples: SampleSource {
    public let values: [Float]
    public let sampleSize: Int
    public init(values: [Float], sampleSize: Int) { self.values = values; self.sampleSize = sampleSize }
    public var count: Int { values.count / sampleSize }
    public func read(_ r: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws(QConvertError) {
        for (k, i) in (r.lowerBound * sampleSize..<r.upperBound * sampleSize).enumerated() { buffer[k] = values[i] }
    }

    /// `count` samples uniform in `low ... high`, from a SplitMix64 stream seeded with `seed` (deterministic).
    public static func uniform(count: Int, sampleSize: Int, low: Float, high: Float, seed: UInt64) -> InMemorySamples {
        var random = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15)
        var values = [Float](repeating: 0, count: count * sampleSize)
        for i in values.indices {
            let unit = Float(random.next() >> 40) / Float(1 << 24)
            values[i] = low + (high - low) * unit
        }
        return InMemorySamples(values: values, sampleSize: sampleSize)
    }
}

/// Synthetic samples of a data-free conversion, generated as they are read: the values of
/// `InMemorySamples.uniform` with the same seed, value for value, in constant memory.
public struct SyntheticSamples: SampleSource {
    public let count: Int
    public let sampleSize: Int
    public let low: Float, high: Float
    let seed: UInt64

    public init(count: Int, sampleSize: Int, low: Float, high: Float, seed: UInt64) {
        self.count = count; self.sampleSize = sampleSize; self.low = low; self.high = high
        self.seed = seed &+ 0x9E37_79B9_7F4A_7C15
    }

    public func read(_ r: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws(QConvertError) {
        let first = r.lowerBound * sampleSize
        for k in 0..<(r.count * sampleSize) {
            let unit = Float(SplitMix64.value(seed: seed, index: first + k) >> 40) / Float(1 << 24)
            buffer[k] = low + (high - low) * unit
        }
    }
}

/// Optional `/labels` and `/outputs` of an evaluation file, read whole (they are small).
public struct EvaluationTargets {
    public var labels: [Int]?
    /// Reference outputs of the source framework, `count x outputSize`.
    public var referenceOutputs: [Float]?

    public static func read(path: String, count: Int, outputSize: Int) throws(QConvertError) -> EvaluationTargets {
        do {
            let file = try HDF5File.open(path)
            var targets = EvaluationTargets()
            if file.root.contains("labels") {
                let d = try file.root.dataset("labels")
                guard d.shape.first == count else {
                    throw QConvertError.io(path: path, detail: "/labels has \(d.shape.first ?? 0) rows, /inputs \(count); they must match")
                }
                var buffer = [Float](repeating: 0, count: d.shape.reduce(1, *))
                try buffer.withUnsafeMutableBufferPointer { try d.readFloats(rows: 0..<count, into: $0) }
                targets.labels = try labelValues(buffer, path: path, classes: outputSize)
            }
            if file.root.contains("outputs") {
                let d = try file.root.dataset("outputs")
                guard d.shape.first == count, d.shape.dropFirst().reduce(1, *) == outputSize else {
                    throw QConvertError.io(path: path, detail: "/outputs has shape \(d.shape), expected \(count) x \(outputSize) (the model's output)")
                }
                var buffer = [Float](repeating: 0, count: count * outputSize)
                try buffer.withUnsafeMutableBufferPointer { try d.readFloats(rows: 0..<count, into: $0) }
                targets.referenceOutputs = buffer
            }
            return targets
        } catch let e as QConvertError {
            throw e
        } catch let e as HDF5Error {
            throw .hdf5(e)
        } catch {
            throw .io(path: path, detail: "\(error)")
        }
    }

    /// Class indices from the stored floats: each must be a whole number in `0 ..< classes` (a NaN or
    /// `1e20` label names its row instead of trapping in the conversion to Int).
    static func labelValues(_ values: [Float], path: String, classes: Int) throws(QConvertError) -> [Int] {
        var labels: [Int] = []
        labels.reserveCapacity(values.count)
        for (row, v) in values.enumerated() {
            guard v.isFinite, v == v.rounded(), v >= 0, v < Float(classes) else {
                throw .io(path: path, detail: "/labels row \(row) is \(v); labels must be class indices 0...\(classes - 1) (whole numbers)")
            }
            labels.append(Int(v))
        }
        return labels
    }
}
