import XCTest
@testable import Quantizer

final class QuantizerPlaceholderTests: XCTestCase {
    func testModuleLinks() { _ = QuantizerModule.self }
}
