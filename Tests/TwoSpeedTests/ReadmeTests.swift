import XCTest
import TwoSpeedEngine

/// The README's Swift example is this test's code: the lines between the markers must be the lines
/// of the README's swift block, so the example cannot go stale.
final class ReadmeTests: XCTestCase {
    func testReadmeSwiftExample() throws {
        // BEGIN README
        let engine = try Engine(path: nil)   // nil or ":memory:" for memory, else a SQLite file
        let reply = engine.call(#"{"jsonrpc":"2.0","method":"engine.info","id":1}"#)
        print(reply ?? "")                   // nil only for notifications
        // END README
        XCTAssertTrue(reply?.contains(#""version":"0.1.0""#) == true, reply ?? "nil")

        func lines(_ text: String) -> [String] {
            text.split(separator: "\n").map { $0.trimmingCharacters() }.filter { !$0.isEmpty }
        }
        let readme = readFile(repoRoot + "/README.md")
        guard let start = readme.range(of: "```swift\n"), let end = readme[start.upperBound...].range(of: "```") else {
            return XCTFail("README has no swift block")
        }
        let shown = lines(String(readme[start.upperBound..<end.lowerBound])).filter { !$0.hasPrefix("import ") }
        let source = readFile(#filePath)
        guard let b = source.range(of: "// BEGIN README\n"), let e = source.range(of: "// END README") else {
            return XCTFail("markers missing")
        }
        XCTAssertEqual(lines(String(source[b.upperBound..<e.lowerBound])), shown)
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
