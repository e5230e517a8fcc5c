import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON

/// delivery.import with format fourkeys: DORA Four Keys' BigQuery tables as their users export them
/// (Tests/Fixtures/fourkeys: changes as CSV, deployments and incidents as newline-delimited JSON, with
/// BigQuery's "YYYY-MM-DD HH:MM:SS UTC" timestamps), against figures worked out by hand.
final class FourKeysImportTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fourkeys")

    func table(_ name: String) throws -> JSONRef {
        let text = try String(contentsOf: FourKeysImportTests.fixtures.appendingPathComponent(name), encoding: .utf8)
        return JSONMake.object(["text": JSONMake.string(text), "file": JSONMake.string(name)])
    }

    func importing(_ e: Engine, _ names: [String], system: String? = "web-checkout", atomic: Bool = false) throws -> Response {
        let tables = JSONMake.array()
        for n in names { tables.append(try table(n)) }
        let params = JSONMake.object(["portfolio": JSONMake.string("retailer"), "format": JSONMake.string("fourkeys"), "tables": tables,
                                      "atomic": JSONMake.bool(atomic)])
        if let system { params.set("system", JSONMake.string(system)) }
        defer { params.release() }
        return e.request("delivery.import", JSONText.dump(params))
    }

    func loaded() throws -> Engine {
        let engine = try Engine(path: nil)
        XCTAssertEqual(engine.request("portfolio.put", "{\"portfolio\":\(retailerText)}").result?["revision"]?.intValue, 1)
        return engine
    }

    func webCheckout(_ e: Engine) -> JSONRef? {
        e.request("delivery.metrics", #"{"portfolio":"retailer","system":"web-checkout","until":"2026-04-01T00:00:00Z","days":30}"#)
            .result?["windows"]?.elements.first?["systems"]?.elements.first
    }

    // d1 (03-10 12:00) carries c1 (2 h) and c2 (24 h); d2 (03-15) carries c3 (24 h) and cX, which the changes
    // table lacks; d3 (03-20 06:00) carries c4 (30 h) and c5 (6 h: its first push, not its second).
    // Incident 101 has root cause c5, carried by d3: d3 failed; 102 (4 h) has none; 103 is open; 104 (6 h)
    // names a change no deployment carries. So: 3 deployments, leads 2, 6, 24, 24, 30 h: median 24;
    // failures 1 / 3; recovery 2, 4, 6 h: median 4; 4 incidents, 1 open.
    func testFourKeysTablesGiveTheHandComputedFigures() throws {
        let e = try loaded()
        let r = try importing(e, ["changes.csv", "deployments.json", "incidents.json"])
        XCTAssertEqual(r.result?["deployments"]?["created"]?.intValue, 3, r.text)
        XCTAssertEqual(r.result?["incidents"]?["created"]?.intValue, 4, r.text)
        XCTAssertEqual(r.result?["problemCount"]?.intValue, 0, r.text)
        XCTAssertEqual(r.result?["notes"]?.elements.compactMap(\.stringValue), [
            "1 change(s) of the deployments are not in the changes table: no lead time for them (Four Keys' lead time joins the same tables)",
            "1 incident(s) name root-cause changes no imported deployment carries: no failed deployment for them"])
        let w = try XCTUnwrap(webCheckout(e))
        XCTAssertEqual(w["deployments"]?.intValue, 3)
        XCTAssertEqual(w["changes"]?.intValue, 5)
        XCTAssertEqual(w["leadTimeHours"]?.doubleValue, 24)
        XCTAssertEqual(w["failedDeployments"]?.intValue, 1)
        XCTAssertEqual(w["changeFailureRate"]?.doubleValue, 0.3333)
        XCTAssertEqual(w["recoveryHours"]?.doubleValue, 4)
        XCTAssertEqual(w["incidents"]?.intValue, 4)
        XCTAssertEqual(w["openIncidents"]?.intValue, 1)
        // Importing again counts nothing twice.
        let again = try importing(e, ["changes.csv", "deployments.json", "incidents.json"])
        XCTAssertEqual(again.result?["deployments"]?["unchanged"]?.intValue, 3, again.text)
    }

    func testWithoutTheChangesOrDeploymentsTableTheImportSaysWhatIsMissing() throws {
        let e = try loaded()
        let r = try importing(e, ["deployments.json"])
        XCTAssertEqual(r.result?["deployments"]?["created"]?.intValue, 3, r.text)
        XCTAssertEqual(r.result?["notes"]?.elements.compactMap(\.stringValue),
                       ["no changes table imported: the deployments carry no commit times, so no lead time (import four_keys.changes with them)"])
        XCTAssertNil(webCheckout(e)?["leadTimeHours"], "no lead time is unknown, never zero")
        let i = try importing(e, ["incidents.json"])
        XCTAssertEqual(i.result?["notes"]?.elements.compactMap(\.stringValue),
                       ["no deployments table imported: incidents' root causes cannot name a deployment, so they add no change failures"])
    }

    func testACSVExportWithABadRowNamesItsFileLineAndColumn() throws {
        let e = try loaded()
        let r = try importing(e, ["changes.csv", "deployments.csv"])
        XCTAssertEqual(r.result?["deployments"]?["created"]?.intValue, 3, r.text)
        XCTAssertEqual(r.result?["deployments"]?["skipped"]?.intValue, 1, r.text)
        let p = try XCTUnwrap(r.result?["problems"]?.elements.first)
        XCTAssertEqual(p["pointer"]?.stringValue, "/tables/1/text")
        XCTAssertEqual(p["file"]?.stringValue, "deployments.csv")
        XCTAssertEqual(p["line"]?.intValue, 5)
        XCTAssertEqual(p["column"]?.intValue, 3)
        XCTAssertEqual(p["member"]?.stringValue, "time_created")
        XCTAssertEqual(webCheckout(e)?["leadTimeHours"]?.doubleValue, 24, "changes as JSON text in a CSV cell are read")
    }

    func testNoSystemAndNoTableAreErrors() throws {
        let e = try loaded()
        // Four Keys names no service: without a system every record is skipped, which is an error.
        let r = try importing(e, ["deployments.json"], system: nil)
        XCTAssertEqual(r.code, -32602, r.text)
        XCTAssertEqual(r.error?["data"]?["errors"]?.elements.first?["pointer"]?.stringValue, "/tables/0/text")
        XCTAssertEqual(r.error?["data"]?["errors"]?.elements.first?["reason"]?.stringValue,
                       "deployments.json:1: system: no system: Four Keys' tables have none; give one with the import")
        let nowhere = try importing(e, ["deployments.json"], system: "mobile-app")
        XCTAssertEqual(nowhere.code, -32602, nowhere.text)
        let other = e.request("delivery.import", #"{"portfolio":"retailer","format":"fourkeys","tables":[{"text":"a,b\n1,2\n","file":"x.csv"}]}"#)
        XCTAssertEqual(other.error?["data"]?["pointer"]?.stringValue, "/tables/0/text", other.text)
        XCTAssertTrue(other.error?["data"]?["reason"]?.stringValue?.hasPrefix("x.csv:1: not a Four Keys table") ?? false, other.text)
        let none = e.request("delivery.import", #"{"portfolio":"retailer","format":"fourkeys"}"#)
        XCTAssertEqual(none.error?["data"]?["pointer"]?.stringValue, "/tables", none.text)
        let mixed = e.request("delivery.import", #"{"portfolio":"retailer","format":"csv","kind":"deployments","text":"","system":"erp"}"#)
        XCTAssertEqual(mixed.error?["data"]?["pointer"]?.stringValue, "/system", mixed.text)
        let atomic = try importing(e, ["changes.csv", "deployments.csv"], atomic: true)
        XCTAssertEqual(atomic.code, -32602, atomic.text)
        XCTAssertNil(webCheckout(e), "atomic: nothing recorded")
    }
}
