import CJansson
import CSQLite
import XCTest
@testable import TwoSpeedEngine
import TwoSpeedAssessment
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedRPC
import TwoSpeedStore
import TwoSpeedSync
import Dispatch

/// Advice followed across kept runs (issue 23): stable keys, recommendation.history, dismissals and
/// campaigns, on the bundled retailer and on a real SQLite store reopened.
final class AdviceTests: XCTestCase {
    /// The result of a call that must succeed; fails the test with the error otherwise.
    func ok(_ e: Engine, _ method: String, _ params: String, file: StaticString = #filePath, line: UInt = #line) -> JSONRef {
        let r = e.request(method, params)
        XCTAssertNil(r.error, "\(method): \(r.text)", file: file, line: line)
        return r.result ?? JSONMake.null()
    }

    /// The reply must follow the method's own result schema, as rpc.discover publishes it.
    func conforms(_ e: Engine, _ method: String, _ result: JSONRef, file: StaticString = #filePath, line: UInt = #line) {
        guard let m = e.dispatcher.ordered.first(where: { $0.name == method }) else { return XCTFail("no method \(method)", file: file, line: line) }
        let issues = m.result.validate(result).issues
        XCTAssertTrue(issues.isEmpty, "\(method) fails its schema: \(issues.map { "\($0.pointer): \($0.reason)" })", file: file, line: line)
    }

    func keys(_ run: JSONRef) -> [String] { run["recommendations"]?.elements.compactMap { $0["key"]?.stringValue } ?? [] }

    func entries(_ h: JSONRef) -> [String: JSONRef] {
        Dictionary((h["advice"]?.elements ?? []).map { ($0["key"]!.stringValue!, $0) }, uniquingKeysWith: { a, _ in a })
    }

    func statuses(_ entry: JSONRef?) -> [String] { entry?["runs"]?.elements.compactMap { $0["status"]?.stringValue } ?? [] }

    func retailer(_ path: String? = nil) throws -> Engine {
        let e = try Engine(path: path)
        _ = ok(e, "portfolio.put", "{\"portfolio\":\(retailerText)}")
        return e
    }

    // MARK: Keys

