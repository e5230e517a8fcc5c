import CJansson
import Dispatch
import Glibc
import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedModel
@testable import TwoSpeedStore
import TwoSpeedSync

/// The store's contract (PortfolioStore and DeliveryEventStore), run against both backends: a SQLite
/// file and a database of the throwaway PostgreSQL server (PGServer). Each test runs its body once per
/// backend; a failure names the backend.
final class StoreContractTests: XCTestCase {
    enum Backend: String, CaseIterable { case sqlite, postgres }

    /// A new, empty store name of each backend.
    func freshName(_ b: Backend) throws -> String {
        switch b {
        case .sqlite: return temporaryDirectory() + "/store.db"
        case .postgres: return try PGServer.freshDatabase()
        }
    }

    typealias FullStore = PortfolioStore & DeliveryEventStore

    func open(_ name: String) throws -> any FullStore {
        let s = try StoreName.open(name)
        guard let full = s as? any FullStore else { throw StoreError(kind: .io, message: "\(type(of: s)) keeps no delivery events") }
        return full
    }

    /// Runs `body` on a fresh store name of each backend.
    func eachBackend(_ body: (Backend, String) throws -> Void) throws {
        for b in Backend.allCases {
            do { try body(b, try freshName(b)) } catch {
                XCTFail("\(b): \(error)")
            }
        }
    }

    /// An empty portfolio: kept runs, events and advice belong to a portfolio the store holds.
    func empty(_ id: String) -> StoredPortfolio {
        StoredPortfolio(portfolio: Portfolio(id: id, organization: Organization(name: id)), revision: 1, updated: "2026-12-01T00:00:00Z")
    }

    func retailer(revision: Int = 1) throws -> StoredPortfolio {
        StoredPortfolio(portfolio: try JanssonDecoder().decode(Portfolio.self, from: retailerText), revision: revision, updated: "2026-12-01T00:00:00Z")
    }

    // MARK: Naming

    func testOneStringNamesTheStore() throws {
        XCTAssertTrue(StoreName.isPostgres("postgresql://db.example/twospeed"))
        XCTAssertTrue(StoreName.isPostgres("postgres:///twospeed?host=/run/postgresql"))
        XCTAssertTrue(StoreName.isPostgres("PostgreSQL://h/db"))
        XCTAssertFalse(StoreName.isPostgres("/var/lib/twospeed/store.db"))
        XCTAssertFalse(StoreName.isPostgres("postgresql.db"))
        XCTAssertFalse(StoreName.isPostgres(":memory:"))
        XCTAssertTrue(try StoreName.open(nil) is SQLiteStore)
        XCTAssertTrue(try StoreName.open(":memory:").inMemory)
        XCTAssertTrue(try StoreName.open(try PGServer.freshDatabase()) is PostgresStore)
    }

    /// Passwords never leave in a printed name: user:password@, ?password= and its percent-encoded key.
    func testRedactionHidesEveryPassword() {
        let cases: [(String, String)] = [
            ("postgresql://writer:s3cret@db.example:5432/twospeed?sslmode=verify-full",
             "postgresql://writer:***@db.example:5432/twospeed?sslmode=verify-full"),
            ("postgres://writer:p@ss@word@db/x", "postgres://writer:***@db/x"),
            ("postgresql:///twospeed?host=/run/postgresql&password=s3cret&user=w",
             "postgresql:///twospeed?host=/run/postgresql&password=***&user=w"),
            ("postgresql:///t?%70assword=s3cret", "postgresql:///t?%70assword=***"),
            ("postgresql:///t?PASSWORD=s3cret", "postgresql:///t?PASSWORD=***"),
            ("postgresql://writer@db/x", "postgresql://writer@db/x"),
            ("/var/lib/twospeed/pass:word@store.db", "/var/lib/twospeed/pass:word@store.db"),
        ]
        for (given, shown) in cases {
            XCTAssertEqual(StoreName.redacted(given), shown)
            XCTAssertFalse(StoreName.redacted(given).contains("s3cret"))
            XCTAssertEqual(StoreName.hasPassword(given), given != shown, given)
        }
    }

