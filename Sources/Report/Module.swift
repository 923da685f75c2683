/// Fidelity report (docs/report.md).
public enum ReportModule {}
