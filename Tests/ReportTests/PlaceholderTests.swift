import XCTest
@testable import Report

final class ReportPlaceholderTests: XCTestCase {
    func testModuleLinks() { _ = ReportModule.self }
}
