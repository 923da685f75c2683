// Writes the fuzz seed corpus: one small valid .qbin per weight width 2...8 into the folder given.
// Built by tools/fuzz-qbin.sh with Sources/QBin/*.swift and Fuzz/QBinFuzz/SeedModel.swift.

@main
struct QBinSeedMain {
    static func main() throws {
        let folder = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "."
        for bits in 2...8 {
            try QBinWriter.write(FuzzSeed.model(bits: bits), to: "\(folder)/seed-s\(bits).qbin")
        }
    }
}
