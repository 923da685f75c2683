import XCTest
@testable import Calibration

final class CalibrationPlaceholderTests: XCTestCase {
    func testModuleLinks() { _ = CalibrationModule.self }
}
