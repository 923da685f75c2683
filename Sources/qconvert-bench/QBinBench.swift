import Foundation

/// `qconvert-bench qbin`: integer simulator images/s beside the float engine (work in progress).
enum QBinBench {
    struct Options {
        init(parsing arguments: [String]) throws {}
    }

    enum BenchError: Error, CustomStringConvertible {
        case notYet
        var description: String { "qbin: not implemented yet" }
    }

    static func run(_ options: Options) throws { throw BenchError.notYet }
}
