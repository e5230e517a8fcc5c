import CJansson
import CSQLite
import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedModel
@testable import TwoSpeedStore
import TwoSpeedSync
import Dispatch

final class EngineTests: XCTestCase {
    func loadRetailer(_ engine: Engine) {
        let r = engine.request("portfolio.put", "{\"portfolio\":\(retailerText)}")
        XCTAssertEqual(r.result?["revision"]?.intValue, 1, r.text)
    }

    func testPutGetRoundTrip() throws {
        let engine = try Engine(path: nil)
        loadRetailer(engine)
        let got = engine.request("portfolio.get", #"{"id":"retailer"}"#)
        let original = try JanssonDecoder().decode(Portfolio.self, from: retailerText)
        let back = try JanssonDecoder().decode(Portfolio.self, from: try XCTUnwrap(got.result?["portfolio"]))
        XCTAssertEqual(back, original)
        XCTAssertEqual(got.result?["revision"]?.intValue, 1)
        // Putting it again replaces it and counts up.
        let again = engine.request("portfolio.put", "{\"portfolio\":\(retailerText)}")
        XCTAssertEqual(again.result?["revision"]?.intValue, 2)
        XCTAssertEqual(again.result?["created"]?.boolValue, false)
    }

    /// Reads come from the entity cache; they must say exactly what encoding the model says, after
    /// every kind of write.
    func testCachedRepliesMatchTheModel() throws {
        let engine = try Engine(path: nil)
        loadRetailer(engine)
        func check(_ step: String) throws {
            let got = engine.request("portfolio.get", #"{"id":"retailer"}"#)
            let doc = try XCTUnwrap(got.result?["portfolio"], step)
            let model = try XCTUnwrap(engine.portfolio("retailer")).portfolio
            let encoded = try JanssonEncoder().encode(model)
            defer { encoded.release() }
            XCTAssertEqual(JSONText.dump(doc), JSONText.dump(encoded), step)
            for kind in EntityKind.allCases {
                for id in model.ids(of: kind) {
                    let e = engine.request("entity.get", #"{"portfolio":"retailer","kind":"\#(kind.rawValue)","id":"\#(id)"}"#)
                    let want = try XCTUnwrap(try model.encodeEntity(kind, id: id))
                    defer { want.release() }
                    XCTAssertEqual(JSONText.dump(try XCTUnwrap(e.result?["entity"], "\(step) \(kind) \(id)")), JSONText.dump(want))
                }
            }
        }
        try check("after put")
        XCTAssertNotNil(engine.request("entity.upsert", #"{"portfolio":"retailer","kind":"product","entity":{"id":"new","name":"New","status":"idea"}}"#).result)
        XCTAssertNotNil(engine.request("entity.upsert", #"{"portfolio":"retailer","kind":"metric","entity":{"id":"nps","name":"NPS","category":"customer-satisfaction"}}"#).result)
        XCTAssertNotNil(engine.request("metric.observe", #"{"portfolio":"retailer","metric":"nps","observations":[{"at":"2026-11-20","value":31}]}"#).result)
        XCTAssertNotNil(engine.request("entity.remove", #"{"portfolio":"retailer","kind":"experiment","id":"lite-checkout"}"#).result)
        XCTAssertNotNil(engine.request("entity.upsert", #"{"portfolio":"retailer","kind":"metric","entity":{"id":"nps","name":"NPS","category":"customer-satisfaction","observations":[]}}"#).result)
        try check("after upserts, an observation and a removal")
        XCTAssertEqual(engine.request("entity.list", #"{"portfolio":"retailer","kind":"product"}"#).result?["entities"]?.count, 6)
    }

    func testListAndDelete() throws {
        let engine = try Engine(path: nil)
        loadRetailer(engine)
        let list = engine.request("portfolio.list")
        XCTAssertEqual(list.result?["portfolios"]?[0]?["name"]?.stringValue, "Brightmart Retail")
        XCTAssertEqual(list.result?["portfolios"]?[0]?["counts"]?["products"]?.intValue, 5)
        XCTAssertEqual(engine.request("portfolio.delete", #"{"id":"retailer"}"#).result?["deleted"]?.boolValue, true)
        let gone = engine.request("portfolio.get", #"{"id":"retailer"}"#)
        XCTAssertEqual(gone.code, -32000)
        XCTAssertEqual(gone.pointer, "/id")
        XCTAssertEqual(engine.request("portfolio.delete", #"{"id":"retailer"}"#).code, -32000)
    }

    func testEntityLifecycle() throws {
        let engine = try Engine(path: nil)
        loadRetailer(engine)
        let product = #"{"id":"returns","name":"Easy returns","status":"idea","stages":["online-shopping/support"],"owner":"pm-front"}"#
        let created = engine.request("entity.upsert", #"{"portfolio":"retailer","kind":"product","entity":\#(product)}"#)
        XCTAssertEqual(created.result?["created"]?.boolValue, true, created.text)
        XCTAssertEqual(created.result?["revision"]?.intValue, 2)
        let replaced = engine.request("entity.upsert", #"{"portfolio":"retailer","kind":"product","entity":{"id":"returns","name":"Returns","status":"discovery"}}"#)
        XCTAssertEqual(replaced.result?["created"]?.boolValue, false)
        let got = engine.request("entity.get", #"{"portfolio":"retailer","kind":"product","id":"returns"}"#)
        XCTAssertEqual(got.result?["entity"]?["status"]?.stringValue, "discovery")
        XCTAssertEqual(got.result?["entity"]?["stages"]?.count, 0, "upsert replaces the whole entity")
        let list = engine.request("entity.list", #"{"portfolio":"retailer","kind":"product"}"#)
        XCTAssertEqual(list.result?["entities"]?.count, 6)
        XCTAssertEqual(list.result?["entities"]?[5]?["id"]?.stringValue, "returns", "new entities go last")
        XCTAssertNotNil(engine.request("entity.remove", #"{"portfolio":"retailer","kind":"product","id":"returns"}"#).result)
        XCTAssertEqual(engine.request("entity.get", #"{"portfolio":"retailer","kind":"product","id":"returns"}"#).code, -32000)
        XCTAssertEqual(engine.request("entity.remove", #"{"portfolio":"retailer","kind":"product","id":"returns"}"#).code, -32000)
    }

    func testEntityErrorsPointIntoTheParams() throws {
        let engine = try Engine(path: nil)
        loadRetailer(engine)
        let bad = engine.request("entity.upsert", #"{"portfolio":"retailer","kind":"product","entity":{"id":"x","name":"X","status":"live","owner":"ghost","shape":1}}"#)
        XCTAssertEqual(bad.code, -32602)
        XCTAssertEqual(bad.pointers, ["/entity/shape"])
        let dangling = engine.request("entity.upsert", #"{"portfolio":"retailer","kind":"product","entity":{"id":"x","name":"X","status":"live","owner":"ghost"}}"#)
        XCTAssertEqual(dangling.pointers, ["/entity/owner"])
        let noPortfolio = engine.request("entity.upsert", #"{"portfolio":"nope","kind":"product","entity":{"id":"x","name":"X","status":"live"}}"#)
        XCTAssertEqual(noPortfolio.code, -32000)
        XCTAssertEqual(noPortfolio.pointer, "/portfolio")
        // Replacing a journey without a stage that products cover breaks them: a conflict, nothing written.
        let journey = #"{"id":"online-shopping","name":"Shopping","stages":[{"id":"browse","name":"Browse"}]}"#
        let conflict = engine.request("entity.upsert", #"{"portfolio":"retailer","kind":"journey","entity":\#(journey)}"#)
        XCTAssertEqual(conflict.code, -32001)
        XCTAssertTrue(conflict.pointers.contains("/products/0/stages/0"), "\(conflict.pointers)")
        XCTAssertEqual(engine.request("portfolio.get", #"{"id":"retailer"}"#).result?["revision"]?.intValue, 1)
        // Removing a referenced manager is a conflict naming the references.
        let remove = engine.request("entity.remove", #"{"portfolio":"retailer","kind":"manager","id":"pm-checkout"}"#)
        XCTAssertEqual(remove.code, -32001)
        XCTAssertEqual(remove.pointer, "/id")
        XCTAssertTrue(remove.pointers.contains("/products/0/owner"), "\(remove.pointers)")
    }

    func testObservationsAppendAndSurviveMetricUpserts() throws {
        let engine = try Engine(path: nil)
        loadRetailer(engine)
        let r = engine.request("metric.observe", #"{"portfolio":"retailer","metric":"checkout-drop-off","observations":[{"at":"2026-11-30","value":27.5,"source":"web analytics"}]}"#)
        XCTAssertEqual(r.result?["appended"]?.intValue, 1, r.text)
        XCTAssertEqual(r.result?["total"]?.intValue, 6)
        let upsert = engine.request("entity.upsert", #"{"portfolio":"retailer","kind":"metric","entity":{"id":"checkout-drop-off","name":"Drop-off","category":"customer-behavior","direction":"lower","target":20,"products":["checkout"],"managers":["pm-checkout"]}}"#)
        XCTAssertNotNil(upsert.result, upsert.text)
        let got = engine.request("entity.get", #"{"portfolio":"retailer","kind":"metric","id":"checkout-drop-off"}"#)
        XCTAssertEqual(got.result?["entity"]?["observations"]?.count, 6)
        XCTAssertEqual(got.result?["entity"]?["target"]?.doubleValue, 20)
        XCTAssertEqual(engine.request("metric.observe", #"{"portfolio":"retailer","metric":"ghost","observations":[{"at":"2026-11-30","value":1}]}"#).pointer, "/metric")
        XCTAssertEqual(engine.request("metric.observe", #"{"portfolio":"retailer","metric":"nps","observations":[]}"#).pointer, "/observations")
    }

    func testIfRevision() throws {
        let engine = try Engine(path: nil)
        loadRetailer(engine)
        let stale = engine.request("metric.observe", #"{"portfolio":"retailer","metric":"nps","observations":[{"at":"2026-11-30","value":30}],"ifRevision":7}"#)
        XCTAssertEqual(stale.code, -32005)
        XCTAssertEqual(stale.error?["data"]?["revision"]?.intValue, 1)
        XCTAssertEqual(stale.pointer, "/ifRevision")
        XCTAssertNotNil(engine.request("metric.observe", #"{"portfolio":"retailer","metric":"nps","observations":[{"at":"2026-11-30","value":30}],"ifRevision":1}"#).result)
        // A put with ifRevision 0 means "only if it does not exist yet".
        XCTAssertEqual(engine.request("portfolio.put", "{\"portfolio\":\(retailerText),\"ifRevision\":0}").code, -32005)
    }

    func testStorePersistsAcrossReopen() throws {
        let dir = temporaryDirectory()
        let path = dir + "/store.db"
        do {
            let engine = try Engine(path: path)
            loadRetailer(engine)
            XCTAssertNotNil(engine.request("metric.observe", #"{"portfolio":"retailer","metric":"nps","observations":[{"at":"2026-11-30","value":30}]}"#).result)
            XCTAssertNotNil(engine.request("entity.remove", #"{"portfolio":"retailer","kind":"experiment","id":"lite-checkout"}"#).result)
            XCTAssertNotNil(engine.request("entity.upsert", #"{"portfolio":"retailer","kind":"department","entity":{"id":"legal","name":"Legal","kind":"legal"}}"#).result)
        }
        let reopened = try Engine(path: path)
        let got = reopened.request("portfolio.get", #"{"id":"retailer"}"#)
        XCTAssertEqual(got.result?["revision"]?.intValue, 4)
        let p = try JanssonDecoder().decode(Portfolio.self, from: try XCTUnwrap(got.result?["portfolio"]))
        XCTAssertEqual(p.metrics.first { $0.id == "nps" }?.observations.map(\.value), [24, 30])
        XCTAssertTrue(p.experiments.isEmpty)
        XCTAssertEqual(p.organization.departments.last?.id, "legal")
        var original = try JanssonDecoder().decode(Portfolio.self, from: retailerText)
        original.metrics[3].observations.append(Observation(at: "2026-11-30", value: 30))
        original.experiments = []
        original.organization.departments.append(Department(id: "legal", name: "Legal", kind: "legal"))
        XCTAssertEqual(p, original)
        XCTAssertEqual(try reopened.store.integrityCheck(), "ok")
    }

    func testStoreFromTheFutureIsRefused() throws {
        let path = temporaryDirectory() + "/future.db"
        _ = try Engine(path: path)
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path, &db), SQLITE_OK)
        XCTAssertEqual(sqlite3_exec(db, "PRAGMA user_version = 99", nil, nil, nil), SQLITE_OK)
        sqlite3_close(db)
        XCTAssertThrowsError(try Engine(path: path)) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .schemaTooNew)
        }
    }

    func testSomeoneElsesDatabaseIsRefusedAndLeftAlone() throws {
        let path = temporaryDirectory() + "/theirs.db"
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path, &db), SQLITE_OK)
        XCTAssertEqual(sqlite3_exec(db, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)", nil, nil, nil), SQLITE_OK)
        sqlite3_close(db)
        XCTAssertThrowsError(try Engine(path: path)) { XCTAssertEqual(($0 as? StoreError)?.kind, .corrupt, "\($0)") }
        XCTAssertEqual(sqlite3_open(path, &db), SQLITE_OK)
        var stmt: OpaquePointer?
        sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &stmt, nil)
        XCTAssertEqual(sqlite3_step(stmt), SQLITE_ROW)
        XCTAssertEqual(sqlite3_column_int(stmt, 0), 1, "no table was added")
        sqlite3_finalize(stmt)
        sqlite3_close(db)
    }

    /// The bytes of a file, or nil when it does not exist.
    func contents(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65_536)
        while case let n = fread(&buf, 1, buf.count, f), n > 0 { out += buf[0..<n] }
        return out
    }

    func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// A store twospeed_open refuses is left byte for byte as it was: no WAL switch, no tables, no
    /// journal files left behind.
    func testRefusedStoresAreLeftByteForByte() throws {
        let dir = temporaryDirectory()
        var db: OpaquePointer?
        // Someone else's database, in the default rollback-journal mode.
        let theirs = dir + "/theirs.db"
        XCTAssertEqual(sqlite3_open(theirs, &db), SQLITE_OK)
        XCTAssertEqual(sqlite3_exec(db, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'A')", nil, nil, nil), SQLITE_OK)
        sqlite3_close(db)
        // A store written by a newer TwoSpeed: ours, in WAL mode, with a higher schema version.
        let future = dir + "/future.db"
        do {
            let engine = try Engine(path: future)
            loadRetailer(engine)
        }
        XCTAssertEqual(sqlite3_open(future, &db), SQLITE_OK)
        XCTAssertEqual(sqlite3_exec(db, "PRAGMA user_version = 99", nil, nil, nil), SQLITE_OK)
        sqlite3_close(db)
        // Not a database at all.
        let garbage = dir + "/garbage.db"
        let f = fopen(garbage, "wb")!
        fputs(String(repeating: "this is not a database\n", count: 200), f)
        fclose(f)

        for (path, kind) in [(theirs, StoreError.Kind.corrupt), (future, .schemaTooNew), (garbage, .corrupt)] {
            let before = try XCTUnwrap(contents(path))
            XCTAssertFalse(exists(path + "-wal") || exists(path + "-shm"), path)
            XCTAssertThrowsError(try Engine(path: path)) { XCTAssertEqual(($0 as? StoreError)?.kind, kind, "\($0)") }
            XCTAssertEqual(contents(path), before, "\(path) changed")
            XCTAssertFalse(exists(path + "-wal"), "\(path)-wal left behind")
            XCTAssertFalse(exists(path + "-shm"), "\(path)-shm left behind")
            XCTAssertFalse(exists(path + "-journal"), "\(path)-journal left behind")
        }
        // Byte 18 of an SQLite header is 1 in rollback mode and 2 in WAL mode.
        XCTAssertEqual(contents(theirs)?[18], 1, "someone else's database was switched to WAL")
    }

    /// The store and its -wal and -shm files are readable by their owner only (the socket's mode), unless
    /// the caller asks for another mode; an existing file keeps its mode.
    func testStoreFilesAreCreatedOwnerOnly() throws {
        let dir = temporaryDirectory()
        let old = umask(0o022)
        defer { umask(old) }
        func mode(_ path: String) -> mode_t {
            var st = stat()
            XCTAssertEqual(lstat(path, &st), 0, path)
            return st.st_mode & 0o777
        }
        let path = dir + "/private.db"
        let engine = try Engine(path: path)
        loadRetailer(engine)
        for p in [path, path + "-wal", path + "-shm"] { XCTAssertEqual(mode(p), 0o600, p) }
        let shared = dir + "/shared.db"
        let group = try Engine(path: shared, fileMode: 0o640)
        loadRetailer(group)
        for p in [shared, shared + "-wal", shared + "-shm"] { XCTAssertEqual(mode(p), 0o640, p) }
        chmod(shared, 0o644)
        _ = try Engine(path: shared)
        XCTAssertEqual(mode(shared), 0o644, "an existing store keeps its mode")
    }

    /// Reads of kept runs go through reader connections while writes go on: many threads, one engine.
    func testKeptRunsReadFromManyThreadsWhileWriting() throws {
        let engine = try Engine(path: temporaryDirectory() + "/threads.db")
        loadRetailer(engine)
        XCTAssertNotNil(engine.request("assessment.run", #"{"portfolio":"retailer"}"#).result)
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for n in 0..<16 {
                let r: Response
                switch (i + n) % 4 {
                case 0 where i % 2 == 0: r = engine.request("assessment.run", #"{"portfolio":"retailer"}"#)
                case 1: r = engine.request("assessment.get", #"{"portfolio":"retailer","run":1}"#)
                default: r = engine.request("assessment.history", #"{"portfolio":"retailer"}"#)
                }
                if r.result == nil { failures.write { $0.append(r.text) } }
            }
        }
        XCTAssertEqual(failures.read { $0 }, [])
        let runs = engine.request("assessment.history", #"{"portfolio":"retailer"}"#).result?["runs"]
        XCTAssertEqual(runs.map { (0..<$0.count).map { runs![$0]?["run"]?.intValue } }, (1...17).map { Int64($0) }, "runs numbered 1...17 once each")
    }

    func testAVersionOneStoreMigratesForward() throws {
        // A store as version 1 wrote it: the first migration only, user_version 1, one portfolio.
        let path = temporaryDirectory() + "/v1.db"
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path, &db), SQLITE_OK)
        XCTAssertEqual(sqlite3_exec(db, SQLiteStore.migrations[0], nil, nil, nil), SQLITE_OK)
        let org = #"{"name":"Old Co"}"#
        XCTAssertEqual(sqlite3_exec(db, "INSERT INTO portfolio VALUES ('old', 3, '2026-01-01T00:00:00.000Z', '\(org)'); PRAGMA user_version = 1", nil, nil, nil), SQLITE_OK)
        sqlite3_close(db)
        let engine = try Engine(path: path)
        let got = engine.request("portfolio.get", #"{"id":"old"}"#)
        XCTAssertEqual(got.result?["revision"]?.intValue, 3)
        XCTAssertEqual(got.result?["portfolio"]?["answers"]?.count, 0)
        XCTAssertEqual(engine.request("engine.info").result?["store"]?["schemaVersion"]?.intValue, Int64(SQLiteStore.currentVersion))
        XCTAssertNotNil(engine.request("assessment.run", #"{"portfolio":"old"}"#).result, "the new tables exist")
    }

    func testAVersionTwoStoreSummarizesItsKeptRuns() throws {
        // Kept runs as version 2 stored them (no summary column): version 3 summarizes them on open,
        // and history reads the same scores from the summaries as from the results.
        let path = temporaryDirectory() + "/v2.db"
        var before: String? = nil
        do {
            let engine = try Engine(path: path)
            loadRetailer(engine)
            for _ in 0..<2 { XCTAssertNotNil(engine.request("assessment.run", #"{"portfolio":"retailer"}"#).result) }
            before = engine.request("assessment.history", #"{"portfolio":"retailer"}"#).result.map { JSONText.dump($0) }
        }
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path, &db), SQLITE_OK)
        XCTAssertEqual(sqlite3_exec(db, "DROP TABLE advice_run; DROP TABLE advice_dismissal; DROP TABLE advice_campaign; DROP TABLE deployment; DROP TABLE incident; ALTER TABLE assessment_run DROP COLUMN summary; ALTER TABLE portfolio DROP COLUMN unresolved; PRAGMA user_version = 2", nil, nil, nil), SQLITE_OK)
        sqlite3_close(db)
        let engine = try Engine(path: path)
        let after = engine.request("assessment.history", #"{"portfolio":"retailer"}"#).result
        XCTAssertEqual(after?["runs"]?.count, 2)
        XCTAssertEqual(after.map { JSONText.dump($0) }, before, "the migrated summaries give the history the results gave")
        let dims = after?["runs"]?[0]?["dimensions"]
        XCTAssertEqual(dims?.count, 10, "every dimension with a score")
    }

    func testNotAStoreIsRefused() throws {
        let path = temporaryDirectory() + "/garbage.db"
        let f = fopen(path, "wb")!
        fputs(String(repeating: "this is not a database\n", count: 200), f)
        fclose(f)
        XCTAssertThrowsError(try Engine(path: path)) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .corrupt, "\(error)")
        }
        XCTAssertThrowsError(try Engine(path: "/nonexistent-dir/x/store.db")) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .open, "\(error)")
        }
    }

    func testBadInputChangesNothing() throws {
        let engine = try Engine(path: nil)
        loadRetailer(engine)
        let before = engine.request("engine.info").result.map { JSONText.dump($0) }
        let bad = [
            "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.put\",\"params\":{\"portfolio\":" + String(repeating: "[", count: 100_000),
            #"{"jsonrpc":"2.0","method":"portfolio.delete","params":{"id":"retailer","id":"x"},"id":1}"#,
            #"{"jsonrpc":"2.0","method":"portfolio.delete","params":{"id":{"a":1}},"id":1}"#,
            #"{"jsonrpc":"2.0","method":"metric.observe","params":{"portfolio":"retailer","metric":"nps","observations":[{"at":"2026-01-01","value":1e400}]},"id":1}"#,
            #"{"jsonrpc":"2.0","method":"metric.observe","params":{"portfolio":"retailer","metric":"nps","observations":[{"at":"2026-01-01","value":"high"}]},"id":1}"#,
            #"{"jsonrpc":"2.0","method":"entity.upsert","params":{"portfolio":"retailer","kind":"team","entity":{"id":"t","name":"T","size":99999999999999999999}},"id":1}"#,
        ]
        for text in bad {
            let r = Response(engine.call(text) ?? "null")
            XCTAssertNotNil(r.error, String(text.prefix(80)))
        }
        XCTAssertEqual(engine.request("engine.info").result.map { JSONText.dump($0) }, before)
    }
}
