import CSQLite
import XCTest
@testable import TwoSpeedAssessment
@testable import TwoSpeedEngine
import TwoSpeedJSON
@testable import TwoSpeedStore

/// delivery.record and delivery.metrics against figures worked out by hand (issue 13).
final class DeliveryTests: XCTestCase {
    // Window [2026-03-02, 2026-04-01): 30 days, so a month is 30.4375 / 30 of it.
    static let until = "2026-04-01T00:00:00Z"
    static let month = 30.4375 / 30

    // web-checkout:
    //   d0 2026-02-20 (before the window) carries c0 committed 4 h before.
    //   d1 03-10 12:00 carries c1 (2 h) and c2 (24 h).
    //   d2 03-12 failed, carries c3: a failed deployment adds no lead time.
    //   d3 03-15 carries c3 again (committed 03-11: 96 h) and c4 committed at the deploy time (0 h: left
    //      out as an automated change).
    //   d4 03-20 06:00 carries c5 (6 h); incident i1 names it as its cause.
    //   incidents: i1 2 h (cause d4), i2 4 h (no cause), i3 open.
    //   => 4 deployments, 3 successful; leads 2, 6, 24, 96 h: median 15 h; failures d2, d4: 2 / 4;
    //      recovery 2 h and 4 h: median 3 h; 3 incidents, 1 open.
    // cms:
    //   d5 03-05 carries x1 and x2, both committed 03-04 (24 h, a tie).
    //   d6 03-06 carries x3 (12 h) and x1 again (48 h: a change deployed twice counts per deployment).
    //   => leads 12, 24, 24, 48: median 24 h; no failures: 0 / 2; no incidents: no recovery time.
    static let deployments = """
        [{"id":"d0","system":"web-checkout","time":"2026-02-20T00:00:00Z","changes":[{"id":"c0","committed":"2026-02-19T20:00:00Z"}]},
         {"id":"d1","system":"web-checkout","time":"2026-03-10T12:00:00Z","changes":[{"id":"c1","committed":"2026-03-10T10:00:00Z"},{"id":"c2","committed":"2026-03-09T12:00:00Z"}]},
         {"id":"d2","system":"web-checkout","time":"2026-03-12T00:00:00Z","failed":true,"changes":[{"id":"c3","committed":"2026-03-11T00:00:00Z"}]},
         {"id":"d3","system":"web-checkout","time":"2026-03-15T02:00:00+02:00","changes":[{"id":"c3","committed":"2026-03-11"},{"id":"c4","committed":"2026-03-15T00:00:00Z"}]},
         {"id":"d4","system":"web-checkout","time":"2026-03-20T06:00:00Z","failed":false,"changes":[{"id":"c5","committed":"2026-03-20T00:00:00Z"}]},
         {"id":"d5","system":"cms","time":"2026-03-05T00:00:00Z","changes":[{"id":"x1","committed":"2026-03-04T00:00:00Z"},{"id":"x2","committed":"2026-03-04T00:00:00Z"}]},
         {"id":"d6","system":"cms","time":"2026-03-06T00:00:00Z","changes":[{"id":"x3","committed":"2026-03-05T12:00:00Z"},{"id":"x1","committed":"2026-03-04T00:00:00Z"}]}]
        """
    static let incidents = """
        [{"id":"i1","system":"web-checkout","started":"2026-03-20T07:00:00Z","resolved":"2026-03-20T09:00:00Z","cause":"d4"},
         {"id":"i2","system":"web-checkout","started":"2026-03-25T00:00:00Z","resolved":"2026-03-25T04:00:00Z"},
         {"id":"i3","system":"web-checkout","started":"2026-03-28T00:00:00Z","resolved":null}]
        """

    func loaded() throws -> Engine {
        let engine = try Engine(path: nil)
        let r = engine.request("portfolio.put", "{\"portfolio\":\(retailerText)}")
        XCTAssertEqual(r.result?["revision"]?.intValue, 1, r.text)
        return engine
    }