    func testEveryRecommendationHasAKeyAndEachKeptRunRecordsModelAndEngine() throws {
        let e = try retailer()
        let r = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        let ks = keys(r)
        XCTAssertEqual(ks.count, r["recommendations"]?.count)
        XCTAssertEqual(Set(ks).count, ks.count, "two recommendations share a key")
        XCTAssertTrue(ks.contains { $0.hasPrefix("looking-outside-for-speed:store-locator:") }, "\(ks)")
        XCTAssertEqual(r["engine"]?.stringValue, Engine.version)
        XCTAssertEqual(r["model"]?["hash"]?.stringValue, AdviceKey.defaultModelHash)
        XCTAssertEqual(r["model"]?["hash"]?.stringValue?.count, 16)
        conforms(e, "assessment.run", r)
        // Not kept: no engine stamp, since nothing records it.
        XCTAssertNil(ok(e, "assessment.run", #"{"portfolio":"retailer","keep":false}"#)["engine"])
    }

    func testReorderingArraysAndRunningAgainChangesNoKey() throws {
        let e = try retailer()
        let first = keys(ok(e, "assessment.run", #"{"portfolio":"retailer"}"#))
        XCTAssertEqual(keys(ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)), first, "the same situation gave other keys")
        // Every collection reversed, and every list inside its entities (a product's systems and stages, a
        // system's interfaces, an objective's departments): the same situation. Observations and key results
        // keep their order, which says which is latest, and so does a rollout plan.
        let doc = parse(retailerText)
        func reversed(_ v: JSONRef) {
            let items = v.elements.map { $0.retained() }
            json_array_clear(v)
            for x in items.reversed() { v.append(x) }
        }
        func reverse(_ doc: JSONRef) {
            for k in doc.keys where doc[k]!.isArray {
                reversed(doc[k]!)
                for entity in doc[k]!.elements where entity.isObject {
                    for m in entity.keys where entity[m]!.isArray && !["observations", "keyResults", "rollout"].contains(m) { reversed(entity[m]!) }
                }
            }
        }
        reverse(doc)
        _ = ok(e, "portfolio.put", "{\"portfolio\":\(JSONText.dump(doc))}")
        doc.release()
        XCTAssertEqual(Set(keys(ok(e, "assessment.run", #"{"portfolio":"retailer"}"#))), Set(first), "reordering arrays changed keys")
    }

    /// More subjects than a result lists (a finding lists 50, a fact 20): the key is made of all of them,
    /// so reversing the portfolio's arrays, which changes which are listed, changes no key.
    func testKeysOfLongSubjectListsDoNotDependOnWhichAreListed() throws {
        let e = try Engine(path: nil)
        let doc = parse(retailerText)
        for i in 0..<70 {
            doc["products"]!.append(parse(#"{"id":"extra-\#(i)","name":"Extra \#(i)","status":"mvp","justification":"competitor-feature","stages":["online-shopping/delivery"]}"#))
        }
        _ = ok(e, "portfolio.put", "{\"portfolio\":\(JSONText.dump(doc))}")
        let run1 = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        let roadmap = run1["pitfalls"]!.elements.first { $0["pitfall"]?.stringValue == "roadmap-without-a-problem" }
        XCTAssertGreaterThan(roadmap?["subjectCount"]?.intValue ?? 0, 50, "more subjects than a finding lists")
        let listed1 = roadmap?["subjects"]?.elements.map { $0["id"]!.stringValue! }
        let products = doc["products"]!
        let items = products.elements.map { $0.retained() }
        json_array_clear(products)
        for x in items.reversed() { products.append(x) }
        _ = ok(e, "portfolio.put", "{\"portfolio\":\(JSONText.dump(doc))}")
        doc.release()
        let run2 = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        let listed2 = run2["pitfalls"]!.elements.first { $0["pitfall"]?.stringValue == "roadmap-without-a-problem" }?["subjects"]?.elements.map { $0["id"]!.stringValue! }
        XCTAssertNotEqual(listed1, listed2, "the near miss: other subjects are listed")
        XCTAssertEqual(Set(keys(run2)), Set(keys(run1)))
        XCTAssertTrue(keys(run1).contains { $0.hasPrefix("roadmap-without-a-problem:extra-0+") }, "\(keys(run1))")
        // The history follows the same advice through both runs.
        let h = ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)
        XCTAssertTrue(entries(h).values.allSatisfy { statuses($0) == ["open", "open"] }, JSONText.dump(h))
    }

    func testAKeyFollowsItsSubjectsNotTheirNamesOrFigures() {
        let a = Subject(kind: "system", id: "erp", name: "ERP"), b = Subject(kind: "system", id: "crm", name: "CRM")
        let k = AdviceKey.make(rule: "legacy-governance-for-digital", subjects: [a, b])
        XCTAssertEqual(k, AdviceKey.make(rule: "legacy-governance-for-digital", subjects: [b, a]))
        XCTAssertEqual(k, AdviceKey.make(rule: "legacy-governance-for-digital",
                                         subjects: [Subject(kind: "system", id: "erp", name: "Renamed"), b]))
        XCTAssertTrue(k.hasPrefix("legacy-governance-for-digital:crm+1:"))
        // The near misses: another subject, one subject fewer, another rule, more subjects than listed.
        XCTAssertNotEqual(k, AdviceKey.make(rule: "legacy-governance-for-digital", subjects: [a, Subject(kind: "system", id: "cms", name: "CRM")]))
        XCTAssertNotEqual(k, AdviceKey.make(rule: "legacy-governance-for-digital", subjects: [a]))
        XCTAssertNotEqual(k, AdviceKey.make(rule: "build-it-and-move-on", subjects: [a, b]))
        XCTAssertNotEqual(k, AdviceKey.make(rule: "legacy-governance-for-digital", subjects: [a, b], subjectCount: 60))
        XCTAssertNotEqual(k, AdviceKey.make(rule: "legacy-governance-for-digital", subjects: [a, Subject(kind: "product", id: "crm", name: "CRM")]))
    }

    // MARK: History

    /// What the first recommendation of the retailer names: the store locator, built by an outside
    /// developer, without an internal owner and with no interface to the back end. The fix gives it both.
    func fixStoreLocator(_ e: Engine) {
        let product = ok(e, "entity.get", #"{"portfolio":"retailer","kind":"product","id":"store-locator"}"#)["entity"]!
        product.set("owner", JSONMake.string("pm-front"))
        _ = ok(e, "entity.upsert", #"{"portfolio":"retailer","kind":"product","entity":\#(JSONText.dump(product))}"#)
        let system = ok(e, "entity.get", #"{"portfolio":"retailer","kind":"system","id":"locator-app"}"#)["entity"]!
        system.set("interfaces", parse(#"[{"to":"order-service","kind":"api"}]"#))
        _ = ok(e, "entity.upsert", #"{"portfolio":"retailer","kind":"system","entity":\#(JSONText.dump(system))}"#)
    }

    static let campaign = #"{"id":"integrate","name":"Integrate what we bought","owner":"pm-front","start":"2000-01-01","target":"2099-12-31","advice":{"pitfalls":["looking-outside-for-speed","legacy-governance-for-digital","build-it-and-move-on"]}}"#

    /// Done when (issue 23): fixing what the first recommendation names and running again shows it
    /// resolved, the others still open, and a campaign's progress moving; all of it after a reopen too.
    func testFixingTheFirstRecommendationResolvesItAndMovesTheCampaign() throws {
        let path = temporaryDirectory() + "/advice.db"
        var before = "", campaignBefore = ""
        do {
            let e = try retailer(path)
            let run1 = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
            let ks1 = keys(run1)
            let first = ks1[0]
            XCTAssertTrue(first.hasPrefix("looking-outside-for-speed:"), first)
            XCTAssertEqual(ok(e, "campaign.put", #"{"portfolio":"retailer","campaign":\#(AdviceTests.campaign)}"#)["revision"]?.intValue, 1)
            let c1 = ok(e, "campaign.get", #"{"portfolio":"retailer","id":"integrate"}"#)
            conforms(e, "campaign.get", c1)
            XCTAssertEqual(c1["status"]?.stringValue, "in-progress")
            XCTAssertEqual(c1["inScope"]?.intValue, 3)
            XCTAssertEqual(c1["resolved"]?.intValue, 0)
            XCTAssertEqual(c1["progress"]?.doubleValue, 0)

            fixStoreLocator(e)
            let ks2 = keys(ok(e, "assessment.run", #"{"portfolio":"retailer"}"#))
            XCTAssertFalse(ks2.contains(first), "the fixed advice is still given")
            XCTAssertEqual(Set(ks2), Set(ks1).subtracting([first]), "fixing one thing changed other advice")

            let h = ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)
            conforms(e, "recommendation.history", h)
            let byKey = entries(h)
            XCTAssertEqual(byKey[first]?["status"]?.stringValue, "resolved")
            XCTAssertEqual(statuses(byKey[first]), ["open", "resolved"])
            XCTAssertEqual(byKey[first]?["resolvedAt"]?.intValue, 2)
            XCTAssertEqual(byKey[first]?["firstRun"]?.intValue, 1)
            XCTAssertEqual(byKey[first]?["lastRun"]?.intValue, 1)
            for k in ks1.dropFirst() {
                XCTAssertEqual(statuses(byKey[k]), ["open", "open"], k)
                XCTAssertEqual(byKey[k]?["lastRun"]?.intValue, 2, k)
            }
            XCTAssertEqual(h["counts"]?["resolved"]?.intValue, 1)
            XCTAssertEqual(h["counts"]?["actedOn"]?.intValue, 1)
            XCTAssertEqual(h["counts"]?["open"]?.intValue, Int64(ks1.count - 1))
            XCTAssertEqual(h["untracked"]?.count, 0)

            let c2 = ok(e, "campaign.get", #"{"portfolio":"retailer","id":"integrate"}"#)
            XCTAssertEqual(c2["resolved"]?.intValue, 1)
            XCTAssertEqual(c2["inScope"]?.intValue, 3)
            XCTAssertEqual(c2["progress"]?.doubleValue ?? 0, 0.3333, accuracy: 1e-9)
            XCTAssertEqual(c2["burnUp"]?.elements.map { [$0["run"]!.intValue!, $0["inScope"]!.intValue!, $0["resolved"]!.intValue!] },
                           [[1, 3, 0], [2, 3, 1]])
            let rule = c2["byRule"]?.elements.first { $0["rule"]?.stringValue == "looking-outside-for-speed" }
            XCTAssertEqual(rule?["progress"]?.doubleValue, 1)
            before = JSONText.dump(h)
            campaignBefore = JSONText.dump(c2)
        }
        // Everything survives a reopen of the store.
        let e = try Engine(path: path)
        XCTAssertEqual(JSONText.dump(ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)), before)
        XCTAssertEqual(JSONText.dump(ok(e, "campaign.get", #"{"portfolio":"retailer","id":"integrate"}"#)), campaignBefore)
    }

    func testAdviceGivenAgainAfterBeingResolvedIsRegressed() throws {
        let e = try retailer()
        let first = keys(ok(e, "assessment.run", #"{"portfolio":"retailer"}"#))[0]
        fixStoreLocator(e)
        _ = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        _ = ok(e, "portfolio.put", "{\"portfolio\":\(retailerText)}")   // the fix undone
        _ = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        _ = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        let h = ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)
        XCTAssertEqual(statuses(entries(h)[first]), ["open", "resolved", "regressed", "regressed"])
        XCTAssertEqual(h["counts"]?["regressed"]?.intValue, 1)
        XCTAssertEqual(h["counts"]?["actedOn"]?.intValue, 0, "advice back again is not acted on")
    }

    func testAdviceWhoseSubjectWasRemovedIsObsoleteNotResolved() throws {
        let e = try retailer()
        let ks = keys(ok(e, "assessment.run", #"{"portfolio":"retailer"}"#))
        guard let siloed = ks.first(where: { $0.hasPrefix("siloed-objectives:okr-it-cost:") }) else { return XCTFail("\(ks)") }
        _ = ok(e, "entity.remove", #"{"portfolio":"retailer","kind":"okr","id":"okr-it-cost"}"#)
        _ = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        let h = ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)
        XCTAssertEqual(statuses(entries(h)[siloed]), ["open", "obsolete"])
        XCTAssertEqual(h["counts"]?["obsolete"]?.intValue, 1)
        XCTAssertEqual(h["counts"]?["actedOn"]?.intValue, 0)
    }

    /// The situation grows: another live product loses its owner and team, so build-it-and-move-on names
    /// one more product under a new key. The old key is superseded, not resolved: nothing was fixed. The
    /// near miss: fixing one of its products (the done-when test) resolves it.
    func testAdviceWhoseSituationGrewIsSupersededNotResolved() throws {
        let e = try retailer()
        let ks = keys(ok(e, "assessment.run", #"{"portfolio":"retailer"}"#))
        guard let build = ks.first(where: { $0.hasPrefix("build-it-and-move-on:") }) else { return XCTFail("\(ks)") }
        _ = ok(e, "campaign.put", #"{"portfolio":"retailer","campaign":{"id":"iterate","name":"Iterate","owner":"pm-front","start":"2000-01-01","target":"2099-01-01","advice":{"pitfalls":["build-it-and-move-on"]}}}"#)
        let p = ok(e, "entity.get", #"{"portfolio":"retailer","kind":"product","id":"front-page"}"#)["entity"]!
        json_object_del(p, "owner")
        json_object_del(p, "team")
        _ = ok(e, "entity.upsert", #"{"portfolio":"retailer","kind":"product","entity":\#(JSONText.dump(p))}"#)
        let ks2 = keys(ok(e, "assessment.run", #"{"portfolio":"retailer"}"#))
        XCTAssertFalse(ks2.contains(build))
        XCTAssertTrue(ks2.contains { $0.hasPrefix("build-it-and-move-on:") })
        let h = ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)
        XCTAssertEqual(statuses(entries(h)[build]), ["open", "superseded"])
        XCTAssertEqual(h["counts"]?["superseded"]?.intValue, 1)
        XCTAssertEqual(h["counts"]?["actedOn"]?.intValue, 0)
        let c = ok(e, "campaign.get", #"{"portfolio":"retailer","id":"iterate"}"#)
        XCTAssertEqual(c["resolved"]?.intValue, 0, "a grown situation is no progress")
        XCTAssertEqual(c["inScope"]?.intValue, 1)
        XCTAssertEqual(c["excluded"]?["superseded"]?.elements.map { $0.stringValue! }, [build])
        XCTAssertTrue(c["notes"]?.elements.contains { $0.stringValue!.contains("superseded") } ?? false)
    }

    /// A rule changed between two runs: what disappears is model-changed, never resolved (the near miss:
    /// the same model, the same fix, is resolved: see the done-when test).
    func testAdviceGoneWithAChangedRuleIsModelChangedNeverResolved() throws {
        let e = try retailer()
        let model = ok(e, "assessment.model.get", #"{"id":"twospeed-default"}"#)["model"]!
        model.set("id", JSONMake.string("house"))
        _ = ok(e, "assessment.model.put", "{\"model\":\(JSONText.dump(model))}")
        let ks1 = keys(ok(e, "assessment.run", #"{"portfolio":"retailer","model":"house"}"#))
        guard let outcomes = ks1.first(where: { $0.hasPrefix("culture.outcomes:") }) else { return XCTFail("\(ks1)") }
        // The rule changes: the criterion no longer carries a recommendation.
        for d in model["dimensions"]!.elements {
            for c in d["criteria"]!.elements where c["id"]?.stringValue == "culture.outcomes" { json_object_del(c, "recommendation") }
        }
        _ = ok(e, "assessment.model.put", "{\"model\":\(JSONText.dump(model))}")
        let run2 = ok(e, "assessment.run", #"{"portfolio":"retailer","model":"house"}"#)
        XCTAssertFalse(keys(run2).contains(outcomes))
        let h = ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)
        XCTAssertEqual(statuses(entries(h)[outcomes]), ["open", "model-changed"])
        XCTAssertEqual(h["runs"]?[1]?["modelChanged"]?.boolValue, true)
        XCTAssertEqual(h["counts"]?["resolved"]?.intValue, 0)
        XCTAssertEqual(h["counts"]?["actedOn"]?.intValue, 0)
        XCTAssertEqual(h["counts"]?["modelChanged"]?.intValue, 1)
    }

    func testDismissShowsWhoAndWhyAndReopenUndoesIt() throws {
        let e = try retailer()
        let ks = keys(ok(e, "assessment.run", #"{"portfolio":"retailer"}"#))
        let d = ok(e, "recommendation.dismiss", #"{"portfolio":"retailer","key":"\#(ks[1])","reason":"the ERP is being replaced next year"}"#)
        conforms(e, "recommendation.dismiss", d)
        XCTAssertEqual(d["by"]?.stringValue, "unknown", "the C ABI's host has no peer identity")
        _ = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        var h = ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)
        var entry = entries(h)[ks[1]]
        XCTAssertEqual(statuses(entry), ["open", "dismissed"])
        XCTAssertEqual(entry?["dismissal"]?["reason"]?.stringValue, "the ERP is being replaced next year")
        XCTAssertEqual(h["counts"]?["dismissed"]?.intValue, 1)
        XCTAssertEqual(h["counts"]?["actedOn"]?.intValue, 0)
        // A read-only peer may not dismiss or reopen; a peer the transport names is recorded by name.
        let readOnly = e.call(#"{"jsonrpc":"2.0","method":"recommendation.reopen","params":{"portfolio":"retailer","key":"\#(ks[1])"},"id":1}"#,
                              context: CallContext(readOnly: true, admin: false, peer: "uid 4242")).map(Response.init)
        XCTAssertEqual(readOnly?.code, ErrorCode.readOnly.rawValue)
        let named = e.call(#"{"jsonrpc":"2.0","method":"recommendation.dismiss","params":{"portfolio":"retailer","key":"\#(ks[2])","reason":"later"},"id":1}"#,
                           context: CallContext(peer: "uid 4242")).map(Response.init)
        XCTAssertEqual(named?.result?["by"]?.stringValue, "uid 4242")
        // Bad input: an unknown key, a missing reason, a stale revision, an unknown portfolio.
        let unknown = e.request("recommendation.dismiss", #"{"portfolio":"retailer","key":"no-such:x:000000000000","reason":"x"}"#)
        XCTAssertEqual(unknown.code, ErrorCode.notFound.rawValue)
        XCTAssertEqual(unknown.pointer, "/key")
        XCTAssertEqual(e.request("recommendation.dismiss", #"{"portfolio":"retailer","key":"\#(ks[1])"}"#).code, ErrorCode.invalidParams.rawValue)
        let stale = e.request("recommendation.dismiss", #"{"portfolio":"retailer","key":"\#(ks[1])","reason":"again","ifRevision":7}"#)
        XCTAssertEqual(stale.code, ErrorCode.revisionMismatch.rawValue)
        XCTAssertEqual(stale.error?["data"]?["revision"]?.intValue, 1)
        XCTAssertEqual(e.request("recommendation.history", #"{"portfolio":"nope"}"#).pointer, "/portfolio")

        XCTAssertEqual(ok(e, "recommendation.reopen", #"{"portfolio":"retailer","key":"\#(ks[1])"}"#)["reopened"]?.boolValue, true)
        h = ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)
        entry = entries(h)[ks[1]]
        XCTAssertEqual(statuses(entry), ["open", "open"])
        XCTAssertNil(entry?["dismissal"])
        let again = e.request("recommendation.reopen", #"{"portfolio":"retailer","key":"\#(ks[1])"}"#)
        XCTAssertEqual(again.code, ErrorCode.notFound.rawValue)
        XCTAssertEqual(again.pointer, "/key")
    }

    // MARK: Campaigns

    func testCampaignStatusesAndDismissedAdviceLeavingTheDenominator() throws {
        let e = try retailer()
        let ks = keys(ok(e, "assessment.run", #"{"portfolio":"retailer"}"#))
        func put(_ json: String) -> Response { e.request("campaign.put", #"{"portfolio":"retailer","campaign":\#(json)}"#) }
        // Past its target with work left: delayed.
        XCTAssertNil(put(#"{"id":"late","name":"Late","owner":"pm-checkout","start":"2020-01-01","target":"2021-01-01","advice":{"pitfalls":["legacy-governance-for-digital"]}}"#).error)
        XCTAssertEqual(ok(e, "campaign.get", #"{"portfolio":"retailer","id":"late"}"#)["status"]?.stringValue, "delayed")
        // Not started yet: a draft.
        XCTAssertNil(put(#"{"id":"next","name":"Next","owner":"pm-checkout","start":"2099-01-01","target":"2099-06-01","advice":{"pitfalls":["legacy-governance-for-digital"]}}"#).error)
        XCTAssertEqual(ok(e, "campaign.get", #"{"portfolio":"retailer","id":"next"}"#)["status"]?.stringValue, "draft")
        // All of its advice resolved: done, even past the target.
        XCTAssertNil(put(#"{"id":"locator","name":"Locator","owner":"pm-front","start":"2020-01-01","target":"2021-01-01","advice":{"keys":["\#(ks[0])"]}}"#).error)
        // Scope by department: the marketing department's advice of two rules; one dismissed.
        XCTAssertNil(put(#"{"id":"marketing","name":"Marketing","owner":"pm-front","start":"2020-01-01","target":"2099-01-01","scope":{"departments":["marketing"]},"advice":{"pitfalls":["build-it-and-move-on","roadmap-without-a-problem","request-takers"]}}"#).error)
        let m1 = ok(e, "campaign.get", #"{"portfolio":"retailer","id":"marketing"}"#)
        // build-it-and-move-on names store-locator (marketing) and payment-app; roadmap names store-locator;
        // request-takers names a manager of IT: out of scope.
        XCTAssertEqual(m1["inScope"]?.intValue, 2, JSONText.dump(m1))
        let roadmap = ks.first { $0.hasPrefix("roadmap-without-a-problem:") }!
        _ = ok(e, "recommendation.dismiss", #"{"portfolio":"retailer","key":"\#(roadmap)","reason":"the competitor feature is the point"}"#)
        let m2 = ok(e, "campaign.get", #"{"portfolio":"retailer","id":"marketing"}"#)
        XCTAssertEqual(m2["inScope"]?.intValue, 1)
        XCTAssertEqual(m2["excluded"]?["dismissed"]?.elements.map { $0.stringValue! }, [roadmap])
        XCTAssertTrue(m2["notes"]?.elements.contains { $0.stringValue!.contains("dismissed") && $0.stringValue!.contains(roadmap) } ?? false,
                      JSONText.dump(m2))

        fixStoreLocator(e)
        _ = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        let done = ok(e, "campaign.get", #"{"portfolio":"retailer","id":"locator"}"#)
        XCTAssertEqual(done["status"]?.stringValue, "done")
        XCTAssertEqual(done["progress"]?.doubleValue, 1)
        let list = ok(e, "campaign.list", #"{"portfolio":"retailer"}"#)
        conforms(e, "campaign.list", list)
        XCTAssertEqual(list["campaigns"]?.elements.map { $0["campaign"]!["id"]!.stringValue! }, ["late", "locator", "marketing", "next"])

        // Revisions like every other write.
        XCTAssertNil(put(#"{"id":"late","name":"Later","owner":"pm-checkout","start":"2020-01-01","target":"2021-01-01","advice":{"pitfalls":["legacy-governance-for-digital"]}}"#).error)
        XCTAssertEqual(ok(e, "campaign.get", #"{"portfolio":"retailer","id":"late"}"#)["revision"]?.intValue, 2)
        let mismatch = e.request("campaign.put", #"{"portfolio":"retailer","ifRevision":1,"campaign":{"id":"late","name":"Late","owner":"pm-checkout","start":"2020-01-01","target":"2021-01-01","advice":{"pitfalls":["legacy-governance-for-digital"]}}}"#)
        XCTAssertEqual(mismatch.code, ErrorCode.revisionMismatch.rawValue)
        let create = e.request("campaign.put", #"{"portfolio":"retailer","ifRevision":0,"campaign":{"id":"late","name":"Late","owner":"pm-checkout","start":"2020-01-01","target":"2021-01-01","advice":{"pitfalls":["legacy-governance-for-digital"]}}}"#)
        XCTAssertEqual(create.code, ErrorCode.revisionMismatch.rawValue, "ifRevision 0 means: only if there is none yet")
        XCTAssertEqual(e.request("campaign.delete", #"{"portfolio":"retailer","id":"late","ifRevision":1}"#).code, ErrorCode.revisionMismatch.rawValue)
        XCTAssertEqual(ok(e, "campaign.delete", #"{"portfolio":"retailer","id":"late","ifRevision":2}"#)["deleted"]?.boolValue, true)
        let gone = e.request("campaign.get", #"{"portfolio":"retailer","id":"late"}"#)
        XCTAssertEqual(gone.code, ErrorCode.notFound.rawValue)
        XCTAssertEqual(gone.pointer, "/id")
        XCTAssertEqual(e.request("campaign.delete", #"{"portfolio":"retailer","id":"late"}"#).code, ErrorCode.notFound.rawValue)
    }

    func testABadCampaignIsRefusedWithPointersAndWritesNothing() throws {
        let e = try retailer()
        let r = e.request("campaign.put", #"{"portfolio":"retailer","campaign":{"id":"bad","name":"Bad","owner":"nobody","start":"2026-06-01","target":"2026-01-01","scope":{"products":["no-such"],"layers":["moon"]},"advice":{"pitfalls":["not-a-rule"]}}}"#)
        XCTAssertEqual(r.code, ErrorCode.invalidParams.rawValue)
        XCTAssertEqual(Set(r.pointers), ["/campaign/owner", "/campaign/target", "/campaign/scope/products/0", "/campaign/scope/layers/0",
                                         "/campaign/advice/pitfalls/0"])
        XCTAssertEqual(e.request("campaign.put", #"{"portfolio":"retailer","campaign":{"id":"bad","name":"Bad","owner":"pm-front","start":"2026-01-01","target":"2026-06-01","advice":{}}}"#).pointer,
                       "/campaign/advice")
        XCTAssertEqual(e.request("campaign.put", #"{"portfolio":"retailer","campaign":{"id":"bad","name":"Bad","owner":"pm-front","start":"June","target":"2026-06-01","advice":{"keys":["k"]}}}"#).pointer,
                       "/campaign/start")
        XCTAssertEqual(ok(e, "campaign.list", #"{"portfolio":"retailer"}"#)["campaigns"]?.count, 0)
        // A read-only peer may not write one.
        let ro = e.call(#"{"jsonrpc":"2.0","method":"campaign.put","params":{"portfolio":"retailer","campaign":\#(AdviceTests.campaign)},"id":1}"#,
                        context: CallContext(readOnly: true, admin: false)).map(Response.init)
        XCTAssertEqual(ro?.code, ErrorCode.readOnly.rawValue)
    }

    /// A store kept before advice was tracked (schema 5) migrates; its runs are listed as untracked, not
    /// read as advice that was never given.
    func testRunsKeptBeforeTrackingAreUntracked() throws {
        let path = temporaryDirectory() + "/v5.db"
        do {
            let e = try retailer(path)
            _ = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        }
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path, &db), SQLITE_OK)
        XCTAssertEqual(sqlite3_exec(db, "DROP TABLE advice_run; DROP TABLE advice_dismissal; DROP TABLE advice_campaign; PRAGMA user_version = 5", nil, nil, nil), SQLITE_OK)
        sqlite3_close(db)
        let e = try Engine(path: path)
        _ = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        let h = ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)
        XCTAssertEqual(h["untracked"]?.elements.map { $0.intValue! }, [1])
        XCTAssertEqual(h["runs"]?.elements.map { $0["run"]!.intValue! }, [2])
        XCTAssertTrue(entries(h).values.allSatisfy { statuses($0) == ["open"] })
    }

    /// An advice record whose run is not kept (written as its portfolio was deleted) is not read as a run.
    func testARecordWithoutItsKeptRunIsIgnored() throws {
        let path = temporaryDirectory() + "/orphan.db"
        do {
            let e = try retailer(path)
            _ = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        }
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path, &db), SQLITE_OK)
        XCTAssertEqual(sqlite3_exec(db, "INSERT INTO advice_run (portfolio, seq, body) SELECT portfolio, 99, body FROM advice_run WHERE seq = 1",
                                    nil, nil, nil), SQLITE_OK)
        sqlite3_close(db)
        let e = try Engine(path: path)
        let h = ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)
        XCTAssertEqual(h["runs"]?.elements.map { $0["run"]!.intValue! }, [1])
    }

    /// Deleting a portfolio takes its advice, dismissals and campaigns with it.
    func testDeletingAPortfolioDeletesItsAdvice() throws {
        let e = try retailer()
        let ks = keys(ok(e, "assessment.run", #"{"portfolio":"retailer"}"#))
        _ = ok(e, "recommendation.dismiss", #"{"portfolio":"retailer","key":"\#(ks[0])","reason":"x"}"#)
        _ = ok(e, "campaign.put", #"{"portfolio":"retailer","campaign":\#(AdviceTests.campaign)}"#)
        _ = ok(e, "portfolio.delete", #"{"id":"retailer"}"#)
        _ = ok(e, "portfolio.put", "{\"portfolio\":\(retailerText)}")
        let h = ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)
        XCTAssertEqual(h["advice"]?.count, 0)
        XCTAssertEqual(ok(e, "campaign.list", #"{"portfolio":"retailer"}"#)["campaigns"]?.count, 0)
    }

    /// Aims are model data: a custom model declares its own and they are checked like the rest.
    func testAModelsAimsAreCheckedWithPointers() throws {
        let e = try Engine(path: nil)
        let model = ok(e, "assessment.model.get", #"{"id":"twospeed-default"}"#)["model"]!
        XCTAssertGreaterThanOrEqual(model["aims"]?.count ?? 0, 10, "the default model declares what its advice aims at")
        model.set("id", JSONMake.string("house"))
        model.set("aims", parse(#"""
            [{"rule":"request-takers","dimension":"no-such","horizonDays":90,"measures":[{"source":"metric"},{"source":"four-key"}]},
             {"rule":"request-takers","horizonDays":90,"measures":[{"source":"four-key","key":"lead-time"}]}]
            """#))
        let r = e.request("assessment.model.put", "{\"model\":\(JSONText.dump(model))}")
        XCTAssertEqual(r.code, ErrorCode.invalidParams.rawValue)
        XCTAssertEqual(Set(r.pointers).isSuperset(of: ["/model/aims/1/measures/0/key"]), true, r.text)
        model.set("aims", parse(#"""
            [{"rule":"request-takers","dimension":"no-such","horizonDays":90,"measures":[{"source":"metric"},{"source":"four-key"}]},
             {"rule":"request-takers","horizonDays":90,"measures":[]}]
            """#))
        let r2 = e.request("assessment.model.put", "{\"model\":\(JSONText.dump(model))}")
        XCTAssertEqual(Set(r2.pointers), ["/model/aims/0/dimension", "/model/aims/0/measures/0/category", "/model/aims/0/measures/1/key",
                                          "/model/aims/1/rule"], r2.text)
        model.set("aims", parse(#"[{"rule":"request-takers","dimension":"ownership","horizonDays":90,"measures":[{"source":"metric","category":"profit"}]}]"#))
        _ = ok(e, "assessment.model.put", "{\"model\":\(JSONText.dump(model))}")
        XCTAssertEqual(ok(e, "assessment.model.get", #"{"id":"house"}"#)["model"]?["aims"]?[0]?["measures"]?[0]?["category"]?.stringValue, "profit")
    }

    /// The html report of a portfolio gains "Advice and outcomes": what was advised and when, what was done,
    /// each campaign with its burn-up; a report of a result given whole (no portfolio) has none.
    func testTheHTMLReportShowsAdviceAndOutcomes() throws {
        let e = try retailer()
        let first = keys(ok(e, "assessment.run", #"{"portfolio":"retailer","asOf":"2026-05-01"}"#))[0]
        _ = ok(e, "campaign.put", #"{"portfolio":"retailer","campaign":\#(AdviceTests.campaign)}"#)
        fixStoreLocator(e)
        let run2 = ok(e, "assessment.run", #"{"portfolio":"retailer","asOf":"2026-06-01"}"#)
        _ = ok(e, "recommendation.dismiss", #"{"portfolio":"retailer","key":"\#(keys(run2)[0])","reason":"<b>not</b> now"}"#)
        let html = ok(e, "report.render", #"{"portfolio":"retailer","format":"html"}"#)["content"]!.stringValue!
        XCTAssertTrue(html.contains("<h2>Advice and outcomes</h2>"))
        XCTAssertTrue(html.contains("<a href=\"#advice\">Advice and outcomes</a>"), "the contents link to it")
        XCTAssertTrue(html.contains("<code>\(first)</code>"))
        XCTAssertTrue(html.contains("resolved at run 2"))
        XCTAssertTrue(html.contains("dismissed by unknown: &lt;b&gt;not&lt;/b&gt; now"), "a reason is text, escaped")
        XCTAssertTrue(html.contains("<h3>What moved</h3>") && html.contains("insufficient data"))
        XCTAssertTrue(html.contains("<h3>Campaign: Integrate what we bought</h3>"))
        XCTAssertTrue(html.contains("aria-label=\"Burn-up of Integrate what we bought\""))
        let result = JSONText.dump(run2)
        let given = ok(e, "report.render", #"{"result":\#(result),"format":"html"}"#)["content"]!.stringValue!
        XCTAssertFalse(given.contains("Advice and outcomes"))
    }

    /// The Markdown and text reports gain the same "Advice and outcomes" as the html one, from one model of
    /// the section: every key of the history in all three, what was done, what moved (labelled an
    /// association), each campaign with its status, progress and burn-up. A dismissal's reason is free text:
    /// escaped for Markdown, its control characters shown escaped in the text, every text line within width.
    func testTheMarkdownAndTextReportsShowAdviceAndOutcomes() throws {
        let e = try retailer()
        let first = keys(ok(e, "assessment.run", #"{"portfolio":"retailer","asOf":"2026-05-01"}"#))[0]
        _ = ok(e, "campaign.put", #"{"portfolio":"retailer","campaign":\#(AdviceTests.campaign)}"#)
        fixStoreLocator(e)
        let run2 = ok(e, "assessment.run", #"{"portfolio":"retailer","asOf":"2026-06-01"}"#)
        _ = ok(e, "recommendation.dismiss", #"{"portfolio":"retailer","key":"\#(keys(run2)[0])","reason":"a|b\nc\u001b[2J"}"#)
        let history = ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)
        let historyKeys = history["advice"]!.elements.map { $0["key"]!.stringValue! }
        let campaign = ok(e, "campaign.get", #"{"portfolio":"retailer","id":"integrate"}"#)
        let (resolved, inScope) = (campaign["resolved"]!.intValue!, campaign["inScope"]!.intValue!)
        XCTAssertEqual([resolved, inScope], [1, 2], "the dismissed advice in scope leaves the denominator")
        func render(_ format: String, width: Int = 100) -> String {
            ok(e, "report.render", #"{"portfolio":"retailer","format":"\#(format)","width":\#(width)}"#)["content"]!.stringValue!
        }
        let html = render("html"), md = render("markdown")
        XCTAssertTrue(md.contains("\n## Advice and outcomes\n"), md)
        let mdSection = String(md[md.range(of: "## Advice and outcomes")!.lowerBound...])
        for k in historyKeys {
            XCTAssertTrue(html.contains("<code>\(k)</code>") && mdSection.contains("`\(k)`"), "\(k) missing from a report")
        }
        XCTAssertEqual(mdSection.split(separator: "\n").filter { $0.hasPrefix("| **") }.count, historyKeys.count, "one row a piece of advice")
        XCTAssertTrue(mdSection.contains("`\(first)` | looking-outside-for-speed | "), "the key's rule beside it")
        XCTAssertTrue(mdSection.contains("| resolved | run 1 | run 1 | resolved at run 2 |"), mdSection)
        XCTAssertTrue(mdSection.contains("| dismissed | run 1 | run 2 | dismissed by unknown: a\\|b c\\[2J |"), "the reason escaped: \(mdSection)")
        XCTAssertTrue(mdSection.contains("### What moved") && mdSection.contains("**An association, not a cause.**"))
        XCTAssertTrue(mdSection.contains("| Advice | Measure | Shift | 95% interval | Method | Reading |"))
        XCTAssertTrue(mdSection.contains("insufficient data"))
        XCTAssertTrue(mdSection.contains("### Campaign: Integrate what we bought"))
        XCTAssertTrue(mdSection.contains("**in-progress**, \(resolved) of \(inScope) resolved (50%)."), mdSection)
        XCTAssertTrue(mdSection.contains("- 1 dismissed piece of advice in scope left out of the denominator"), "and says so: \(mdSection)")
        XCTAssertTrue(mdSection.contains("| 1 | 0 | 2 |\n| 2 | 1 | 2 |"), "the burn-up: \(mdSection)")
        XCTAssertFalse(md.contains("\u{1B}"))

        for width in [100, 60] {
            let text = render("text", width: width)
            XCTAssertFalse(text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "a control character reached the text")
            guard let start = text.range(of: "\nAdvice and outcomes\n") else { XCTFail(text); continue }
            let section = String(text[start.lowerBound...])
            for line in section.split(separator: "\n") { XCTAssertLessThanOrEqual(line.count, width, "too wide: \(line)") }
            XCTAssertTrue(section.contains("dismissed by unknown: a|b\\nc\\e[2J"), "control characters shown escaped: \(section)")
            XCTAssertTrue(section.contains("What moved") && section.contains("An association, not a cause."))
            XCTAssertTrue(section.contains("Campaign: Integrate what we bought"))
            XCTAssertTrue(section.contains("burn-up (resolved/in scope): run 1 0/2, run 2 1/2"), section)
            if width == 100 {
                XCTAssertTrue(section.contains("in-progress, \(resolved) of \(inScope) resolved (50%)"), section)
                XCTAssertTrue(section.contains("note: 1 dismissed piece of advice in scope left out of the denominator"), section)
                XCTAssertTrue(section.contains("given run 1 to run 1; resolved at run 2"), section)
                for k in historyKeys { XCTAssertTrue(section.contains("key " + k), "\(k) missing from the text") }
            }
        }
        // A result given whole has no history to show, in any format.
        let given = JSONText.dump(run2)
        for format in ["markdown", "text"] {
            let out = ok(e, "report.render", #"{"result":\#(given),"format":"\#(format)"}"#)["content"]!.stringValue!
            XCTAssertFalse(out.contains("Advice and outcomes"), format)
        }
        // The report of an earlier run shows the advice as it stood then (the campaign shows the section):
        // no later history ("resolved at run 2", run 2's burn-up, the dismissal made after run 2); naming
        // the latest run is the same as naming none.
        for format in ["html", "markdown", "text"] {
            func at(_ run: Int?) -> String {
                ok(e, "report.render", #"{"portfolio":"retailer","format":"\#(format)"\#(run.map { ",\"run\":\($0)" } ?? "")}"#)["content"]!.stringValue!
            }
            let early = at(1)
            XCTAssertTrue(early.contains("Advice and outcomes"), format)
            XCTAssertFalse(early.contains("resolved at run 2"), format)
            XCTAssertFalse(early.contains("dismissed by"), "\(format): the dismissal came after run 1")
            XCTAssertTrue(at(2).contains("resolved at run 2"), format)
            XCTAssertTrue(at(2).contains("dismissed by"), format)
            XCTAssertEqual(at(2), at(nil), format)
            if format == "text" {
                XCTAssertTrue(early.contains("burn-up (resolved/in scope): run 1 0/3\n"), "nothing dismissed yet, 3 in scope: \(early)")
                XCTAssertFalse(early.contains("run 2"), early)
                XCTAssertTrue(early.contains("0 resolved (acted on)"), early)
            }
        }
    }

    /// The near miss: with a single kept run every piece of advice is open since that run, which "What to
    /// do next" already says; no report shows an empty or redundant section. A second run (nothing fixed)
    /// starts the history, and a campaign is worth showing from the first run.
    func testASingleRunShowsNoAdviceSection() throws {
        let e = try retailer()
        _ = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        let history = ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)
        XCTAssertEqual(history["runs"]?.count, 1)
        XCTAssertGreaterThan(history["advice"]?.count ?? 0, 0, "advice is tracked from the first run")
        func render(_ format: String) -> String {
            ok(e, "report.render", #"{"portfolio":"retailer","format":"\#(format)"}"#)["content"]!.stringValue!
        }
        for format in ["html", "markdown", "text"] {
            let out = render(format)
            XCTAssertTrue(out.contains("What to do next"), format)
            XCTAssertFalse(out.contains("Advice and outcomes"), format)
        }
        _ = ok(e, "campaign.put", #"{"portfolio":"retailer","campaign":\#(AdviceTests.campaign)}"#)
        for format in ["html", "markdown", "text"] { XCTAssertTrue(render(format).contains("Advice and outcomes"), format) }
        _ = ok(e, "campaign.delete", #"{"portfolio":"retailer","id":"integrate"}"#)
        for format in ["html", "markdown", "text"] { XCTAssertFalse(render(format).contains("Advice and outcomes"), format) }
        _ = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        for format in ["html", "markdown", "text"] {
            let out = render(format)
            XCTAssertTrue(out.contains("Advice and outcomes"), format)
            XCTAssertFalse(out.contains("What moved"), "nothing resolved, nothing to measure: \(format)")
        }
    }

    /// A campaign whose advice matches nothing in scope: its section says there is nothing to measure in
    /// every format, never "0 of 0" (unknown is not zero).
    func testACampaignWithNothingInScopeReadsNoZeroOfZero() throws {
        let e = try retailer()
        _ = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        let c = #"{"id":"none","name":"Nothing yet","owner":"pm-front","start":"2000-01-01","target":"2099-12-31","advice":{"keys":["no-such:key:0"]}}"#
        _ = ok(e, "campaign.put", #"{"portfolio":"retailer","campaign":\#(c)}"#)
        XCTAssertEqual(ok(e, "campaign.get", #"{"portfolio":"retailer","id":"none"}"#)["inScope"]?.intValue, 0)
        for format in ["html", "markdown", "text"] {
            // Words only: the text report wraps a sentence over lines.
            let out = ok(e, "report.render", #"{"portfolio":"retailer","format":"\#(format)"}"#)["content"]!.stringValue!
                .split(whereSeparator: \.isWhitespace).joined(separator: " ")
            XCTAssertTrue(out.contains("Nothing yet"), format)
            XCTAssertTrue(out.contains("no advice in scope counts yet, so no progress to measure"), format)
            XCTAssertFalse(out.contains("0 of 0"), format)
        }
    }

    /// A store that keeps portfolios and runs but no advice (as a PortfolioStore may): assessments still run
    /// and are kept; the advice methods answer a clear store error instead of guessing.
    func testAStoreWithoutAdviceAnswersAClearError() throws {
        let e = try Engine(store: PortfolioOnlyStore(try SQLiteStore(path: nil)))
        _ = ok(e, "portfolio.put", "{\"portfolio\":\(retailerText)}")
        let run = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        XCTAssertEqual(run["run"]?.intValue, 1)
        XCTAssertFalse(run["warnings"]?.elements.contains { $0.stringValue?.contains("advice") ?? false } ?? true)
        for (method, params) in [("recommendation.history", #"{"portfolio":"retailer"}"#),
                                 ("recommendation.outcomes", #"{"portfolio":"retailer"}"#),
                                 ("campaign.list", #"{"portfolio":"retailer"}"#),
                                 ("campaign.put", #"{"portfolio":"retailer","campaign":\#(AdviceTests.campaign)}"#)] {
            let r = e.request(method, params)
            XCTAssertEqual(r.code, ErrorCode.storeError.rawValue, method)
            XCTAssertEqual(r.error?["data"]?["reason"]?.stringValue, "this store keeps no advice history, dismissals or campaigns", method)
        }
    }
}

extension AdviceTests {
    /// Runs kept, advice dismissed and reopened, campaigns written and read from many threads at once on
    /// one file store: every call answers, every kept run has its advice record (none untracked), and
    /// the campaigns' revisions count every write once.
    func testAdviceUnderConcurrentRunsDismissalsAndCampaigns() throws {
        let e = try retailer(temporaryDirectory() + "/concurrent.db")
        let ks = keys(ok(e, "assessment.run", #"{"portfolio":"retailer"}"#))
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for n in 0..<12 {
                let r: Response
                switch (i + n) % 5 {
                case 0: r = e.request("assessment.run", #"{"portfolio":"retailer"}"#)
                case 1: r = e.request("recommendation.dismiss", #"{"portfolio":"retailer","key":"\#(ks[i % ks.count])","reason":"thread \#(i)"}"#)
                case 2: r = e.request("campaign.put", #"{"portfolio":"retailer","campaign":\#(AdviceTests.campaign)}"#)
                case 3: r = e.request("campaign.get", #"{"portfolio":"retailer","id":"integrate"}"#)
                default: r = e.request("recommendation.history", #"{"portfolio":"retailer"}"#)
                }
                // A campaign read before any put is the one expected miss.
                if r.result == nil && !(r.code == ErrorCode.notFound.rawValue && r.text.contains("no campaign")) {
                    failures.write { $0.append(r.text) }
                }
            }
        }
        XCTAssertEqual(failures.read { $0 }, [])
        let h = ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)
        let kept = ok(e, "assessment.history", #"{"portfolio":"retailer"}"#)["runs"]!.count
        XCTAssertEqual(h["runs"]?.count, kept, "every kept run tracked")
        XCTAssertEqual(h["untracked"]?.count, 0)
        let puts = (0..<8).reduce(0) { t, i in t + (0..<12).filter { (i + $0) % 5 == 2 }.count }
        XCTAssertEqual(ok(e, "campaign.get", #"{"portfolio":"retailer","id":"integrate"}"#)["revision"]?.intValue, Int64(puts))
    }
}

/// The SQLite store seen only as a PortfolioStore: no AdviceStore conformance to find.
final class PortfolioOnlyStore: PortfolioStore, @unchecked Sendable {
    let base: SQLiteStore
    init(_ base: SQLiteStore) { self.base = base }
    var path: String { base.path }
    var inMemory: Bool { base.inMemory }
    var schemaVersion: Int { base.schemaVersion }
    func loadAll() throws -> [StoredPortfolio] { try base.loadAll() }
    func loadPortfolio(id: String) throws -> StoredPortfolio? { try base.loadPortfolio(id: id) }
    func apply(_ changes: [StoreChange]) throws { try base.apply(changes) }
    func putModel(id: String, body: String, updated: String) throws { try base.putModel(id: id, body: body, updated: updated) }
    func deleteModel(id: String) throws { try base.deleteModel(id: id) }
    func models() throws -> [StoredModel] { try base.models() }
    func addRun(portfolio: String, at: String, model: String, score: Double, summary: String, body: String) throws -> Int {
        try base.addRun(portfolio: portfolio, at: at, model: model, score: score, summary: summary, body: body)
    }
    func runSummaries(portfolio: String, model: String?) throws -> [KeptRun] { try base.runSummaries(portfolio: portfolio, model: model) }
    func runHeaders(portfolio: String) throws -> [(seq: Int, model: String)] { try base.runHeaders(portfolio: portfolio) }
    func runBody(portfolio: String, seq: Int) throws -> String? { try base.runBody(portfolio: portfolio, seq: seq) }
    func integrityCheck() throws -> String { try base.integrityCheck() }
}
