import FixedPoint
import Foundation
import Ops
import QBin
import XCTest
@testable import Simulator

/// The conformance suite in `fixtures/conformance/` (README there): every case's `.qbin`, inputs and
/// expected raw outputs. The simulator (reference and fast kernels) must reproduce every output bit
/// for bit with the file's own rounding profile.
///
/// Record mode: `QCONVERT_RECORD_CONFORMANCE=1 swift test --filter ConformanceSuiteTests` rewrites the
/// suite from `ConformanceCases` (expected outputs from the reference kernels) and fails on purpose.
final class ConformanceSuiteTests: XCTestCase {
    override func setUp() { OpRegistry.install() }

    /// `fixtures/conformance`, found from this file's location (Tests/SimulatorTests/).
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/conformance")
    static let manifest = folder.appendingPathComponent("cases.json")

    struct Entry: Decodable {
        var name: String
        var model: String
        var rounding: String
        var batch: Int
        var input: [Int32]
        var output: [Int32]
        var input_float_bits: [UInt32]?
    }

    struct Manifest: Decodable {
        var cases: [Entry]
    }

    func load() throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: Self.manifest))
    }

    func testRecordOrCheckTheSuiteAgainstItsGenerator() throws {
        let cases = ConformanceCases.all()
        if ProcessInfo.processInfo.environment["QCONVERT_RECORD_CONFORMANCE"] == "1" {
            try record(cases)
            XCTFail("recorded \(cases.count) conformance cases into \(Self.folder.path); unset QCONVERT_RECORD_CONFORMANCE and commit them")
            return
        }
        // The files are what the generator makes today: same models, bytes and inputs.
        let entries = Dictionary(try load().cases.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(entries.count, cases.count, "the suite has \(entries.count) cases, the generator \(cases.count): record again")
        for c in cases {
            guard let e = entries[c.name] else { XCTFail("case \(c.name) is not recorded"); continue }
            let stored = try Data(contentsOf: Self.folder.appendingPathComponent(e.model))
            XCTAssertEqual([UInt8](stored), try QBinWriter.encode(c.model), "\(c.name): the .qbin differs from the generator's")
            XCTAssertEqual(e.input, c.input, c.name)
            XCTAssertEqual(e.batch, c.batch, c.name)
        }
    }

    func testSimulatorPassesEveryCase() throws {
        let manifest = try load()
        XCTAssertGreaterThan(manifest.cases.count, 100)
        for e in manifest.cases {
            let model = try QBinReader.read(path: Self.folder.appendingPathComponent(e.model).path)
            let profile = try XCTUnwrap(RoundingProfile.recorded(in: model), e.name)
            XCTAssertEqual(profile.rawValue, e.rounding, e.name)
            for reference in [true, false] {
                let simulator = try IntegerSimulator(model: model, rounding: profile, reference: reference)
                simulator.threads = 2
                let got = simulator.runQuantized(input: e.input, batch: e.batch, observe: nil)[0]
                if got != e.output {
                    let first = zip(got, e.output).enumerated().first { $0.element.0 != $0.element.1 }
                    XCTFail("\(e.name) (\(reference ? "reference" : "fast") kernels): output \(first.map { "\($0.offset): \($0.element.0), expected \($0.element.1)" } ?? "count \(got.count) vs \(e.output.count)")")
                }
            }
            if let bits = e.input_float_bits {
                let tensor = model.tensors[model.inputs[0]]
                XCTAssertEqual(bits.map { tensor.quantizeEdge(Float(bitPattern: $0)) }, e.input, "\(e.name): graph-input quantization")
            }
        }
    }

    func testSuiteCoversEveryOpKindAtEveryWidth() throws {
        let names = Set(try load().cases.map(\.name))
        for kind in QOpKind.allCases {
            let missing = ConformanceCases.widths.filter { !names.contains("\(kind)_\($0)bit") }
            XCTAssertTrue(missing.isEmpty, "op kind \(kind) has no conformance case at \(missing) bits: add it to ConformanceCases and record (fixtures/conformance/README.md)")
        }
    }

    // MARK: Recording

    private func record(_ cases: [ConformanceCase]) throws {
        let files = Self.folder.appendingPathComponent("cases")
        try? FileManager.default.removeItem(at: files)
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        var lines: [String] = []
        for c in cases {
            let path = "cases/\(c.name).qbin"
            try QBinWriter.write(c.model, to: Self.folder.appendingPathComponent(path).path)
            let simulator = try IntegerSimulator(model: c.model, rounding: RoundingProfile.recorded(in: c.model)!, reference: true)
            let output = simulator.runQuantized(input: c.input, batch: c.batch, observe: nil)[0]
            var entry: [String: Any] = ["name": c.name, "model": path, "rounding": c.model.recordedRounding!, "batch": c.batch,
                                        "ops": c.model.ops.map { "\($0.kind)" }, "input": c.input, "output": output]
            if let floats = c.floatInput { entry["input_float_bits"] = floats.map(\.bitPattern) }
            let json = try JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys, .withoutEscapingSlashes])
            lines.append("    " + String(decoding: json, as: UTF8.self))
        }
        let text = "{\n  \"format\": \"qconvert conformance suite\",\n  \"version\": 1,\n  \"cases\": [\n"
            + lines.joined(separator: ",\n") + "\n  ]\n}\n"
        try Data(text.utf8).write(to: Self.manifest)
    }
}
