import XCTest
@testable import TwoSpeedAssessment
@testable import TwoSpeedEngine
import TwoSpeedReport
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedSchema

/// Unknown is never zero: what an import cannot carry (skills, experiments, journeys, teams, measures)
/// is not assessed, named as evidence needed, and never read as a result in the reports.
final class UnknownEvidenceTests: XCTestCase {
    /// The retailer as a catalog and a spreadsheet would bring it: systems with interfaces and delivery
    /// figures, products with owners and systems, managers by name only; no journeys, experiments, teams,
    /// metrics, OKRs or answers, and no problem, justification, sizing or iteration recorded.
    func imported() throws -> Portfolio {
        var p = try JanssonDecoder().decode(Portfolio.self, from: example("retailer"))
        p.journeys = []; p.experiments = []; p.teams = []; p.metrics = []; p.okrs = []; p.answers = []
        p.managers = p.managers.map {
            var m = $0; m.skills = []; m.training = []; m.mentor = nil; m.origin = nil; m.decisionRights = nil; m.measuredOn = []; return m
        }
        p.products = p.products.map {
            var x = $0; x.stages = []; x.problem = nil; x.justification = nil; x.team = nil; x.okrs = []
            x.value = nil; x.resources = nil; x.rice = nil; x.wsjf = nil; x.lastIteration = nil; return x
        }
        return p
    }

    func run(_ p: Portfolio) throws -> AssessmentResult {
        let engine = try Engine(path: nil)
        let put = engine.request("portfolio.put", "{\"portfolio\":\(try JanssonEncoder().encodeText(p))}")
        XCTAssertNotNil(put.result, put.text)
        let r = engine.request("assessment.run", "{\"portfolio\":\"\(p.id)\",\"asOf\":\"2026-11-10\"}")
        let result = try XCTUnwrap(r.result, r.text)
        let issues = ResultSchemas.result.validate(result)
        XCTAssertTrue(issues.isEmpty, "\(issues.issues.prefix(5))")
        return try JanssonDecoder().decode(AssessmentResult.self, from: result)
    }

