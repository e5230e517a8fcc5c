import Foundation
import XCTest
import TwoSpeedContract
import TwoSpeedModel
import TwoSpeedPlugins

/// The closed vocabularies are enums in one place (TwoSpeedModel's Vocabulary.swift): the schemas' lists
/// are made from them, and the engine, the assessment and the reports name a term instead of spelling it.
final class VocabularyTests: XCTestCase {
    static let enums: [(name: String, terms: [String], list: [String])] = [
        ("ProductStatus", ProductStatus.terms, Vocabulary.productStatuses), ("Sourcing", Sourcing.terms, Vocabulary.sourcings),
        ("Justification", Justification.terms, Vocabulary.justifications),
        ("DecisionRights", DecisionRights.terms, Vocabulary.decisionRights), ("Layer", Layer.terms, Vocabulary.layers),
        ("InterfaceKind", InterfaceKind.terms, Vocabulary.interfaceKinds), ("Decision", Decision.terms, Vocabulary.decisions),
        ("Direction", Direction.terms, Vocabulary.directions),
    ]

    func testTheListsAreTheEnums() {
        for e in VocabularyTests.enums { XCTAssertEqual(e.list, e.terms, e.name) }
        // The comparison reads the stored string; nil (no source filled it) is no term.
        XCTAssertTrue("front-end" == Layer.frontEnd)
        XCTAssertFalse(String?.none == Layer.frontEnd)
        XCTAssertTrue(String?.none != DecisionRights.requestsOnly)
    }

    /// The contract's copy of the plugin host's vocabularies (the clients do not link the host).
    func testThePluginVocabularyIsTheHosts() {
        XCTAssertEqual(PluginVocabulary.extensionPoints, Manifest.extensionPoints)
        XCTAssertEqual(PluginVocabulary.kinds, Manifest.kinds)
        XCTAssertEqual(PluginVocabulary.grantNames, Manifest.grantNames)
        XCTAssertEqual(PluginVocabulary.readable, Manifest.readable)
    }

    /// Files that hold vocabulary as data rather than code: the default model's JSON text and the
    /// Backstage mapping's layer rules (in the import module, being reworked elsewhere).
    static let dataFiles: Set<String> = ["DefaultModel.swift", "Backstage.swift"]

    func testNoTermIsSpelledInCode() throws {
        var scanned = 0
        for module in ["TwoSpeedEngine", "TwoSpeedAssessment", "TwoSpeedReport"] {
            let folder = repoRoot + "/Sources/" + module
            for file in try FileManager.default.contentsOfDirectory(atPath: folder) where file.hasSuffix(".swift") && !VocabularyTests.dataFiles.contains(file) {
                scanned += 1
                XCTAssertEqual(VocabularyTests.spelled(readFile(folder + "/" + file)), [], "\(module)/\(file)")
            }
        }
        XCTAssertGreaterThan(scanned, 40)
    }

    func testTheScanFindsSpelledTerms() {
        XCTAssertEqual(VocabularyTests.spelled(#"if s.layer == "front-end" {"#), [#"== "front-end""#])
        XCTAssertEqual(VocabularyTests.spelled(#"case "redefine": total += 1"#), [#"case "redefine""#])
        XCTAssertEqual(VocabularyTests.spelled(#"let xs: Set<String> = ["mvp", "rollout"]"#), [#"["mvp""#])
        XCTAssertEqual(VocabularyTests.spelled(#"let a = "roll-back""#), [#""roll-back""#])
        XCTAssertEqual(VocabularyTests.spelled(#"if s.layer == Layer.frontEnd { f("file") }; let f = json["file"] // == "api""#), [])
    }

    /// A term compared, matched, or first in an array literal in code (comments aside); a hyphenated term,
    /// which is no other word, in any string literal of its own.
    static func spelled(_ text: String) -> [String] {
        let code = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.range(of: "//").map { String(line[..<$0.lowerBound]) } ?? String(line) }.joined(separator: "\n")
        let all = Set(enums.flatMap(\.terms))
        let alternatives = all.sorted().map(NSRegularExpression.escapedPattern(for:)).joined(separator: "|")
        let hyphenated = all.filter { $0.contains("-") }.sorted().map(NSRegularExpression.escapedPattern(for:)).joined(separator: "|")
        // An array literal's bracket follows no name, ] or ): a subscript such as json["file"] is not one.
        let patterns = [#"(==|!=) "(\#(alternatives))""#, #"case "(\#(alternatives))""#, #"(?<![\w\])?!])\["(\#(alternatives))""#,
                        #""(\#(hyphenated))""#]
        var found: [Int: String] = [:]
        for p in patterns {
            let re = try! NSRegularExpression(pattern: p)
            for m in re.matches(in: code, range: NSRange(code.startIndex..., in: code)) {
                let s = String(code[Range(m.range, in: code)!])
                // One finding per literal: the position of its opening quote.
                let quote = m.range.location + (s.firstIndex(of: "\"").map { s.utf16.distance(from: s.startIndex, to: $0) } ?? 0)
                if found[quote] == nil { found[quote] = s }
            }
        }
        return found.sorted { $0.key < $1.key }.map(\.value)
    }
}
