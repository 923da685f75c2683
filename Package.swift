// swift-tools-version:6.0
import PackageDescription

// No unsafe flags: the SIMD kernels are C (Sources/CKernels), each level compiled under a per-function
// target attribute and chosen at run time (docs/isa-dispatch.md), so the package builds on any CPU and
// architecture and can be used as a versioned dependency.

let package = Package(
    name: "qconvert",
    products: [
        .executable(name: "qconvert", targets: ["qconvert"]),
        .library(name: "QConvertKit", targets: ["QConvertKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Reading Keras 3 `.keras` archives (a zip of config.json + model.weights.h5).
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // HDF5: system library + shim for the macros Swift cannot import, then an owning wrapper.
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .target(name: "HDF5", dependencies: ["CHDF5"]),
        // Core graph representation shared by every stage.
        .target(name: "QCore", dependencies: ["CKernels"]),
        // SIMD kernels of every instruction-set level, chosen at run time (cpuid; QCONVERT_ISA).
        .target(name: "CKernels"),
        // Float32 engine: reference and fast kernels, graph executor.
        .target(name: "FloatEngine", dependencies: ["QCore", "CKernels"]),
        // Fixed-point arithmetic of the integer runtime: rounding profiles, multipliers and shifts.
        .target(name: "FixedPoint"),
        // The packed low-bit model file: spec in docs/qbin-format.md.
        // Named QCZlib, not CZlib: ZIPFoundation declares a clang module CZlib of its own on Linux.
        .systemLibrary(name: "QCZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "QBin", dependencies: ["QCore", "QCZlib"]),
        // Integer-only simulator of a .qbin model: scalar reference kernels and fast int8 GEMM kernels.
        .target(name: "Simulator", dependencies: ["QBin", "QCore", "FixedPoint", "CKernels"]),
        // Importers.
        .target(name: "KerasImport", dependencies: ["QCore", "HDF5", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // Calibration: streaming activation statistics and clipping-range choice.
        .target(name: "Calibration", dependencies: ["QCore", "FloatEngine"]),
        // Quantizer: float graph + statistics -> QModel (folding, fusion, per-channel weights, requantization).
        .target(name: "Quantizer", dependencies: ["QCore", "QBin", "FixedPoint", "Calibration"]),
        // Quantized float emulation of a QModel (real-valued rescaling), the simulator's independent twin.
        .target(name: "Emulation", dependencies: ["QBin", "QCore", "FixedPoint"]),
        // The op registry: ops defined in one folder each (every stage's part), one registration line
        // in Sources/Ops/OpRegistry.swift (docs/op-registry.md).
        .target(name: "Ops", dependencies: ["QCore", "FloatEngine", "QBin", "FixedPoint", "Simulator", "Emulation", "Quantizer",
                                            "KerasImport"]),
        // Fidelity report: schema, metrics, JSON and HTML.
        .target(name: "Report"),
        // The pipeline, used by the CLI and tests.
        .target(name: "QConvertKit", dependencies: ["CKernels", "QCore", "HDF5", "FloatEngine", "KerasImport", "Calibration", "Quantizer",
                                                    "QBin", "FixedPoint", "Simulator", "Emulation", "Ops", "Report"]),
        .executableTarget(
            name: "qconvert",
            dependencies: ["QConvertKit", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "qconvert-bench", dependencies: ["QConvertKit", "Ops", "FloatEngine", "Calibration", "Quantizer", "Simulator",
                                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // Shared test helpers: fixture locations, tolerance assertions, running the built CLI.
        .target(name: "QCTestSupport", dependencies: ["HDF5", "QCore", "Ops"], path: "Tests/Support"),

        .testTarget(name: "HDF5Tests", dependencies: ["HDF5"]),
        .testTarget(name: "QCoreTests", dependencies: ["QCore"]),
        .testTarget(name: "FloatEngineTests", dependencies: ["FloatEngine", "QCore", "CKernels", "Ops"]),
        .testTarget(name: "FixedPointTests", dependencies: ["FixedPoint"]),
        .testTarget(name: "QBinTests", dependencies: ["QBin", "QCore"]),
        // Ops: the registered ops' kernels and conformance cases (TV smoothing on real maps needs FloatEngine, KerasImport).
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "QBin", "FixedPoint", "CKernels", "QCTestSupport", "QCore",
                                                          "Ops", "FloatEngine", "KerasImport"]),
        .testTarget(name: "KerasImportTests", dependencies: ["KerasImport", "QCore", "HDF5", "Ops",
                                                            .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .testTarget(name: "QConvertKitTests", dependencies: ["QConvertKit", "QCTestSupport", "HDF5", "FloatEngine", "KerasImport", "QCore",
                                                             "Report", "Quantizer", "QBin", "Ops"]),
        .testTarget(name: "CalibrationTests", dependencies: ["Calibration", "FloatEngine", "QCore", "KerasImport", "QCTestSupport"]),
        .testTarget(name: "QuantizerTests", dependencies: ["Quantizer", "Calibration", "QBin", "QCore", "KerasImport", "FloatEngine",
                                                           "Emulation", "Simulator", "FixedPoint", "QCTestSupport"]),
        .testTarget(name: "EmulationTests", dependencies: ["Emulation", "QBin", "Simulator", "FixedPoint", "QCTestSupport", "Ops"]),
        .testTarget(name: "ReportTests", dependencies: ["Report"]),
        .testTarget(name: "OpsTests", dependencies: ["Ops", "QCore", "FloatEngine", "QBin", "FixedPoint", "Simulator", "Emulation",
                                                     "Quantizer", "Calibration", "KerasImport", "QCTestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["qconvert", "qconvert-bench", "HDF5", "QCTestSupport", "QBin", "Simulator", "QConvertKit"]),
    ]
)