    /// A store that cannot be reached says so without the password, and the engine opens nothing.
    func testAnUnreachableServerIsAClearErrorWithoutThePassword() throws {
        let dir = temporaryDirectory()
        let uri = "postgresql://writer:s3cret@/twospeed?host=\(dir)"
        XCTAssertThrowsError(try Engine(path: uri)) { error in
            guard let e = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.kind, .open)
            XCTAssertTrue(e.retryable)
            XCTAssertFalse(e.message.contains("s3cret"), e.message)
            XCTAssertTrue(e.message.contains("writer:***@"), e.message)
            XCTAssertTrue(e.message.contains(dir), e.message)
        }
    }

    // MARK: Portfolios

    func testAPortfolioRoundTripsAndSurvivesReopen() throws {
        try eachBackend { b, name in
            let sp = try retailer()
            do {
                let s = try open(name)
                try s.apply([.putPortfolio(sp, document: nil)])
                let back = try s.loadAll()
                XCTAssertEqual(back.map(\.portfolio), [sp.portfolio], "\(b)")
                XCTAssertEqual(back.first?.revision, 1, "\(b)")
                XCTAssertEqual(back.first?.updated, sp.updated, "\(b)")
            }
            let again = try open(name).loadAll()
            XCTAssertEqual(again.map(\.portfolio), [sp.portfolio], "\(b): reopened")
            XCTAssertEqual(try open(name).integrityCheck(), "ok", "\(b)")
        }
    }

    /// Through the engine: every kind of change lands in the store as the engine holds it in memory.
    func testEveryChangeTheEngineMakesIsWhatAReopenedStoreLoads() throws {
        try eachBackend { b, name in
            let engine = try Engine(path: name)
            XCTAssertNotNil(engine.request("portfolio.put", "{\"portfolio\":\(retailerText)}").result, "\(b)")
            for (method, params) in [
                ("metric.observe", #"{"portfolio":"retailer","metric":"nps","observations":[{"at":"2026-11-30","value":30.125,"source":"survey\ttab\\slash"}]}"#),
                ("entity.remove", #"{"portfolio":"retailer","kind":"experiment","id":"lite-checkout"}"#),
                ("entity.upsert", #"{"portfolio":"retailer","kind":"department","entity":{"id":"legal","name":"Legal\nDept","kind":"legal"}}"#),
                ("entity.upsert", #"{"portfolio":"retailer","kind":"metric","entity":{"id":"nps","name":"NPS again","category":"customer-satisfaction","direction":"higher","observations":[{"at":"2026-12-01","value":0.1}]}}"#),
            ] {
                let r = engine.request(method, params)
                XCTAssertNotNil(r.result, "\(b) \(method): \(r.text)")
            }
            let held = try XCTUnwrap(engine.portfolio("retailer"))
            let loaded = try open(name).loadAll()
            XCTAssertEqual(loaded.first?.portfolio, held.portfolio, "\(b)")
            XCTAssertEqual(loaded.first?.revision, held.revision, "\(b)")
            XCTAssertEqual(held.revision, 5, "\(b)")
            // Deleting it deletes it.
            XCTAssertNotNil(engine.request("portfolio.delete", #"{"id":"retailer"}"#).result, "\(b)")
            XCTAssertEqual(try open(name).loadAll().count, 0, "\(b)")
        }
    }

    // MARK: Revisions across processes

    /// Each write checks the revision before it: a write from a stale read writes nothing and says why,
    /// with the same kind on both stores. Two store objects stand for two processes.
    func testAStaleWriteIsAConflictAndWritesNothing() throws {
        try eachBackend { b, name in
            let one = try open(name), two = try open(name)
            let sp = try retailer()
            try one.apply([.putPortfolio(sp, document: nil)])
            // Another process creating the same portfolio: it exists already.
            XCTAssertThrowsError(try two.apply([.putPortfolio(sp, document: nil)])) {
                XCTAssertEqual(($0 as? StoreError)?.kind, .revisionConflict, "\(b): \($0)")
            }
            // One moves it to revision 2; the other, still at 1, tries to move it to 2 as well.
            let dept = parse(#"{"id":"legal","name":"Legal","kind":"legal"}"#)
            defer { dept.release() }
            try one.apply([.putEntity(portfolio: "retailer", kind: .department, id: "legal", body: dept),
                           .setRevision(portfolio: "retailer", revision: 2, updated: "2026-12-02T00:00:00Z")])
            let other = parse(#"{"id":"stale","name":"Stale","kind":"finance"}"#)
            defer { other.release() }
            XCTAssertThrowsError(try two.apply([.putEntity(portfolio: "retailer", kind: .department, id: "stale", body: other),
                                                .setRevision(portfolio: "retailer", revision: 2, updated: "2026-12-02T00:00:01Z")])) {
                XCTAssertEqual(($0 as? StoreError)?.kind, .revisionConflict, "\(b): \($0)")
                XCTAssertTrue("\($0)".contains("another process"), "\(b): \($0)")
            }
            // A whole put based on revision 1 conflicts too.
            XCTAssertThrowsError(try two.apply([.putPortfolio(try retailer(revision: 2), document: nil)])) {
                XCTAssertEqual(($0 as? StoreError)?.kind, .revisionConflict, "\(b): \($0)")
            }
            let now = try two.loadAll()
            XCTAssertEqual(now.first?.revision, 2, "\(b)")
            XCTAssertEqual(now.first?.portfolio.organization.departments.map(\.id).contains("stale"), false, "\(b): the stale write left nothing")
            XCTAssertEqual(now.first?.portfolio.organization.departments.last?.id, "legal", "\(b)")
            // Written from revision 2, it goes through.
            try two.apply([.putEntity(portfolio: "retailer", kind: .department, id: "stale", body: other),
                           .setRevision(portfolio: "retailer", revision: 3, updated: "2026-12-02T00:00:02Z")])
            XCTAssertEqual(try one.loadAll().first?.revision, 3, "\(b)")
            // A write to a portfolio another process deleted conflicts.
            try one.apply([.deletePortfolio(id: "retailer")])
            XCTAssertThrowsError(try two.apply([.setRevision(portfolio: "retailer", revision: 4, updated: "x")])) {
                XCTAssertEqual(($0 as? StoreError)?.kind, .revisionConflict, "\(b): \($0)")
            }
        }
    }

    /// Many writers, each in its own store object, race to move one portfolio on from the revision they
    /// read: each revision is won by exactly one of them.
    func testRacingWritersWinEachRevisionOnce() throws {
        try eachBackend { b, name in
            let setup = try open(name)
            try setup.apply([.putPortfolio(try retailer(), document: nil)])
            let stores = try (0..<4).map { _ in try open(name) }
            let wins = Locked<[Int: Int]>([:]), failures = Locked<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { w in
                for _ in 0..<10 {
                    do {
                        guard let current = try stores[w].loadAll().first?.revision else { return }
                        try stores[w].apply([.setRevision(portfolio: "retailer", revision: current + 1, updated: "w\(w)")])
                        wins.write { $0[current + 1, default: 0] += 1 }
                    } catch let e as StoreError where e.kind == .revisionConflict {
                        continue
                    } catch {
                        failures.write { $0.append("\(error)") }
                    }
                }
            }
            XCTAssertEqual(failures.read { $0 }, [], "\(b)")
            let final = try setup.loadAll().first?.revision ?? 0
            let won = wins.read { $0 }
            XCTAssertEqual(won.values.reduce(0, +), final - 1, "\(b): each bump counted once")
            XCTAssertTrue(won.values.allSatisfy { $0 == 1 }, "\(b): \(won)")
            XCTAssertEqual(Set(won.keys), Set(2...max(2, final)).intersection(Set(won.keys)), "\(b)")
        }
    }

    // MARK: Models

    func testModelsArePutListedAndDeleted() throws {
        try eachBackend { b, name in
            let s = try open(name)
            try s.putModel(id: "b", body: #"{"id":"b"}"#, updated: "1")
            try s.putModel(id: "a", body: #"{"id":"a"}"#, updated: "1")
            try s.putModel(id: "b", body: #"{"id":"b","v":2}"#, updated: "2")
            XCTAssertEqual(try s.models().map(\.id), ["a", "b"], "\(b)")
            XCTAssertEqual(try s.models().last?.body, #"{"id":"b","v":2}"#, "\(b)")
            try s.deleteModel(id: "a")
            try s.deleteModel(id: "nothing")
            XCTAssertEqual(try open(name).models().map(\.id), ["b"], "\(b)")
        }
    }

    // MARK: Kept runs

    /// Runs from several threads, each on its own store object (as several daemons would), are numbered
    /// 1...n once each without gaps; deleting the portfolio starts its numbering again.
    func testKeptRunsAreNumberedOnceEachUnderConcurrentWriters() throws {
        try eachBackend { b, name in
            let stores = try (0..<4).map { _ in try open(name) }
            try stores[0].apply([.putPortfolio(empty("p"), document: nil)])
            let seqs = Locked<[Int]>([]), failures = Locked<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { w in
                for i in 0..<15 {
                    do {
                        let n = try stores[w].addRun(portfolio: "p", at: "t\(w)-\(i)", model: w % 2 == 0 ? "default" : "custom",
                                                     score: 2.5, summary: #"{"w":\#(w)}"#, body: #"{"w":\#(w),"i":\#(i)}"#)
                        seqs.write { $0.append(n) }
                    } catch { failures.write { $0.append("\(error)") } }
                }
            }
            XCTAssertEqual(failures.read { $0 }, [], "\(b)")
            XCTAssertEqual(seqs.read { $0 }.sorted(), Array(1...60), "\(b)")
            let s = stores[0]
            XCTAssertEqual(try s.runHeaders(portfolio: "p").map(\.seq), Array(1...60), "\(b)")
            XCTAssertEqual(try s.runSummaries(portfolio: "p", model: "custom").count, 30, "\(b)")
            XCTAssertEqual(try s.runSummaries(portfolio: "p", model: nil).first?.body.hasPrefix(#"{"w":"#), true, "\(b)")
            XCTAssertNotNil(try s.runBody(portfolio: "p", seq: 60), "\(b)")
            XCTAssertNil(try s.runBody(portfolio: "p", seq: 61), "\(b)")
            XCTAssertEqual(try s.runHeaders(portfolio: "other").count, 0, "\(b)")
            try s.apply([.deletePortfolio(id: "p")])
            XCTAssertEqual(try s.runHeaders(portfolio: "p").count, 0, "\(b)")
            try s.apply([.putPortfolio(empty("p"), document: nil)])
            XCTAssertEqual(try s.addRun(portfolio: "p", at: "t", model: "default", score: 1, summary: "{}", body: "{}"), 1, "\(b)")
        }
    }

    // MARK: Delivery events

    func testDeliveryEventsAreIdempotentByIdWithSQLitesCounts() throws {
        try eachBackend { b, name in
            let one = try open(name), two = try open(name)
            try one.apply([.putPortfolio(empty("p"), document: nil)])
            let d1 = DeploymentRecord(id: "d1", system: "web", at: 100, failed: false, changes: "90:c1,95:c2")
            let d2 = DeploymentRecord(id: "d2", system: "web", at: 200, failed: true, changes: "150:c3")
            let i1 = IncidentRecord(id: "i1", system: "web", started: 210, resolved: nil, cause: "d2")
            var r = try one.recordDelivery(portfolio: "p", deployments: [d1, d2], incidents: [i1])
            XCTAssertEqual([r.deployments.created, r.deployments.updated, r.deployments.unchanged], [2, 0, 0], "\(b)")
            XCTAssertEqual([r.incidents.created, r.incidents.updated, r.incidents.unchanged], [1, 0, 0], "\(b)")
            // The same events through another process: unchanged.
            r = try two.recordDelivery(portfolio: "p", deployments: [d1, d2], incidents: [i1])
            XCTAssertEqual([r.deployments.created, r.deployments.updated, r.deployments.unchanged], [0, 0, 2], "\(b)")
            XCTAssertEqual([r.incidents.created, r.incidents.updated, r.incidents.unchanged], [0, 0, 1], "\(b)")
            // One changed (resolved now; a null becoming a value counts as a change), one id twice in one call.
            var i1b = i1; i1b.resolved = 300
            var d1b = d1; d1b.failed = true
            r = try two.recordDelivery(portfolio: "p", deployments: [d1b, d1, d2], incidents: [i1b, i1b])
            XCTAssertEqual([r.deployments.created, r.deployments.updated, r.deployments.unchanged], [0, 2, 1], "\(b)")
            XCTAssertEqual([r.incidents.created, r.incidents.updated, r.incidents.unchanged], [0, 1, 1], "\(b)")
            // A big batch (more rows than one statement carries) with a repeat inside.
            let many = (0..<1_203).map { DeploymentRecord(id: "m\($0 % 1_200)", system: "s", at: Int64($0), failed: false, changes: "") }
            r = try one.recordDelivery(portfolio: "p", deployments: many, incidents: [])
            XCTAssertEqual([r.deployments.created, r.deployments.updated, r.deployments.unchanged], [1_200, 3, 0], "\(b)")
            // Read back: before 250, incidents and deployments with the cause marked.
            var incidents: [IncidentRecord] = []
            var deployments: [(String, Int64, Bool, Bool, String)] = []
            try one.scanDelivery(portfolio: "p", until: 250, incident: { incidents.append($0) }, deployment: {
                deployments.append(($0.system, $0.at, $0.failed, $0.causedIncident, String(decoding: $0.changes, as: UTF8.self)))
            })
            XCTAssertEqual(incidents, [IncidentRecord(id: "i1", system: "web", started: 210, resolved: 300, cause: "d2")], "\(b)")
            let web = deployments.filter { $0.0 == "web" }.sorted { $0.1 < $1.1 }
            XCTAssertEqual(web.map(\.1), [100, 200], "\(b)")
            XCTAssertEqual(web.map(\.2), [false, true], "\(b): d1 as last written in the call that sent it twice")
            XCTAssertEqual(web.map(\.3), [false, true], "\(b)")
            XCTAssertEqual(web.first?.4, "90:c1,95:c2", "\(b)")
            XCTAssertEqual(deployments.count, 2 + 250 - 3, "\(b): m0...m249 except the three rewritten past 250")
            // Deleting the portfolio deletes its events.
            try one.apply([.deletePortfolio(id: "p")])
            var left = 0
            try two.scanDelivery(portfolio: "p", until: .max, incident: { _ in left += 1 }, deployment: { _ in left += 1 })
            XCTAssertEqual(left, 0, "\(b)")
        }
    }

    // MARK: Schema

    func testAPostgreSQLStoreOfANewerSchemaIsRefusedAndLeftAlone() throws {
        let name = try PGServer.freshDatabase()
        let db = PGServer.database(of: name)
        _ = try open(name)
        try PGServer.psql(db, "UPDATE twospeed_schema SET version = 99")
        let before = try PGServer.psql(db, "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'")
        XCTAssertThrowsError(try open(name)) {
            XCTAssertEqual(($0 as? StoreError)?.kind, .schemaTooNew, "\($0)")
            XCTAssertTrue("\($0)".contains("99"), "\($0)")
        }
        XCTAssertEqual(try PGServer.psql(db, "SELECT version FROM twospeed_schema"), "99")
        XCTAssertEqual(try PGServer.psql(db, "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"), before)
    }

    func testSomeoneElsesPostgreSQLDatabaseIsRefusedAndLeftAlone() throws {
        let name = try PGServer.freshDatabase()
        let db = PGServer.database(of: name)
        try PGServer.psql(db, "CREATE TABLE customers (id integer PRIMARY KEY, name text); INSERT INTO customers VALUES (1, 'A')")
        XCTAssertThrowsError(try open(name)) { XCTAssertEqual(($0 as? StoreError)?.kind, .corrupt, "\($0)") }
        XCTAssertEqual(try PGServer.psql(db, "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'"), "customers")
    }

    /// Engines starting together on an empty database: one migrates, the others wait for it, all open.
    func testConcurrentStartersOnAnEmptyDatabaseWaitForTheMigratingOne() throws {
        let name = try PGServer.freshDatabase()
        let opened = Locked<[Int]>([]), failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            do { let s = try PostgresStore(uri: name); opened.write { $0.append(s.openedAtVersion) } } catch {
                failures.write { $0.append("\(error)") }
            }
        }
        XCTAssertEqual(failures.read { $0 }, [])
        XCTAssertEqual(opened.read { $0 }.count, 6)
        XCTAssertEqual(opened.read { $0 }.filter { $0 == 0 }.count, 1, "exactly one found it empty and migrated it: \(opened.read { $0 })")
        XCTAssertEqual(try PGServer.psql(PGServer.database(of: name), "SELECT version FROM twospeed_schema"), "\(PostgresStore.currentVersion)")
    }

    /// A starter waits for the migration lock for a bounded time, then fails clearly, changing nothing.
    func testAStuckMigrationIsAClearErrorAfterTheWait() throws {
        let name = try PGServer.freshDatabase()
        let holder = try PGConnection(LibPQ.load(), uri: name, shown: name)
        try holder.exec("BEGIN; SELECT pg_advisory_xact_lock(\(PostgresStore.advisoryKey))")
        let old = PostgresStore.migrationWait
        PostgresStore.migrationWait = 1
        defer { PostgresStore.migrationWait = old }
        var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t)
        XCTAssertThrowsError(try PostgresStore(uri: name)) {
            XCTAssertEqual(($0 as? StoreError)?.kind, .open, "\($0)")
            XCTAssertTrue("\($0)".contains("migrating"), "\($0)")
        }
        var u = timespec(); clock_gettime(CLOCK_MONOTONIC, &u)
        XCTAssertLessThan(u.tv_sec - t.tv_sec, 10)
        try holder.exec("ROLLBACK")
        XCTAssertEqual(try PGServer.psql(PGServer.database(of: name), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "0")
        XCTAssertNotNil(try PostgresStore(uri: name), "opens once the lock is free")
    }

    // MARK: Change notices

    /// Waits up to `seconds` for `condition`.
    func eventually(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
        for _ in 0..<Int(seconds * 50) { if condition() { return true }; usleep(20_000) }
        return condition()
    }

    /// A write through one store is reported to another's watcher with its portfolio id; a model write
    /// as nil; a lost listening connection is made again and reported as nil, and notices flow again.
    func testWatchReportsOtherProcessesWritesAndReconnects() throws {
        let name = try PGServer.freshDatabase()
        let watching = try PostgresStore(uri: name), writer = try PostgresStore(uri: name)
        let seen = Locked<[String?]>([])
        watching.watch { id, _ in seen.write { $0.append(id) } }
        try writer.apply([.putPortfolio(try retailer(), document: nil)])
        XCTAssertTrue(eventually { seen.read { $0 }.contains("retailer") }, "\(seen.read { $0 })")
        try writer.putModel(id: "m", body: "{}", updated: "1")
        XCTAssertTrue(eventually { seen.read { $0 }.contains(where: { $0 == nil }) }, "\(seen.read { $0 })")
        // A write that fails its revision check sends nothing: its transaction rolled back.
        seen.write { $0 = [] }
        XCTAssertThrowsError(try writer.apply([.setRevision(portfolio: "retailer", revision: 9, updated: "x")]))
        usleep(300_000)
        XCTAssertEqual(seen.read { $0 }.count, 0, "\(seen.read { $0 })")
        // The server drops the listening connection: the watcher reconnects and says "anything".
        let killed = try PGServer.psql(PGServer.database(of: name),
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()")
        XCTAssertEqual(killed, "1")
        XCTAssertTrue(eventually { seen.read { $0 }.contains(where: { $0 == nil }) }, "reconnect reported: \(seen.read { $0 })")
        seen.write { $0 = [] }
        try writer.apply([.setRevision(portfolio: "retailer", revision: 2, updated: "y")])
        XCTAssertTrue(eventually { seen.read { $0 }.contains("retailer") }, "notices after the reconnect: \(seen.read { $0 })")
    }

    /// twospeed_open's error text (what C and Python hosts log) never carries the password.
    func testTheEnginesOpenErrorHidesThePassword() throws {
        let dir = try PGServer.socketFolder()
        let uri = "postgresql://postgres:s3cret@/no_such_database?host=\(dir)"
        XCTAssertThrowsError(try Engine(path: uri)) { error in
            XCTAssertFalse("\(error)".contains("s3cret"), "\(error)")
            XCTAssertTrue("\(error)".contains("no_such_database"), "\(error)")
        }
        // An engine that opened answers engine.info with the redacted name.
        let good = try PGServer.freshDatabase()
        let withPassword = good.replacingOccurrences(of: "postgresql:///", with: "postgresql://postgres:s3cret@/")
        let engine = try Engine(path: withPassword)
        let info = engine.request("engine.info")
        XCTAssertFalse(info.text.contains("s3cret"), info.text)
        XCTAssertEqual(info.result?["store"]?["path"]?.stringValue, StoreName.redacted(withPassword))
        XCTAssertEqual(info.result?["store"]?["inMemory"]?.boolValue, false)
    }

    // MARK: Faults

    /// PostgreSQL restarted between requests: the pooled connections are dead, and the next requests
    /// open new ones by themselves (nothing of theirs had been sent). A request whose connection dies
    /// in the middle gets a retryable error saying so, and nothing acknowledged is lost.
    func testAServerRestartIsSurvived() throws {
        let name = try PGServer.freshDatabase()
        let s = try PostgresStore(uri: name)
        try s.apply([.putPortfolio(try retailer(), document: nil)])
        for i in 0..<3 { _ = try s.addRun(portfolio: "retailer", at: "t\(i)", model: "default", score: 1, summary: "{}", body: "{}") }
        let dir = try PGServer.socketFolder()
        let restarted = PGServer.run([PGServer.binary("pg_ctl"), "-D", dir + "/data", "-m", "fast", "-w", "restart", "-l", dir + "/server.log"])
        XCTAssertTrue(restarted.ok, restarted.output)
        XCTAssertEqual(try s.runHeaders(portfolio: "retailer").map(\.seq), [1, 2, 3], "acknowledged runs kept, read on a new connection")
        XCTAssertEqual(try s.addRun(portfolio: "retailer", at: "t", model: "default", score: 1, summary: "{}", body: "{}"), 4)
        XCTAssertEqual(try s.loadAll().first?.revision, 1)
        // A connection killed while it is busy: that request fails, retryable, and the next one works.
        let holder = try PGConnection(LibPQ.load(), uri: name, shown: name)
        try holder.exec("BEGIN; LOCK TABLE run_counter IN ACCESS EXCLUSIVE MODE")
        let failed = Locked<StoreError?>(nil)
        DispatchQueue.global().async {
            do { _ = try s.addRun(portfolio: "retailer", at: "t", model: "default", score: 1, summary: "{}", body: "{}") } catch {
                failed.write { $0 = error as? StoreError }
            }
        }
        usleep(300_000)
        let killed = try PGServer.psql(PGServer.database(of: name),
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
        XCTAssertEqual(killed, "1")
        XCTAssertTrue(eventually { failed.read { $0 } != nil })
        XCTAssertEqual(failed.read { $0 }?.retryable, true, "\(String(describing: failed.read { $0 }))")
        XCTAssertTrue(failed.read { $0 }?.message.contains("lost") ?? false, "\(String(describing: failed.read { $0 }))")
        try holder.exec("ROLLBACK")
        XCTAssertEqual(try s.addRun(portfolio: "retailer", at: "t", model: "default", score: 1, summary: "{}", body: "{}"), 5)
    }

    // MARK: Moving a store

    /// SQLite into PostgreSQL and back: every portfolio with its revision, models, runs with their
    /// numbers and events with their ids, and the same assessment.history from engines on each.
    func testStoreCopyMovesEverythingAndBack() throws {
        let sqlite = temporaryDirectory() + "/from.db"
        do {
            let engine = try Engine(path: sqlite)
            XCTAssertNotNil(engine.request("portfolio.put", "{\"portfolio\":\(retailerText)}").result)
            XCTAssertNotNil(engine.request("metric.observe", #"{"portfolio":"retailer","metric":"nps","observations":[{"at":"2026-11-30","value":30}]}"#).result)
            for _ in 0..<3 { XCTAssertNotNil(engine.request("assessment.run", #"{"portfolio":"retailer"}"#).result) }
            let s = engine.store as! SQLiteStore
            _ = try s.recordDelivery(portfolio: "retailer",
                                     deployments: [DeploymentRecord(id: "d1", system: "web", at: 100, failed: true, changes: "90:a\tb")],
                                     incidents: [IncidentRecord(id: "i1", system: "web", started: 120, resolved: nil, cause: "d1")])
            try s.putModel(id: "custom", body: #"{"id":"custom"}"#, updated: "1")
            try s.putAdviceRun(portfolio: "retailer", seq: 2, body: #"{"advice":[]}"#)
            _ = try s.putAdviceRow(.dismissal, portfolio: "retailer", id: "k", ifRevision: 0, updated: "1", body: "{}")
            _ = try s.putAdviceRow(.dismissal, portfolio: "retailer", id: "k", ifRevision: 1, updated: "2", body: #"{"v":2}"#)
        }
        let pg = try PGServer.freshDatabase()
        let there = try StoreCopy.copy(from: try StoreName.open(sqlite), to: try StoreName.open(pg))
        XCTAssertEqual([there.portfolios, there.runs, there.deployments, there.incidents, there.models], [1, 3, 1, 1, 1], "\(there)")
        XCTAssertGreaterThan(there.entities, 10)
        XCTAssertEqual([there.adviceRecords, there.adviceRows], [3, 1], "\(there): one advice record per kept run")
        XCTAssertEqual(try (StoreName.open(pg) as! any AdviceStore).adviceRow(.dismissal, portfolio: "retailer", id: "k")?.revision, 2)
        let back = temporaryDirectory() + "/back.db"
        XCTAssertEqual(try StoreCopy.copy(from: try StoreName.open(pg), to: try StoreName.open(back)), there)
        // The copy numbers on after the last copied run, and holds the portfolio's revision.
        let copied = try StoreName.open(pg)
        XCTAssertEqual(try copied.addRun(portfolio: "retailer", at: "t", model: "default", score: 1, summary: "{}", body: "{}"), 4)
        XCTAssertEqual(try copied.loadAll().first?.revision, 2)
        // A target that holds a portfolio is refused, and left as it was.
        XCTAssertThrowsError(try StoreCopy.copy(from: try StoreName.open(sqlite), to: try StoreName.open(back))) {
            XCTAssertTrue("\($0)".contains("not empty"), "\($0)")
        }
        XCTAssertEqual(try StoreName.open(back).runHeaders(portfolio: "retailer").count, 3)
    }

    // MARK: Hostile text and load

    /// Ids and texts that would break a statement built by hand or COPY's text format (quotes, tabs,
    /// newlines, backslashes, a COPY end marker) are stored and read back as they are.
    func testHostileTextIsStoredAsItIs() throws {
        try eachBackend { b, name in
            var sp = try retailer()
            var p = sp.portfolio
            p.id = "it's\t\u{9}a\nweird\\.id\r'); DROP TABLE portfolio; --"
            p.organization.name = "\\.\n\\N\t"
            p.metrics[0].observations.append(Observation(at: "2026-12-01", value: 1e-310, source: "\\N"))
            p.metrics[0].observations.append(Observation(at: "2026-12-02", value: -0.0, source: nil))
            sp = StoredPortfolio(portfolio: p, revision: 1, updated: "t")
            let s = try open(name)
            try s.apply([.putPortfolio(sp, document: nil)])
            let back = try open(name).loadAll()
            XCTAssertEqual(back.map(\.portfolio), [p], "\(b)")
            _ = try s.recordDelivery(portfolio: p.id, deployments: [DeploymentRecord(id: "\t\\N", system: "a\nb", at: 1, failed: false, changes: "")],
                                     incidents: [])
            var ids: [String] = []
            try s.scanDelivery(portfolio: p.id, until: 10, incident: { _ in }, deployment: { ids.append($0.system) })
            XCTAssertEqual(ids, ["a\nb"], "\(b)")
            XCTAssertEqual(try s.addRun(portfolio: p.id, at: "t", model: "m'--", score: 1, summary: "{}", body: "{\"x\":\"\\t\"}"), 1, "\(b)")
            XCTAssertEqual(try s.runBody(portfolio: p.id, seq: 1), "{\"x\":\"\\t\"}", "\(b)")
        }
    }

    /// Sixteen threads on one store object (twice PostgreSQL's pool): writes that race on revisions and
    /// retry their conflicts, reads of everything, kept runs and delivery events, all at once. No error
    /// but the conflicts, every write's revision counted once, every run numbered once.
    func testSixteenThreadsOnOneStore() throws {
        try eachBackend { b, name in
            let s = try open(name)
            try s.apply([.putPortfolio(try retailer(), document: nil)])
            let failures = Locked<[String]>([]), bumps = Locked(0), runs = Locked<[Int]>([])
            DispatchQueue.concurrentPerform(iterations: 16) { w in
                for i in 0..<12 {
                    do {
                        switch (w + i) % 4 {
                        case 0:
                            while true {
                                let rev = try s.loadAll().first?.revision ?? 0
                                let body = parse(#"{"id":"d\#(w)","name":"D\#(w)-\#(i)","kind":"other"}"#)
                                defer { body.release() }
                                do {
                                    try s.apply([.putEntity(portfolio: "retailer", kind: .department, id: "d\(w)", body: body),
                                                 .setRevision(portfolio: "retailer", revision: rev + 1, updated: "w\(w)")])
                                    bumps.write { $0 += 1 }
                                    break
                                } catch let e as StoreError where e.kind == .revisionConflict { continue }
                            }
                        case 1:
                            let n = try s.addRun(portfolio: "retailer", at: "t", model: "m", score: 1, summary: "{}", body: "{}")
                            runs.write { $0.append(n) }
                        case 2: _ = try s.recordDelivery(portfolio: "retailer", deployments: [DeploymentRecord(id: "d\(w)-\(i)", system: "s", at: Int64(i), failed: false, changes: "")], incidents: [])
                        default: _ = try s.runSummaries(portfolio: "retailer", model: nil); _ = try s.models()
                        }
                    } catch { failures.write { $0.append("\(error)") } }
                }
            }
            XCTAssertEqual(failures.read { $0 }, [], "\(b)")
            XCTAssertEqual(try s.loadAll().first?.revision, 1 + bumps.read { $0 }, "\(b)")
            XCTAssertEqual(runs.read { $0 }.sorted(), Array(1...runs.read { $0.count }), "\(b)")
            XCTAssertEqual(try s.integrityCheck(), "ok", "\(b)")
        }
    }

    // MARK: Advice records

    /// AdviceStore on both backends: runs' records, rows with their revisions and ifRevision answers;
    /// writers in several store objects racing to create one row from revision 0: exactly one wins.
    func testAdviceRecordsKeepOneContract() throws {
        try eachBackend { b, name in
            guard let s = try StoreName.open(name) as? any AdviceStore & PortfolioStore else { return XCTFail("\(b): no AdviceStore") }
            try s.apply([.putPortfolio(empty("p"), document: nil)])
            try s.putAdviceRun(portfolio: "p", seq: 1, body: "{\"a\":1}")
            try s.putAdviceRun(portfolio: "p", seq: 3, body: "{\"a\":3}")
            try s.putAdviceRun(portfolio: "p", seq: 3, body: "{\"a\":33}")
            XCTAssertEqual(try s.adviceRuns(portfolio: "p").map(\.seq), [1, 3], "\(b)")
            XCTAssertEqual(try s.adviceRun(portfolio: "p", before: 3)?.body, "{\"a\":1}", "\(b)")
            XCTAssertEqual(try s.adviceRun(portfolio: "p", before: 9)?.body, "{\"a\":33}", "\(b)")
            XCTAssertNil(try s.adviceRun(portfolio: "p", before: 1), "\(b)")
            XCTAssertEqual(try s.putAdviceRow(.dismissal, portfolio: "p", id: "k", ifRevision: 0, updated: "1", body: "{}"), 1, "\(b)")
            XCTAssertThrowsError(try s.putAdviceRow(.dismissal, portfolio: "p", id: "k", ifRevision: 0, updated: "2", body: "{}")) {
                XCTAssertEqual(($0 as? AdviceRevisionMismatch)?.current, 1, "\(b): \($0)")
            }
            XCTAssertEqual(try s.putAdviceRow(.dismissal, portfolio: "p", id: "k", ifRevision: 1, updated: "2", body: "{\"v\":2}"), 2, "\(b)")
            XCTAssertEqual(try s.putAdviceRow(.dismissal, portfolio: "p", id: "k", ifRevision: nil, updated: "3", body: "{\"v\":3}"), 3, "\(b)")
            XCTAssertThrowsError(try s.putAdviceRow(.campaign, portfolio: "p", id: "none", ifRevision: 2, updated: "1", body: "{}")) {
                XCTAssertEqual(($0 as? AdviceRevisionMismatch)?.current, 0, "\(b): \($0)")
            }
            XCTAssertEqual(try s.adviceRow(.dismissal, portfolio: "p", id: "k"), AdviceRow(id: "k", revision: 3, updated: "3", body: "{\"v\":3}"), "\(b)")
            XCTAssertNil(try s.adviceRow(.campaign, portfolio: "p", id: "k"), "\(b)")
            XCTAssertThrowsError(try s.deleteAdviceRow(.dismissal, portfolio: "p", id: "k", ifRevision: 2)) {
                XCTAssertEqual(($0 as? AdviceRevisionMismatch)?.current, 3, "\(b): \($0)")
            }
            XCTAssertThrowsError(try s.deleteAdviceRow(.dismissal, portfolio: "p", id: "k", ifRevision: 0)) {
                XCTAssertEqual(($0 as? AdviceRevisionMismatch)?.current, 3, "\(b): \($0)")
            }
            XCTAssertFalse(try s.deleteAdviceRow(.dismissal, portfolio: "p", id: "absent", ifRevision: 0), "\(b)")
            XCTAssertFalse(try s.deleteAdviceRow(.dismissal, portfolio: "p", id: "absent", ifRevision: nil), "\(b)")
            XCTAssertTrue(try s.deleteAdviceRow(.dismissal, portfolio: "p", id: "k", ifRevision: 3), "\(b)")
            // Racing creators, each its own store object (as several daemons): one row, revision 1, one winner.
            let stores = try (0..<4).map { _ in try StoreName.open(name) as! any AdviceStore }
            let wins = Locked(0), failures = Locked<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { w in
                for i in 0..<5 {
                    do { _ = try stores[w].putAdviceRow(.campaign, portfolio: "p", id: "c\(i)", ifRevision: 0, updated: "w\(w)", body: "{}"); wins.write { $0 += 1 } }
                    catch is AdviceRevisionMismatch { continue } catch { failures.write { $0.append("\(error)") } }
                }
            }
            XCTAssertEqual(failures.read { $0 }, [], "\(b)")
            XCTAssertEqual(wins.read { $0 }, 5, "\(b): one winner per row")
            XCTAssertEqual(try s.adviceRows(.campaign, portfolio: "p").map(\.revision), [1, 1, 1, 1, 1], "\(b)")
            // Deleting the portfolio deletes its advice.
            try s.apply([.deletePortfolio(id: "p")])
            XCTAssertEqual(try s.adviceRuns(portfolio: "p").count + s.adviceRows(.campaign, portfolio: "p").count, 0, "\(b)")
        }
    }
}
