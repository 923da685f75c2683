import Foundation
import XCTest

/// A fresh folder per test, removed afterwards.
class HDF5TestCase: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("hdf5-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func file(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// The repository's `fixtures/<name>/<file>`, or nil when it has not been generated.
    static func fixture(_ name: String, _ file: String) -> String? {
        var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        for _ in 0..<3 { url.deleteLastPathComponent() }   // Tests/HDF5Tests/<file> -> repository root
        let path = url.appendingPathComponent("fixtures").appendingPathComponent(name).appendingPathComponent(file).path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// All fixture folders holding a `model.h5`.
    static func fixtureNames() -> [String] {
        var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let root = url.appendingPathComponent("fixtures")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { fixture($0, "model.h5") != nil }.sorted()
    }
}
