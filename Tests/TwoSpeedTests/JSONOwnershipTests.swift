import Foundation
import XCTest

/// Issue 25's owning JSON type: jansson is the business of TwoSpeedJSON (and of the C ABI, where json_t
/// is part of the interface); everyone else holds `JSON` values and borrows `JSONView`s. These tests read
/// the sources, so that a new `import CJansson` or a hand-written retain or release outside those places
/// fails here, and an exception that is no longer needed fails too (the lists stay true).
final class JSONOwnershipTests: XCTestCase {
    /// Modules that may import CJansson, and why.
    static let allowedImporters: [String: String] = [
        "TwoSpeedJSON": "owns every jansson value",
        "TwoSpeedCABI": "json_t is part of the C ABI (twospeed_call_json)",
    ]

    /// Files that still import CJansson, each with the reason it is not converted yet.
    static let importExceptions: [String: String] = [:]

    /// Targets whose Package.swift dependencies may name CJansson, besides the allowed importers.
    static let dependencyExceptions: [String: String] = [
        "bench-catalog": "a bench program (Tests/Bench), not shipped: it builds catalogs with jansson as its floor does",
    ]

    /// Files that still count references by hand (`retained()`, `.release()` on a jansson value).
    static let refcountExceptions: [String: String] = [:]

    /// Every Swift file under Sources/, as "Module/File.swift" with its text.
    func sources() throws -> [(String, String)] {
        let root = repoRoot + "/Sources"
        var out: [(String, String)] = []
        let modules = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        for module in modules {
            guard let files = FileManager.default.enumerator(atPath: root + "/" + module) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                out.append(("\(module)/\(file)", try String(contentsOfFile: "\(root)/\(module)/\(file)", encoding: .utf8)))
            }
        }
        XCTAssertGreaterThan(out.count, 100, "the scan found the sources")
        return out
    }

    func testCJanssonIsImportedOnlyWhereAllowed() throws {
        var importers: Set<String> = []
        for (path, text) in try sources() {
            let imports = text.split(separator: "\n").contains { line in
                let l = line.trimmingCharacters(in: .whitespaces)
                return l == "import CJansson" || l.hasPrefix("import CJansson ") || l.hasPrefix("@_exported import CJansson")
                    || l.hasPrefix("@preconcurrency import CJansson") || l.hasPrefix("import struct CJansson") || l.hasPrefix("import func CJansson")
            }
            guard imports else { continue }
            importers.insert(path)
            let module = String(path.prefix { $0 != "/" })
            if Self.allowedImporters[module] == nil && Self.importExceptions[path] == nil {
                XCTFail("\(path) imports CJansson: use TwoSpeedJSON's JSON and JSONView (or add it to the exceptions with a reason)")
            }
        }
        for (path, reason) in Self.importExceptions where !importers.contains(path) {
            XCTFail("\(path) no longer imports CJansson: remove it from the exceptions (\(reason))")
        }
    }

    func testPackageDependsOnCJanssonOnlyWhereAllowed() throws {
        let text = try String(contentsOfFile: repoRoot + "/Package.swift", encoding: .utf8)
        // Each target declaration from its name to the next declaration; test targets may use jansson.
        let pattern = try NSRegularExpression(pattern: #"\.(target|executableTarget|testTarget)\(name: "([^"]+)""#)
        let ns = text as NSString
        let matches = pattern.matches(in: text, range: NSRange(location: 0, length: ns.length))
        XCTAssertGreaterThan(matches.count, 15, "the scan found the targets")
        var dependents: Set<String> = []
        for (i, m) in matches.enumerated() {
            let kind = ns.substring(with: m.range(at: 1))
            let name = ns.substring(with: m.range(at: 2))
            let end = i + 1 < matches.count ? matches[i + 1].range.location : ns.length
            let body = ns.substring(with: NSRange(location: m.range.location, length: end - m.range.location))
            guard kind != "testTarget", body.contains("\"CJansson\"") else { continue }
            dependents.insert(name)
            if Self.allowedImporters[name] == nil && Self.dependencyExceptions[name] == nil {
                XCTFail("target \(name) depends on CJansson in Package.swift: only TwoSpeedJSON and TwoSpeedCABI may")
            }
        }
        for (name, reason) in Self.dependencyExceptions where !dependents.contains(name) {
            XCTFail("target \(name) no longer depends on CJansson: remove it from the exceptions (\(reason))")
        }
    }

    func testNoManualReferenceCountingOutsideTwoSpeedJSON() throws {
        var counting: Set<String> = []
        for (path, text) in try sources() where !path.hasPrefix("TwoSpeedJSON/") {
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                // Unmanaged boxes handed to C threads are Swift objects, not jansson values.
                guard line.contains(".retained()") || line.contains(".release()"), !line.contains("Unmanaged") else { continue }
                if line.trimmingCharacters(in: .whitespaces) == "box.release()" && text.contains("let box = Unmanaged") { continue }
                counting.insert(path)
                if Self.refcountExceptions[path] == nil {
                    XCTFail("\(path):\(n + 1) counts jansson references by hand: hold a JSON (released when it goes) or borrow a JSONView")
                }
            }
        }
        for (path, reason) in Self.refcountExceptions where !counting.contains(path) {
            XCTFail("\(path) no longer counts references by hand: remove it from the exceptions (\(reason))")
        }
    }
}
