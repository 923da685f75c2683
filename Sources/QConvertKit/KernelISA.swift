import CKernels

/// The instruction-set level of the SIMD kernels (Sources/CKernels, docs/isa-dispatch.md): detected
/// once when the library loads (cpuid, and xgetbv for the register state the OS saves), or forced by
/// the environment variable `QCONVERT_ISA=scalar|avx2|avx512|avx512vnni`.
public enum KernelISA {
    /// Every level name, lowest first (not all are built: see `built`).
    public static let allNames: [String] = (0..<Int(QC_ISA_COUNT.rawValue)).map { String(cString: qc_isa_name(Int32($0))) }

    /// The level the kernels use now.
    public static var active: String { String(cString: qc_isa_name(qc_isa_active())) }

    /// The levels this build has kernels for and this CPU runs, lowest first.
    public static var available: [String] {
        allNames.indices.filter { qc_kernels_for(Int32($0)) != nil }.map { allNames[$0] }
    }

    /// The CPU's brand string, e.g. "AMD EPYC 7B13 64-Core Processor".
    public static var cpuModel: String { String(cString: qc_cpu_model()) }

    /// The CPU features relevant to the kernels, as cpuid and xgetbv report them ("sse2,avx,avx2,fma").
    public static var cpuFeatures: String { String(cString: qc_cpu_features()) }

    /// One line for benchmark headers: CPU model, features and the level chosen.
    public static var summary: String {
        "CPU: \(cpuModel) [\(cpuFeatures)]; kernels: \(active) (available: \(available.joined(separator: ", ")))"
    }

    /// The error `QCONVERT_ISA` caused at start-up, if any. Until it is reported the portable `scalar`
    /// kernels run (always correct); the CLI refuses to run instead.
    public static var environmentError: KernelISAError? {
        let status = qc_isa_env_status()
        guard status != 0 else { return nil }
        return KernelISAError(requested: String(cString: qc_isa_env_value()), status: status)
    }

    /// Makes level `name` active for every later kernel call in the process.
    public static func select(_ name: String) throws(KernelISAError) {
        let level = qc_isa_parse(name)
        let status = level < 0 ? -3 : qc_isa_select(level)
        if status != 0 { throw KernelISAError(requested: name, status: status) }
    }
}

/// A kernel level that cannot be used here: not a level name, not run by this CPU, or not built yet.
public struct KernelISAError: Error, CustomStringConvertible, Equatable {
    public let requested: String
    /// `qc_isa_select`'s status: -1 the CPU lacks it, -2 not built, -3 not a level name.
    let status: Int32

    public var description: String {
        let options = "available here: \(KernelISA.available.joined(separator: ", "))"
        switch status {
        case -1:
            return "QCONVERT_ISA=\(requested): this CPU (\(KernelISA.cpuModel); features \(KernelISA.cpuFeatures)) cannot run "
                + "the \(requested) kernels; unset QCONVERT_ISA or choose one of the levels \(options)"
        case -2:
            return "QCONVERT_ISA=\(requested): this build of qconvert has no \(requested) kernels yet; unset QCONVERT_ISA or "
                + "choose one of the levels \(options)"
        default:
            return "QCONVERT_ISA=\(requested) is not a kernel level; use one of \(KernelISA.allNames.joined(separator: ", ")) "
                + "(\(options))"
        }
    }
}
