import XCTest
@testable import TwoSpeedAssessment
import TwoSpeedJSON
import TwoSpeedModel

/// Rules of issue 21 that are about ranking and wording rather than one pitfall: a step that moves
/// nothing never ranks above one that does, and the summary's most severe finding agrees with the first
/// step or says why not.
final class JudgementTests: XCTestCase {
    let asOf = "2026-11-10"

    /// A check plugin's high-severity finding that names no criterion of the model moves no score.
    func pluginFinding() -> Finding {
        Finding(pitfall: "plugin-check", name: "Shadow IT spreadsheets", severity: "high",
                subjects: [Subject(kind: "system", id: "erp", name: "ERP")], subjectCount: 1,
                evidence: ["Orders are rekeyed from spreadsheets into “ERP”"], recommendation: "Retire the spreadsheets.",
                source: "a check plugin", criteria: [], plugin: "sheets")
    }

    /// A calibration case's portfolio: a company with no high-severity finding of its own.
    func calm() throws -> Portfolio {
        let text = readFile(repoRoot + "/Tests/Calibration/cases/47-on-time-delivery-to-customers-is-an-outcome.json")
        struct Case: Decodable { var portfolio: Portfolio }
        return try JanssonDecoder().decode(Case.self, from: text).portfolio
    }

    func testAStepThatMovesNothingNeverRanksFirst() throws {
        var p = try calm()
        // Teams that hand off rather than codevelop: a weak criterion, no pitfall.
        p.teams = p.teams.map { var t = $0; t.codevelopment = false; return t }
        XCTAssertEqual(Assessor.assess(p, model: DefaultModel.model, asOf: asOf, at: asOf + "T00:00:00Z").pitfalls.map(\.pitfall), [])
        let r = Assessor.assess(p, model: DefaultModel.model, asOf: asOf, at: asOf + "T00:00:00Z", extraFindings: [pluginFinding()])
        let plugin = try XCTUnwrap(r.recommendations.first { $0.pitfall == "plugin-check" })
        XCTAssertEqual(plugin.expectedGain, 0)
        let moving = r.recommendations.filter { $0.expectedGain > 0 }
        XCTAssertFalse(moving.isEmpty)
        // Every step with a gain ranks before every step without one, severity notwithstanding.
        XCTAssertTrue(moving.allSatisfy { $0.rank < plugin.rank }, "\(r.recommendations.map { ($0.rank, $0.title, $0.expectedGain) })")
        XCTAssertGreaterThan(r.recommendations[0].expectedGain, 0)
        // The summary names the high-severity finding, and says why the first step is another.
        let summary = (r.summary ?? []).joined(separator: " ")
        XCTAssertTrue(summary.contains("The most severe finding is"), summary)
        XCTAssertTrue(summary.contains("moves no criterion the data can score yet, so the first step is another"), summary)
    }

    func testTheMostSevereFindingIsTheOneRankedFirst() throws {
        let p = try JanssonDecoder().decode(Portfolio.self, from: example("retailer"))
        let r = Assessor.assess(p, model: DefaultModel.model, asOf: asOf, at: asOf + "T00:00:00Z")
        let first = try XCTUnwrap(r.recommendations.first)
        let finding = try XCTUnwrap(r.pitfalls.first { $0.pitfall == first.pitfall })
        let sentence = try XCTUnwrap(r.summary?.first { $0.hasPrefix("The most severe finding is") })
        XCTAssertTrue(sentence.contains(finding.name.prefix(1).lowercased() + finding.name.dropFirst()), sentence)
        XCTAssertTrue(sentence.contains(finding.evidence[0]), sentence)
        XCTAssertFalse(sentence.contains("Modern platforms are in place"), sentence)
    }
}