    func testWhatTheImportCannotCarryIsNotAssessed() throws {
        let r = try run(try imported())
        let dims = Dictionary(r.dimensions.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for id in ["talent", "test-and-learn", "incentives", "culture"] {
            let d = try XCTUnwrap(dims[id])
            XCTAssertNil(d.score, "\(id): \(d.criteria.map { ($0.id, $0.fact?.detail ?? "-") })")
            XCTAssertNil(d.level, id)
            XCTAssertEqual(d.evidence, 0, id)
            for c in d.criteria {
                XCTAssertEqual(c.basis, "no evidence", c.id)
                XCTAssertTrue(c.evidenceNeeded?.contains(c.id) ?? false, "\(c.id): \(String(describing: c.evidenceNeeded))")
            }
        }
        let talent = try XCTUnwrap(dims["talent"]?.criteria.first { $0.id == "talent.business-and-tech" })
        XCTAssertTrue(talent.evidenceNeeded?.contains("managers[].skills") ?? false)
        // Nothing is scored on data the import could not have.
        let details = r.dimensions.flatMap(\.criteria).compactMap { $0.fact?.detail }
        XCTAssertFalse(details.contains { $0.contains("no experiments recorded") }, "\(details)")
        XCTAssertFalse(details.contains { $0.contains("combine business and technology") }, "\(details)")
        XCTAssertNil(dims["ownership"]?.criteria.first { $0.id == "ownership.rights" }?.score)
        XCTAssertNil(dims["ownership"]?.criteria.first { $0.id == "ownership.stages" }?.score)
        // A dimension with some evidence but under half of its weight has a score and no level.
        for d in r.dimensions where d.score != nil && d.evidence < DefaultModel.model.minimumEvidence {
            XCTAssertNil(d.level, d.id)
            XCTAssertEqual(d.sufficientEvidence, false, d.id)
        }
        // Every criterion not assessed is named in evidenceNeeded, with what would answer it.
        let needed = (r.evidenceNeeded ?? []).joined(separator: " ")
        for c in r.dimensions.flatMap(\.criteria) where c.score == nil {
            XCTAssertTrue(needed.contains(c.text), "\(c.id) missing from evidenceNeeded")
        }
        XCTAssertTrue(needed.contains("Talent is not assessed"), needed)
        // No pitfall fires on what is unknown.
        let evidence = r.pitfalls.flatMap(\.evidence).joined(separator: "\n")
        for words in ["no team", "customer-experience stage", "states no user problem", "owns applications but no experience stage",
                      "neither an iteration"] {
            XCTAssertFalse(evidence.contains(words), "\(words): \(evidence)")
        }
        XCTAssertFalse(r.pitfalls.contains { $0.pitfall == "platforms-without-reorientation" })
    }

    func testReportsSayWhatWasNotAssessed() throws {
        let r = try run(try imported())
        let html = HTMLReport.render(r), md = MarkdownReport.render(r), text = TextReport.render(r)
        // "0 of 0" stages would read as good news.
        XCTAssertFalse(html.contains("<small> of 0</small>"))
        XCTAssertTrue(html.contains("no customer journeys recorded"))
        XCTAssertFalse(md.contains("doubly owned, of 0"))
        XCTAssertTrue(md.contains("Stages without one owner: not assessed, no customer journeys recorded"))
        for (name, report) in [("html", html), ("md", md), ("text", text)] {
            XCTAssertTrue(report.contains("not assessed"), name)
            XCTAssertTrue(report.contains("not enough evidence") || !r.dimensions.contains { $0.sufficientEvidence == false }, name)
            // Markdown escapes the brackets.
            XCTAssertTrue(report.contains(name == "md" ? Escape.markdownInline("managers[].skills") : "managers[].skills"),
                          "\(name) does not say what would answer talent")
        }
        // The criteria tables say "not assessed" for each such criterion rather than a dash.
        XCTAssertTrue(md.contains("| not assessed |"), "Markdown basis column")
    }

    /// The near-miss: the same company with its managers' skills recorded is judged on them, and a
    /// manager without skills among managers with skills is left out of the share and named as such.
    func testRecordedFieldsAreJudged() throws {
        var p = try imported()
        let pms = Set(p.products.compactMap(\.owner))
        var first = true
        p.managers = p.managers.map { m in
            var m = m
            if pms.contains(m.id) { m.skills = first ? ["business"] : []; first = false }
            return m
        }
        let r = try run(p)
        let c = try XCTUnwrap(r.dimensions.flatMap(\.criteria).first { $0.id == "talent.business-and-tech" })
        XCTAssertEqual(c.fact?.value, 0)
        XCTAssertEqual(c.score, 1)
        XCTAssertTrue(c.fact?.detail.contains("skills not recorded for") ?? false, "\(String(describing: c.fact?.detail))")
    }

    /// A product whose owner is a catalog group outside the import is neither owned nor unowned: left out
    /// of the ownership share, no "no owner" finding, and named as evidence needed. The near-miss: the
    /// same product with no owner at all is unowned.
    func testOwnerOutsideThePortfolioIsUnknown() throws {
        var p = try JanssonDecoder().decode(Portfolio.self, from: example("retailer"))
        let orphan = try XCTUnwrap(p.products.first { $0.owner == nil && $0.status == "live" })
        let unowned = try run(p)
        let ownedBefore = try XCTUnwrap(unowned.dimensions.flatMap(\.criteria).first { $0.id == "ownership.products" }?.fact)
        XCTAssertTrue(ownedBefore.subjects?.contains { $0.id == orphan.id } ?? false)
        XCTAssertTrue(unowned.pitfalls.flatMap(\.evidence).contains { $0.contains(orphan.name) && $0.contains("no owner") })

        p.unresolved = [UnresolvedReference(kind: "product", id: orphan.id, field: "owner", ref: "group:default/locator-team",
                                            source: "catalog/locator/catalog-info.yaml:7"),
                        UnresolvedReference(kind: "system", id: p.systems[0].id, field: "owner", ref: "group:default/web-team")]
        p.systems[0].owner = nil
        let r = try run(p)
        let owned = try XCTUnwrap(r.dimensions.flatMap(\.criteria).first { $0.id == "ownership.products" }?.fact)
        XCTAssertFalse(owned.subjects?.contains { $0.id == orphan.id } ?? false, owned.detail)
        XCTAssertTrue(owned.detail.contains("1 owned by someone outside the portfolio"), owned.detail)
        XCTAssertGreaterThan(owned.value, ownedBefore.value)
        let evidence = r.pitfalls.flatMap(\.evidence)
        XCTAssertFalse(evidence.contains { $0.contains(orphan.name) && ($0.contains("no owner") || $0.contains("no internal owner")) }, "\(evidence)")
        let needed = (r.evidenceNeeded ?? []).joined(separator: " ")
        XCTAssertTrue(needed.contains("group:default/locator-team") && needed.contains("group:default/web-team"), needed)
        XCTAssertTrue(needed.contains("1 product and 1 system"), needed)
    }

    func testEveryFactSaysWhatWouldAnswerIt() {
        for id in FactCatalog.ids { XCTAssertNotNil(FactCatalog.needs[id], id) }
        XCTAssertEqual(Set(FactCatalog.needs.keys), Set(FactCatalog.ids))
    }
}
