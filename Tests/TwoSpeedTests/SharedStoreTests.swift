import Foundation
import TwoSpeedEngine
import TwoSpeedStore
import XCTest

/// Two engines over one PostgreSQL database, as two daemons on two hosts would be: each caches its
/// portfolios and hears the other's writes through the store's notices (LISTEN/NOTIFY), with no call
/// to invalidate anything.
final class SharedStoreTests: XCTestCase {
    /// How long a write through one engine may take to be read through the other (README's staleness
    /// bound: the notice's delivery plus one load of the portfolio).
    static let bound = 2.0

    func eventually(_ seconds: Double = SharedStoreTests.bound, _ condition: () -> Bool) -> Bool {
        let until = Date().addingTimeInterval(seconds)
        while Date() < until { if condition() { return true }; usleep(10_000) }
        return condition()
    }

    func testAWriteThroughOneEngineIsReadThroughTheOtherWithinTheBound() throws {
        let name = try PGServer.freshDatabase()
        let a = try Engine(path: name), b = try Engine(path: name)
        XCTAssertNotNil(a.request("portfolio.put", "{\"portfolio\":\(retailerText)}").result)
        XCTAssertTrue(eventually { b.request("portfolio.get", #"{"id":"retailer"}"#).result?["revision"]?.intValue == 1 },
                      "b never saw the portfolio a created")
        XCTAssertNotNil(a.request("entity.upsert", #"{"portfolio":"retailer","kind":"system","entity":{"id":"new","name":"New","layer":"platform"}}"#).result)
        XCTAssertTrue(eventually {
            b.request("entity.get", #"{"portfolio":"retailer","kind":"system","id":"new"}"#).result?["entity"]?["name"]?.stringValue == "New"
        }, "b never saw a's entity")

        // Cross-engine ifRevision: both read revision 2; a writes first, b's write from revision 2 is refused
        // with the revision-mismatch error and the store's revision, whether b has heard of a's write or not.
        let r1 = a.request("entity.upsert", #"{"portfolio":"retailer","kind":"system","entity":{"id":"x","name":"X","layer":"platform"},"ifRevision":2}"#)
        XCTAssertEqual(r1.result?["revision"]?.intValue, 3, r1.text)
        let r2 = b.request("entity.upsert", #"{"portfolio":"retailer","kind":"system","entity":{"id":"y","name":"Y","layer":"platform"},"ifRevision":2}"#)
        XCTAssertEqual(r2.code, -32005, r2.text)
        XCTAssertEqual(r2.error?["data"]?["revision"]?.intValue, 3, r2.text)
        // A write without ifRevision through b, on a copy b had not refreshed yet, is refused rather than
        // applied over a's (the store checks the revision it follows); once b holds revision 3 it goes through.
        XCTAssertTrue(eventually { b.request("portfolio.get", #"{"id":"retailer"}"#).result?["revision"]?.intValue == 3 })
        let r3 = b.request("entity.upsert", #"{"portfolio":"retailer","kind":"system","entity":{"id":"y","name":"Y","layer":"platform"}}"#)
        XCTAssertEqual(r3.result?["revision"]?.intValue, 4, r3.text)
        XCTAssertTrue(eventually {
            a.request("entity.get", #"{"portfolio":"retailer","kind":"system","id":"y"}"#).result?["entity"]?["name"]?.stringValue == "Y"
        })
        XCTAssertTrue(eventually { a.request("entity.get", #"{"portfolio":"retailer","kind":"system","id":"x"}"#).result != nil })

        // A custom model put through a is usable through b; a portfolio deleted through b is gone from a.
        let model = readFile(repoRoot + "/examples/models/dora-2024.json")
        let put = a.request("assessment.model.put", "{\"model\":\(model)}")
        let modelID = try XCTUnwrap(put.result?["id"]?.stringValue, put.text)
        XCTAssertTrue(eventually { b.request("assessment.model.get", "{\"id\":\"\(modelID)\"}").result != nil }, "b never saw a's model")
        XCTAssertNotNil(b.request("portfolio.delete", #"{"id":"retailer"}"#).result)
        XCTAssertTrue(eventually { a.request("portfolio.get", #"{"id":"retailer"}"#).code == -32000 }, "a still serves a deleted portfolio")
        XCTAssertEqual(a.request("portfolio.list").result?["portfolios"]?.count, 0)
    }

    /// portfolio.delete with ifRevision is checked by the store, in the delete itself: an engine whose
    /// copy is at the revision asked for, while the store has moved on, deletes nothing (-32005 with the
    /// store's revision). The revision is moved here behind every engine's back (no notice), so that the
    /// engine's own check passes and only the store's can refuse; a delete at the store's revision goes
    /// through and the other engine drops the portfolio on its notice.
    func testADeleteAtAStaleRevisionIsRefusedAcrossEngines() throws {
        let name = try PGServer.freshDatabase()
        let a = try Engine(path: name), b = try Engine(path: name)
        XCTAssertNotNil(a.request("portfolio.put", "{\"portfolio\":\(retailerText)}").result)
        XCTAssertTrue(eventually { b.request("portfolio.get", #"{"id":"retailer"}"#).result?["revision"]?.intValue == 1 })
        try PGServer.psql(PGServer.database(of: name), "UPDATE portfolio SET revision = 2 WHERE id = 'retailer'")
        XCTAssertEqual(b.request("portfolio.get", #"{"id":"retailer"}"#).result?["revision"]?.intValue, 1, "b has not heard")
        let stale = b.request("portfolio.delete", #"{"id":"retailer","ifRevision":1}"#)
        XCTAssertEqual(stale.code, -32005, stale.text)
        XCTAssertEqual(stale.error?["data"]?["revision"]?.intValue, 2, stale.text)
        XCTAssertEqual(stale.error?["data"]?["pointer"]?.stringValue, "/ifRevision", stale.text)
        XCTAssertNotEqual(try PGServer.psql(PGServer.database(of: name), "SELECT count(*) FROM entity WHERE portfolio = 'retailer'"), "0",
                          "nothing was deleted")
        XCTAssertEqual(a.request("portfolio.get", #"{"id":"retailer"}"#).result?["revision"]?.intValue, 1, "a has not heard either")
        let current = b.request("portfolio.delete", #"{"id":"retailer","ifRevision":2}"#)
        XCTAssertEqual(current.result?["deleted"]?.boolValue, true, current.text)
        XCTAssertTrue(eventually { a.request("portfolio.get", #"{"id":"retailer"}"#).code == -32000 }, "a still serves a deleted portfolio")

        // Both engines serving, one writes and the other deletes from the revision before: refused whether
        // the deleter has heard of the write or not, and the write is kept.
        XCTAssertNotNil(a.request("portfolio.put", "{\"portfolio\":\(retailerText)}").result)
        XCTAssertTrue(eventually { b.request("portfolio.get", #"{"id":"retailer"}"#).result?["revision"]?.intValue == 1 })
        XCTAssertEqual(a.request("entity.upsert", #"{"portfolio":"retailer","kind":"system","entity":{"id":"x","name":"X","layer":"platform"},"ifRevision":1}"#)
                        .result?["revision"]?.intValue, 2)
        let raced = b.request("portfolio.delete", #"{"id":"retailer","ifRevision":1}"#)
        XCTAssertEqual(raced.code, -32005, raced.text)
        XCTAssertEqual(raced.error?["data"]?["revision"]?.intValue, 2, raced.text)
        XCTAssertNotNil(a.request("entity.get", #"{"portfolio":"retailer","kind":"system","id":"x"}"#).result)
    }

    /// The near miss: over SQLite (one engine per file) nothing is heard; a second engine over the same
    /// file keeps what it loaded until told (Engine.refresh), as the header says.
    func testOverSQLiteNothingIsHeard() throws {
        let path = NSTemporaryDirectory() + "/shared-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).db"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let a = try Engine(path: path), b = try Engine(path: path)
        XCTAssertNotNil(a.request("portfolio.put", "{\"portfolio\":\(retailerText)}").result)
        usleep(300_000)
        XCTAssertEqual(b.request("portfolio.get", #"{"id":"retailer"}"#).code, -32000)
        b.refresh(portfolio: "retailer")
        XCTAssertEqual(b.request("portfolio.get", #"{"id":"retailer"}"#).result?["revision"]?.intValue, 1)
    }
}