    func record(_ engine: Engine, _ d: String = deployments, _ i: String = incidents, atomic: Bool = false) -> Response {
        engine.request("delivery.record", #"{"portfolio":"retailer","deployments":\#(d),"incidents":\#(i),"atomic":\#(atomic)}"#)
    }

    func metrics(_ engine: Engine, windows: Int = 1) -> [String: JSONRef] {
        let r = engine.request("delivery.metrics", #"{"portfolio":"retailer","until":"\#(DeliveryTests.until)","days":30,"windows":\#(windows)}"#)
        XCTAssertNotNil(r.result, r.text)
        var out: [String: JSONRef] = [:]
        for (w, window) in (r.result?["windows"]?.elements ?? []).enumerated() {
            for s in window["systems"]?.elements ?? [] { out["\(w):\(s["system"]!.stringValue!)"] = s }
            if let all = window["all"] { out["\(w):*"] = all }
        }
        return out
    }

    func testFiguresMatchTheHandComputedOnes() throws {
        let engine = try loaded()
        let r = record(engine)
        XCTAssertEqual(r.result?["deployments"]?["created"]?.intValue, 7, r.text)
        XCTAssertEqual(r.result?["incidents"]?["created"]?.intValue, 3, r.text)
        XCTAssertEqual(r.result?["problemCount"]?.intValue, 0, r.text)
        let m = metrics(engine)
        let web = try XCTUnwrap(m["0:web-checkout"])
        XCTAssertEqual(web["deployments"]?.intValue, 4)
        XCTAssertEqual(web["successfulDeployments"]?.intValue, 3)
        XCTAssertEqual(web["failedDeployments"]?.intValue, 2)
        XCTAssertEqual(web["deploysPerMonth"]?.doubleValue ?? 0, 3 * DeliveryTests.month, accuracy: 1e-4)
        XCTAssertEqual(web["changes"]?.intValue, 4, "c4's zero lead time is left out")
        XCTAssertEqual(web["leadTimeHours"]?.doubleValue, 15)
        XCTAssertEqual(web["changeFailureRate"]?.doubleValue, 0.5)
        XCTAssertEqual(web["recoveryHours"]?.doubleValue, 3, "i2 has no cause and still counts")
        XCTAssertEqual(web["incidents"]?.intValue, 3)
        XCTAssertEqual(web["openIncidents"]?.intValue, 1)
        XCTAssertEqual(web["buckets"]?["leadTimeHours"]?.stringValue, "elite")
        XCTAssertEqual(web["buckets"]?["deploysPerMonth"]?.stringValue, "medium")
        XCTAssertEqual(web["buckets"]?["changeFailureRate"]?.stringValue, "low")
        XCTAssertEqual(web["buckets"]?["recoveryHours"]?.stringValue, "high")

        let cms = try XCTUnwrap(m["0:cms"])
        XCTAssertEqual(cms["leadTimeHours"]?.doubleValue, 24, "ties: 12, 24, 24, 48")
        XCTAssertEqual(cms["changes"]?.intValue, 4, "x1 counts once per deployment that carries it")
        XCTAssertEqual(cms["changeFailureRate"]?.doubleValue, 0)
        XCTAssertNil(cms["recoveryHours"], "no incidents: no recovery time")
        XCTAssertNil(m["0:erp"], "a system without events is not listed")

        // Pooled: 6 deployments, 5 successful, leads 2 6 24 96 12 24 24 48 -> median 24, failures 2 / 6.
        let all = try XCTUnwrap(m["0:*"])
        XCTAssertEqual(all["leadTimeHours"]?.doubleValue, 24)
        XCTAssertEqual(all["changeFailureRate"]?.doubleValue ?? 0, 0.3333, accuracy: 1e-4)
    }

    func testAnEarlierAndAnEmptyWindow() throws {
        let engine = try loaded()
        XCTAssertNotNil(record(engine).result)
        let m = metrics(engine, windows: 2)
        let web = try XCTUnwrap(m["1:web-checkout"])
        XCTAssertEqual(web["deployments"]?.intValue, 1)
        XCTAssertEqual(web["leadTimeHours"]?.doubleValue, 4)
        let cms = try XCTUnwrap(m["1:cms"], "a system with events elsewhere has an empty window")
        XCTAssertEqual(cms["deployments"]?.intValue, 0)
        XCTAssertEqual(cms["deploysPerMonth"]?.doubleValue, 0)
        XCTAssertNil(cms["leadTimeHours"])
        XCTAssertNil(cms["changeFailureRate"], "0 / 0 is no rate")
        XCTAssertEqual(cms["buckets"]?["deploysPerMonth"]?.stringValue, "low")
    }

    func testRecordingAgainCountsNothingTwice() throws {
        let engine = try loaded()
        XCTAssertNotNil(record(engine).result)
        let again = record(engine)
        XCTAssertEqual(again.result?["deployments"]?["created"]?.intValue, 0, again.text)
        XCTAssertEqual(again.result?["deployments"]?["unchanged"]?.intValue, 7, again.text)
        XCTAssertEqual(again.result?["incidents"]?["unchanged"]?.intValue, 3, again.text)
        XCTAssertEqual(metrics(engine)["0:web-checkout"]?["deployments"]?.intValue, 4)
        // d1 again, now failed: an update, and the failure rate moves to 3 / 4.
        let d1 = #"[{"id":"d1","system":"web-checkout","time":"2026-03-10T12:00:00Z","failed":true,"changes":[{"id":"c1","committed":"2026-03-10T10:00:00Z"},{"id":"c2","committed":"2026-03-09T12:00:00Z"}]}]"#
        let u = record(engine, d1, "[]")
        XCTAssertEqual(u.result?["deployments"]?["updated"]?.intValue, 1, u.text)
        XCTAssertEqual(u.result?["deployments"]?["created"]?.intValue, 0, u.text)
        let web = metrics(engine)["0:web-checkout"]
        XCTAssertEqual(web?["changeFailureRate"]?.doubleValue, 0.75)
        XCTAssertEqual(web?["leadTimeHours"]?.doubleValue, 51, "leads 6 and 96 are left")
    }

    func testChangesAsAnObjectFromIdToCommitTime() throws {
        let engine = try loaded()
        XCTAssertNotNil(record(engine).result)
        // d1 again with its changes in the compact form: the same deployment, so nothing changes.
        let d1 = #"[{"id":"d1","system":"web-checkout","time":"2026-03-10T12:00:00Z","changes":{"c1":"2026-03-10T10:00:00Z","c2":"2026-03-09T12:00:00Z"}}]"#
        let same = record(engine, d1, "[]")
        XCTAssertEqual(same.result?["deployments"]?["unchanged"]?.intValue, 1, same.text)
        XCTAssertEqual(metrics(engine)["0:web-checkout"]?["leadTimeHours"]?.doubleValue, 15)
        let bad = #"[{"id":"d9","system":"cms","time":"2026-03-10T12:00:00Z","changes":{"ok":"2026-03-10","bad id!":"2026-03-10","c":"noon"}}]"#
        let r = record(engine, bad, "[]")
        XCTAssertEqual(r.result?["problems"]?.elements.compactMap { $0["pointer"]?.stringValue }, ["/deployments/0/changes/bad id!",
                                                                                                  "/deployments/0/changes/c"], r.text)
        XCTAssertEqual(r.result?["deployments"]?["skipped"]?.intValue, 1)
    }

    /// The changes column written straight from the JSON is DeploymentRecord.encodeChanges' encoding, in
    /// both forms, with commit times before 1970 and ids of every identifier character.
    func testChangesColumnIsTheStoreEncoding() {
        let list = #"{"id":"d","system":"s","time":"2026-01-01T00:00:00Z","changes":[{"id":"a.b_c:d-1","committed":"1969-12-31T23:59:59Z"},"#
            + #"{"id":"Z9","committed":"2025-12-31T10:00:00Z"},{"id":"x","committed":"1900-01-01"}]}"#
        let compact = #"{"id":"d","system":"s","time":"2026-01-01T00:00:00Z","changes":{"a.b_c:d-1":"1969-12-31T23:59:59Z","#
            + #""Z9":"2025-12-31T10:00:00Z","x":"1900-01-01"}}"#
        let expected = DeploymentRecord.encodeChanges([("a.b_c:d-1", -1), ("Z9", 1_767_175_200), ("x", -2_208_988_800)])
        for text in [list, compact] {
            guard case .success(let v) = JSONText.parse(text) else { return XCTFail(text) }
            defer { v.release() }
            var problems: [String] = []
            let r = Engine.deployment(v, ["s"]) { problems.append("\($0) \($1)") }
            XCTAssertEqual(problems, [], text)
            XCTAssertEqual(r?.changes, expected, text)
        }
    }

    func testBadEventsAreReportedAndSkipped() throws {
        let engine = try loaded()
        let bad = """
            [{"id":"ok1","system":"cms","time":"2026-03-05T00:00:00Z"},
             {"id":"b1","system":"nowhere","time":"2026-03-05T00:00:00Z"},
             {"id":"b2","system":"cms","time":"March 5th"},
             {"system":"cms","time":"2026-03-05T00:00:00Z","colour":"red"},
             {"id":"b4","system":"cms","time":"2026-03-05T00:00:00Z","changes":[{"id":"x","committed":"2026-13-01"}]},
             7,
             {"id":"b6","system":"cms","time":"2026-03-05T00:00:00Z","changes":[{"id":"x","committed":"2026-03-01"},{"id":"x","committed":"2026-03-02"}]}]
            """
        let badIncidents = #"[{"id":"i9","system":"cms","started":"2026-03-05T10:00:00Z","resolved":"2026-03-05T09:00:00Z"}]"#
        let r = record(engine, bad, badIncidents)
        XCTAssertEqual(r.result?["deployments"]?["created"]?.intValue, 1, r.text)
        XCTAssertEqual(r.result?["deployments"]?["skipped"]?.intValue, 6, r.text)
        XCTAssertEqual(r.result?["incidents"]?["skipped"]?.intValue, 1, r.text)
        let pointers = r.result?["problems"]?.elements.compactMap { $0["pointer"]?.stringValue } ?? []
        XCTAssertEqual(pointers, ["/deployments/1/system", "/deployments/2/time", "/deployments/3/id", "/deployments/3/colour",
                                  "/deployments/4/changes/0/committed", "/deployments/5", "/deployments/6/changes/1/id",
                                  "/incidents/0/resolved"])
        XCTAssertEqual(r.result?["problemCount"]?.intValue, 8)

        // atomic: the same call records nothing and fails with every pointer.
        let engine2 = try loaded()
        let a = record(engine2, bad, badIncidents, atomic: true)
        XCTAssertEqual(a.code, -32602, a.text)
        XCTAssertEqual(a.pointers.count, 8, a.text)
        XCTAssertTrue(metrics(engine2).isEmpty, "nothing recorded")
        // Params that are not arrays at all are refused before any event is read.
        XCTAssertEqual(engine2.request("delivery.record", #"{"portfolio":"retailer","deployments":{}}"#).pointer, "/deployments")
        XCTAssertEqual(engine2.request("delivery.record", #"{"portfolio":"nope","deployments":[]}"#).code, -32000)
        XCTAssertEqual(engine2.request("delivery.metrics", #"{"portfolio":"retailer","system":"nope"}"#).pointer, "/system")
    }

    func testEventsPersistAndAVersionThreeStoreMigrates() throws {
        // A store as version 3 wrote it: the first three migrations, user_version 3.
        let path = temporaryDirectory() + "/v3.db"
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path, &db), SQLITE_OK)
        for m in SQLiteStore.migrations.prefix(3) { XCTAssertEqual(sqlite3_exec(db, m, nil, nil, nil), SQLITE_OK) }
        XCTAssertEqual(sqlite3_exec(db, "PRAGMA user_version = 3", nil, nil, nil), SQLITE_OK)
        sqlite3_close(db)
        do {
            let engine = try Engine(path: path)
            XCTAssertEqual(engine.request("engine.info").result?["store"]?["schemaVersion"]?.intValue, Int64(SQLiteStore.currentVersion))
            XCTAssertNotNil(engine.request("portfolio.put", "{\"portfolio\":\(retailerText)}").result)
            XCTAssertEqual(record(engine).result?["deployments"]?["created"]?.intValue, 7)
        }
        // Reopened: the events are there, and deleting the portfolio deletes them.
        let engine = try Engine(path: path)
        XCTAssertEqual(metrics(engine)["0:web-checkout"]?["leadTimeHours"]?.doubleValue, 15)
        XCTAssertNotNil(engine.request("portfolio.delete", #"{"id":"retailer"}"#).result)
        XCTAssertNotNil(engine.request("portfolio.put", "{\"portfolio\":\(retailerText)}").result)
        XCTAssertTrue(metrics(engine).isEmpty)
    }

    func testAssessmentTiersUseComputedFiguresWhereEventsExist() throws {
        let engine = try loaded()
        let before = try XCTUnwrap(engine.request("assessment.run", #"{"portfolio":"retailer","asOf":"2026-03-31","keep":false}"#).result)
        XCTAssertNil(before["analyses"]?["delivery"], "no events, no trend")
        XCTAssertNil(before["analyses"]?["speed"]?["systems"]?[0]?["source"])
        XCTAssertNotNil(record(engine).result)
        let r = try XCTUnwrap(engine.request("assessment.run", #"{"portfolio":"retailer","asOf":"2026-03-31"}"#).result)
        let issues = ResultSchemas.result.validate(r)
        XCTAssertTrue(issues.isEmpty, "\(issues.issues.prefix(5))")
        // 90 days to 2026-04-01: web-checkout's d0 to d4, 4 of them successful: 4 / (90 / 30.4375) a month;
        // leads 4, 2, 24, 96, 6 h: median 6 h. Entered by hand it was 40 a month and 20 h (elite); from
        // its events it is high.
        let systems = r["analyses"]?["speed"]?["systems"]?.elements ?? []
        let web = try XCTUnwrap(systems.first { $0["system"]?["id"]?.stringValue == "web-checkout" })
        XCTAssertEqual(web["source"]?.stringValue, "events")
        XCTAssertEqual(web["delivery"]?["deploysPerMonth"]?.doubleValue ?? 0, 4 / (90 / 30.4375), accuracy: 1e-4)
        XCTAssertEqual(web["delivery"]?["leadTimeHours"]?.doubleValue, 6)
        XCTAssertEqual(web["tier"]?.stringValue, "high")
        let erp = try XCTUnwrap(systems.first { $0["system"]?["id"]?.stringValue == "erp" })
        XCTAssertEqual(erp["source"]?.stringValue, "entered")
        XCTAssertEqual(erp["delivery"]?["deploysPerMonth"]?.doubleValue, 0.33)
        let criteria = r["dimensions"]?.elements.flatMap { $0["criteria"]?.elements ?? [] } ?? []
        let fast = try XCTUnwrap(criteria.first { $0["id"]?.stringValue == "architecture.fast-front-end" })
        let basis = fast["deliveryBasis"]?.stringValue ?? ""
        XCTAssertTrue(basis.contains("for 2 systems") && basis.contains("web-checkout, cms") && basis.contains("entered by hand for 8"), basis)
        XCTAssertNil(criteria.first { $0["id"]?.stringValue == "architecture.decoupled" }?["deliveryBasis"])
        let trend = try XCTUnwrap(r["analyses"]?["delivery"])
        XCTAssertEqual(trend["windows"]?.count, 4)
        XCTAssertEqual(trend["windows"]?[0]?["from"]?.stringValue, "2026-01-01T00:00:00Z")
        XCTAssertEqual(trend["windows"]?[0]?["all"]?["deployments"]?.intValue, 7)
        XCTAssertEqual(trend["windows"]?[1]?["all"]?["deployments"]?.intValue, 0, "an empty window")
        // analysis.speed reads the same overlay (up to now: the events of March 2026 lie within 90 days of
        // no "now" after June 2026, so there web-checkout has no deployment in the window: frequency 0).
        let speed = try XCTUnwrap(engine.request("analysis.speed", #"{"portfolio":"retailer"}"#).result)
        let webNow = try XCTUnwrap(speed["systems"]?.elements.first { $0["system"]?["id"]?.stringValue == "web-checkout" })
        XCTAssertEqual(webNow["source"]?.stringValue, "events")
        XCTAssertEqual(webNow["delivery"]?["deploysPerMonth"]?.doubleValue, 0)
        XCTAssertEqual(webNow["delivery"]?["leadTimeHours"]?.doubleValue, 20, "no lead time in the window: the entered one stays")
        // The history shows the trend too (windows up to now).
        let h = try XCTUnwrap(engine.request("assessment.history", #"{"portfolio":"retailer"}"#).result)
        XCTAssertEqual(h["delivery"]?["windows"]?.count, 4)
        XCTAssertEqual(h["delivery"]?["systemsFromEvents"]?.count, 2)
    }

    func testTheReportShowsTheTrend() throws {
        let engine = try loaded()
        XCTAssertNotNil(record(engine).result)
        XCTAssertNotNil(engine.request("assessment.run", #"{"portfolio":"retailer","asOf":"2026-03-31"}"#).result)
        for format in ["markdown", "html", "text"] {
            let r = engine.request("report.render", #"{"portfolio":"retailer","format":"\#(format)"}"#)
            let content = r.result?["content"]?.stringValue ?? ""
            XCTAssertTrue(content.contains("2026-01-01 to 2026-04-01"), "\(format): \(r.text.prefix(300))")
            XCTAssertTrue(content.contains("web-checkout, cms"), format)
            // 7 deployments pooled: 5 successful in 90 days; leads 4 2 24 96 6 12 24 24 48 h: median 24 h (elite: its range ends at a day).
            XCTAssertTrue(content.contains("24 (elite)"), format)
        }
    }

    func testEventTimes() {
        XCTAssertEqual(EventTime.parse("1970-01-01T00:00:00Z"), 0)
        XCTAssertEqual(EventTime.parse("2026-03-15T02:00:00+02:00"), EventTime.parse("2026-03-15T00:00:00Z"))
        XCTAssertEqual(EventTime.parse("2024-02-29"), 1_709_164_800)
        XCTAssertNil(EventTime.parse("2023-02-29"))
        XCTAssertNil(EventTime.parse("2026-03-15T00:00:00"))
        XCTAssertEqual(EventTime.format(1_709_164_800 + 3_661), "2024-02-29T01:01:01Z")
        XCTAssertEqual(FourKeys.median([5, 1, 3]), 3)
        XCTAssertEqual(FourKeys.median([4, 1, 3, 2]), 2.5)
        XCTAssertNil(FourKeys.median([]))
    }
}
