import Foundation

/// Wall time and memory at the end of one conversion phase, for `convert --timings`. Printed on stderr
/// only: the report must not depend on the machine's speed (it is byte-identical run to run).
public struct PhaseTiming: Sendable {
    public var phase: String
    /// Wall seconds since the previous phase ended (or since the job started).
    public var seconds: Double
    /// Resident set size at the end of the phase (nil where the OS does not say), and the process's
    /// peak so far, in bytes.
    public var residentBytes: Int?
    public var peakBytes: Int

    /// The phase's figures, with this process's memory now.
    public init(phase: String, seconds: Double) {
        self.phase = phase
        self.seconds = seconds
        residentBytes = ProcessMemory.residentBytes
        peakBytes = ProcessMemory.peakBytes
    }

    /// `import  3.2 s  RSS 640 MB  peak 652 MB`
    public var line: String {
        let mb = { (b: Int) in String(format: "%.0f MB", Double(b) / Double(1 << 20)) }
        return phase.padding(toLength: max(22, phase.count), withPad: " ", startingAt: 0) + String(format: " %7.1f s", seconds)
            + "  RSS " + (residentBytes.map(mb) ?? "?") + "  peak " + mb(peakBytes)
    }
}

/// This process's memory as the OS counts it.
public enum ProcessMemory {
    /// Peak resident set size so far (`getrusage`: kilobytes on Linux, bytes on Darwin).
    public static var peakBytes: Int {
        var usage = rusage()
        #if os(Linux)
        // Glibc imports RUSAGE_SELF as an enum case; getrusage takes its Int32 raw value.
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return usage.ru_maxrss
        #endif
    }

    /// Resident set size now (Linux: `/proc/self/statm`, second field, in pages); nil elsewhere.
    public static var residentBytes: Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .ascii) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// Reports `PhaseTiming`s as phases end.
struct PhaseClock {
    private var last = DispatchTime.now().uptimeNanoseconds
    let report: (PhaseTiming) -> Void

    init(report: @escaping (PhaseTiming) -> Void) { self.report = report }

    mutating func end(_ phase: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        report(PhaseTiming(phase: phase, seconds: Double(now - last) / 1e9))
        last = now
    }
}
