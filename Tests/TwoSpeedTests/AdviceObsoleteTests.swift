import CSQLite
import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON

/// "Obsolete" in every run of the history, not only where the advice went: the siloed objective's
/// advice names okr-it-cost; the objective is removed, comes back, or is fixed and then removed.
extension AdviceTests {
    func siloedKey(_ e: Engine) -> String? {
        keys(ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)).first { $0.hasPrefix("siloed-objectives:okr-it-cost:") }
    }

    func okr(_ e: Engine) -> JSONRef { ok(e, "entity.get", #"{"portfolio":"retailer","kind":"okr","id":"okr-it-cost"}"#)["entity"]!.retained() }

    func put(_ e: Engine, okr: JSONRef) {
        _ = ok(e, "entity.upsert", #"{"portfolio":"retailer","kind":"okr","entity":\#(JSONText.dump(okr))}"#)
    }

    func removeOKR(_ e: Engine) { _ = ok(e, "entity.remove", #"{"portfolio":"retailer","kind":"okr","id":"okr-it-cost"}"#) }

    func run(_ e: Engine) { _ = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#) }

    func history(_ e: Engine) -> JSONRef { ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#) }

    /// Removed, then back as it was: obsolete while it is away, open (not regressed: never acted on) once the
    /// advice is given again.
    func testObsoleteWhileTheSubjectIsAwayOpenWhenItComesBack() throws {
        let e = try retailer()
        guard let key = siloedKey(e) else { return XCTFail("no siloed advice") }
        let saved = okr(e)
        removeOKR(e); run(e); run(e)
        put(e, okr: saved); run(e)
        let h = history(e)
        XCTAssertEqual(statuses(entries(h)[key]), ["open", "obsolete", "obsolete", "open"])
        XCTAssertEqual(h["counts"]?["actedOn"]?.intValue, 0)
        conforms(e, "recommendation.history", h)
    }

    /// Removed, then back with its parent set (fixed): the advice went and its subject exists, so it is
    /// resolved at the run the subject came back, not obsolete for ever.
    func testASubjectBackFixedResolvesTheAdvice() throws {
        let e = try retailer()
        guard let key = siloedKey(e) else { return XCTFail("no siloed advice") }
        let saved = okr(e)
        removeOKR(e); run(e)
        saved.set("parent", JSONMake.string("okr-online-growth"))
        put(e, okr: saved); run(e); run(e)
        let entry = entries(history(e))[key]
        XCTAssertEqual(statuses(entry), ["open", "obsolete", "resolved", "resolved"])
        XCTAssertEqual(entry?["resolvedAt"]?.intValue, 3)
    }

    /// Fixed at run 2 (resolved: the near miss, its subject still exists), removed at run 4: obsolete from
    /// run 4 on, and no longer counted as acted on.
    func testASubjectRemovedAfterTheAdviceWentMakesItObsoleteFromThen() throws {
        let e = try retailer()
        guard let key = siloedKey(e) else { return XCTFail("no siloed advice") }
        let fixed = okr(e)
        fixed.set("parent", JSONMake.string("okr-online-growth"))
        put(e, okr: fixed); run(e); run(e)
        var entry = entries(history(e))[key]
        XCTAssertEqual(statuses(entry), ["open", "resolved", "resolved"], "the near miss: gone, its subject still there")
        XCTAssertEqual(entry?["resolvedAt"]?.intValue, 2)
        removeOKR(e); run(e)
        let h = history(e)
        entry = entries(h)[key]
        XCTAssertEqual(statuses(entry), ["open", "resolved", "resolved", "obsolete"])
        XCTAssertNil(entry?["resolvedAt"])
        XCTAssertEqual(h["counts"]?["obsolete"]?.intValue, 1)
    }

    /// A kept run without an advice record between: the run after it is compared with the last tracked
    /// one, and a subject removed while the record was missing still makes the advice obsolete.
    func testAcrossARunWithoutAnAdviceRecord() throws {
        let path = temporaryDirectory() + "/untracked-middle.db"
        let e = try retailer(path)
        guard let key = siloedKey(e) else { return XCTFail("no siloed advice") }
        removeOKR(e); run(e)
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path, &db), SQLITE_OK)
        XCTAssertEqual(sqlite3_exec(db, "DELETE FROM advice_run WHERE seq = 2", nil, nil, nil), SQLITE_OK)
        sqlite3_close(db)
        run(e); run(e)
        let h = history(e)
        XCTAssertEqual(h["untracked"]?.elements.map { $0.intValue! }, [2])
        XCTAssertEqual(entries(h)[key]?["runs"]?.elements.map { "\($0["run"]!.intValue!) \($0["status"]!.stringValue!)" },
                       ["1 open", "3 obsolete", "4 obsolete"])
    }
}
