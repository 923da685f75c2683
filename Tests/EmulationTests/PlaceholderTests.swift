import XCTest
@testable import Emulation

final class EmulationPlaceholderTests: XCTestCase {
    func testModuleLinks() { _ = EmulationModule.self }
}
