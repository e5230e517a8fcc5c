import CSQLite
import Dispatch
import Foundation
import Glibc
import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedModel
@testable import TwoSpeedStore
import TwoSpeedSync

/// Foreign keys with cascades (issue 25), on both backends: every table that belongs to a portfolio
/// references it, deleting the portfolio deletes its rows in every table, a row for a portfolio the
/// store does not hold is refused, and a store of the previous schema migrates keeping every row.
///
/// The tables are enumerated from the database (sqlite_master, information_schema), not listed here:
/// a table added later without a foreign key, or that the fixture below does not fill, fails.
extension StoreContractTests {
    /// Tables that belong to no portfolio.
    static let sharedTables: Set<String> = ["assessment_model", "twospeed_schema"]

    // MARK: Reading the database itself

    /// The tables of the store, by the database's catalog.
    func tables(_ b: Backend, _ name: String) throws -> Set<String> {
        switch b {
        case .sqlite:
            return Set(try sqliteRows(name, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").map { $0[0] })
        case .postgres:
            let out = try PGServer.psql(PGServer.database(of: name),
                                        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1")
            return Set(out.split(separator: "\n").map(String.init))
        }
    }

    /// The tables that reference portfolio(id) with ON DELETE CASCADE, by the catalog.
    func cascadingTables(_ b: Backend, _ name: String) throws -> Set<String> {
        switch b {
        case .sqlite:
            var out = Set<String>()
            for t in try tables(b, name) {
                let keys = try sqliteRows(name, "SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list('\(t)')")
                if keys.contains(where: { $0 == ["portfolio", "portfolio", "id", "CASCADE"] }) { out.insert(t) }
            }
            return out
        case .postgres:
            let out = try PGServer.psql(PGServer.database(of: name), """
                SELECT k.table_name FROM information_schema.referential_constraints r
                JOIN information_schema.key_column_usage k ON k.constraint_name = r.constraint_name AND k.constraint_schema = r.constraint_schema
                JOIN information_schema.constraint_column_usage u ON u.constraint_name = r.constraint_name AND u.constraint_schema = r.constraint_schema
                WHERE r.constraint_schema = current_schema() AND r.delete_rule = 'CASCADE' AND u.table_name = 'portfolio'
                  AND u.column_name = 'id' AND k.column_name = 'portfolio' ORDER BY 1
                """)
            return Set(out.split(separator: "\n").map(String.init))
        }
    }

    /// How many rows of portfolio `id` each table holds (the portfolio table: its own row).
    func rowCounts(_ b: Backend, _ name: String, of id: String) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for t in try tables(b, name) where !StoreContractTests.sharedTables.contains(t) {
            let column = t == "portfolio" ? "id" : "portfolio"
            switch b {
            case .sqlite:
                out[t] = Int(try sqliteRows(name, "SELECT count(*) FROM \(t) WHERE \(column) = '\(id)'")[0][0])
            case .postgres:
                out[t] = Int(try PGServer.psql(PGServer.database(of: name), "SELECT count(*) FROM \(t) WHERE \(column) = '\(id)'"))
            }
        }
        return out
    }

    /// Every row of every table as text, sorted: what a migration must keep.
    func everyRow(_ b: Backend, _ name: String) throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for t in try tables(b, name) where t != "twospeed_schema" {
            switch b {
            case .sqlite:
                let columns = try sqliteRows(name, "SELECT name FROM pragma_table_info('\(t)') ORDER BY name").map { $0[0] }
                out[t] = try sqliteRows(name, "SELECT \(columns.joined(separator: ", ")) FROM \(t)").map { $0.joined(separator: "|") }.sorted()
            case .postgres:
                let text = try PGServer.psql(PGServer.database(of: name), "SELECT to_jsonb(x)::text FROM \(t) x")
                out[t] = text.split(separator: "\n").map(String.init).sorted()
            }
        }
        return out
    }

    /// The rows of a query on an SQLite file, each column as text ("NULL" for null).
    func sqliteRows(_ path: String, _ sql: String) throws -> [[String]] {
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else { throw StoreError(kind: .open, message: path) }
        defer { sqlite3_close(db) }
        var s: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &s, nil) == SQLITE_OK else {
            throw StoreError(kind: .io, message: "\(sql): \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_finalize(s) }
        var rows: [[String]] = []
        while sqlite3_step(s) == SQLITE_ROW {
            rows.append((0..<sqlite3_column_count(s)).map { i in
                sqlite3_column_type(s, i) == SQLITE_NULL ? "NULL" : String(cString: sqlite3_column_text(s, i))
            })
        }
        return rows
    }

    /// Puts portfolio `id` (the retailer's entities and observations) with rows in every table the store
    /// has: a kept run, delivery events, an advice record, a dismissal and a campaign.
    func fill(_ s: any FullStore, _ id: String) throws {
        var p = try retailer().portfolio
        p.id = id
        try s.apply([.putPortfolio(StoredPortfolio(portfolio: p, revision: 1, updated: "t"), document: nil)])
        _ = try s.addRun(portfolio: id, at: "t", model: "default", score: 2, summary: "{}", body: "{}")
        _ = try s.recordDelivery(portfolio: id, deployments: [DeploymentRecord(id: "d1", system: "web", at: 10, failed: true, changes: "5:c1")],
                                 incidents: [IncidentRecord(id: "i1", system: "web", started: 11, resolved: 20, cause: "d1")])
        let advice = try XCTUnwrap(s as? any AdviceStore)
        try advice.putAdviceRun(portfolio: id, seq: 1, body: #"{"items":[]}"#)
        _ = try advice.putAdviceRow(.dismissal, portfolio: id, id: "k", ifRevision: 0, updated: "t", body: "{}")
        _ = try advice.putAdviceRow(.campaign, portfolio: id, id: "c", ifRevision: 0, updated: "t", body: "{}")
    }

    // MARK: Tests

    func testEveryTableOfAPortfolioReferencesItWithACascade() throws {
        try eachBackend { b, name in
            _ = try open(name)
            let owned = try tables(b, name).subtracting(StoreContractTests.sharedTables).subtracting(["portfolio"])
            XCTAssertTrue(owned.isSuperset(of: ["entity", "observation", "assessment_run", "deployment", "incident", "advice_run"]), "\(b): \(owned)")
            XCTAssertEqual(try cascadingTables(b, name), owned, "\(b): every table but the shared ones references portfolio(id) ON DELETE CASCADE")
        }
    }

    /// Deleting a portfolio with rows in every table leaves none of them, and leaves another portfolio's alone.
    func testDeletingAPortfolioLeavesNoRowOfItInAnyTable() throws {
        try eachBackend { b, name in
            let s = try open(name)
            try fill(s, "gone")
            try fill(s, "kept")
            let before = try rowCounts(b, name, of: "gone")
            XCTAssertEqual(before.filter { $0.value == 0 }.map(\.key), [], "\(b): the fixture fills every table of a portfolio")
            let kept = try rowCounts(b, name, of: "kept")
            try s.apply([.deletePortfolio(id: "gone")])
            XCTAssertEqual(try rowCounts(b, name, of: "gone").filter { $0.value != 0 }, [:], "\(b): rows of the deleted portfolio left")
            XCTAssertEqual(try rowCounts(b, name, of: "kept"), kept, "\(b): the other portfolio keeps every row")
            XCTAssertEqual(try s.integrityCheck(), "ok", "\(b)")
        }
    }

    /// A delete at a revision the store no longer holds deletes nothing; at the one it holds, everything.
    func testADeleteAtAStaleRevisionDeletesNothing() throws {
        try eachBackend { b, name in
            let one = try open(name), two = try open(name)
            try fill(one, "p")
            try one.apply([.setRevision(portfolio: "p", revision: 2, updated: "t2")])
            XCTAssertThrowsError(try two.apply([.deletePortfolio(id: "p", revision: 1)])) {
                XCTAssertEqual(($0 as? StoreError)?.kind, .revisionConflict, "\(b): \($0)")
                XCTAssertTrue("\($0)".contains("nothing was deleted"), "\(b): \($0)")
            }
            XCTAssertEqual(try rowCounts(b, name, of: "p").filter { $0.value == 0 }.map(\.key), [], "\(b): every row still there")
            try two.apply([.deletePortfolio(id: "p", revision: 2)])
            XCTAssertEqual(try one.loadAll().count, 0, "\(b)")
            // Deleted already: a delete at a revision conflicts, one without deletes nothing and succeeds.
            XCTAssertThrowsError(try one.apply([.deletePortfolio(id: "p", revision: 2)])) {
                XCTAssertEqual(($0 as? StoreError)?.kind, .revisionConflict, "\(b): \($0)")
            }
            XCTAssertNoThrow(try one.apply([.deletePortfolio(id: "p")]), "\(b)")
        }
    }

    /// Rows for a portfolio the store does not hold (another process deleted it between the engine's read
    /// and its write) are refused by the key, with a clear error, and nothing is written.
    func testARowForAPortfolioTheStoreDoesNotHoldIsRefused() throws {
        try eachBackend { b, name in
            let s = try open(name)
            let advice = try XCTUnwrap(s as? any AdviceStore)
            func refused(_ what: String, _ body: () throws -> Void) {
                XCTAssertThrowsError(try body(), "\(b): \(what)") {
                    XCTAssertEqual(($0 as? StoreError)?.kind, .revisionConflict, "\(b) \(what): \($0)")
                    XCTAssertTrue("\($0)".contains("not in the store"), "\(b) \(what): \($0)")
                }
            }
            refused("run") { _ = try s.addRun(portfolio: "ghost", at: "t", model: "m", score: 1, summary: "{}", body: "{}") }
            refused("events") {
                _ = try s.recordDelivery(portfolio: "ghost", deployments: [DeploymentRecord(id: "d", system: "s", at: 1, failed: false, changes: "")],
                                         incidents: [])
            }
            refused("advice record") { try advice.putAdviceRun(portfolio: "ghost", seq: 1, body: "{}") }
            refused("dismissal") { _ = try advice.putAdviceRow(.dismissal, portfolio: "ghost", id: "k", ifRevision: nil, updated: "t", body: "{}") }
            XCTAssertEqual(try rowCounts(b, name, of: "ghost").filter { $0.value != 0 }, [:], "\(b)")
            // The store serves on.
            try s.apply([.putPortfolio(empty("ghost"), document: nil)])
            XCTAssertEqual(try s.addRun(portfolio: "ghost", at: "t", model: "m", score: 1, summary: "{}", body: "{}"), 1, "\(b)")
        }
    }

    /// A store of the previous schema (SQLite 6, PostgreSQL 2: no keys on the newer tables) with rows in
    /// every table migrates keeping every row of every portfolio it holds; rows of a portfolio it does
    /// not hold (left by an older delete) are dropped; the cascade then holds.
    func testThePreviousSchemaMigratesKeepingEveryRow() throws {
        let rows: [(table: String, values: String)] = [
            ("portfolio", "('old', 4, 't', '{\"name\":\"Old Co\"}', '[]', '[]')"),
            ("portfolio", "('other', 1, 't', '{\"name\":\"Other\"}', '[]', '[]')"),
            ("entity", "('old', 'system', 'web', 0, '{\"id\":\"web\",\"name\":\"Web\",\"layer\":\"front-end\"}')"),
            ("entity", "('old', 'metric', 'nps', 0, '{\"id\":\"nps\",\"name\":\"NPS\",\"category\":\"customer-satisfaction\",\"direction\":\"higher\"}')"),
            ("observation", "('old', 'nps', 0, '2026-01-01', 30.5, 'survey')"),
            ("assessment_model", "('custom', 't', '{\"id\":\"custom\"}')"),
            ("assessment_run", "('old', 1, 't1', 'default', 2.5, '{\"run\":1}', '{\"asOf\":\"t1\"}')"),
            ("assessment_run", "('old', 2, 't2', 'default', 2.75, '{\"run\":2}', '{\"asOf\":\"t2\"}')"),
            ("assessment_run", "('other', 1, 't1', 'default', 1, '{}', '{}')"),
            ("deployment", "('old', 'd1', 'web', 100, 1, '90:c1')"),
            ("incident", "('old', 'i1', 'web', 110, NULL, 'd1')"),
            ("advice_run", "('old', 2, '{\"items\":[]}')"),
            ("advice_dismissal", "('old', 'k', 2, 't', '{\"reason\":\"no\"}')"),
            ("advice_campaign", "('old', 'c', 1, 't', '{}')"),
            // Left by a delete of an earlier version: no portfolio "deleted".
            ("assessment_run", "('deleted', 1, 't', 'default', 1, '{}', '{}')"),
            ("deployment", "('deleted', 'd9', 'web', 1, 0, '')"),
            ("advice_campaign", "('deleted', 'c', 1, 't', '{}')"),
        ]
        try eachBackend { b, name in
            switch b {
            case .sqlite:
                var db: OpaquePointer?
                XCTAssertEqual(sqlite3_open(name, &db), SQLITE_OK)
                for step in SQLiteStore.migrations.prefix(6) { XCTAssertEqual(sqlite3_exec(db, step, nil, nil, nil), SQLITE_OK, "\(b)") }
                for r in rows {
                    // SQLite's assessment_run has summary last (added by ALTER TABLE): body, then summary.
                    let values = r.table == "assessment_run" ? swapLastTwo(r.values) : r.values
                    XCTAssertEqual(sqlite3_exec(db, "INSERT INTO \(r.table) VALUES \(values)", nil, nil, nil), SQLITE_OK,
                                   "\(b) \(r.table): \(String(cString: sqlite3_errmsg(db)))")
                }
                XCTAssertEqual(sqlite3_exec(db, "PRAGMA user_version = 6", nil, nil, nil), SQLITE_OK)
                sqlite3_close(db)
            case .postgres:
                let db = PGServer.database(of: name)
                try PGServer.psql(db, "CREATE TABLE twospeed_schema (version integer NOT NULL); INSERT INTO twospeed_schema VALUES (2);"
                                  + PostgresStore.migrations.prefix(2).joined(separator: "\n"))
                // PostgreSQL's assessment_run has summary before body; run_counter numbers each portfolio's runs.
                for r in rows { try PGServer.psql(db, "INSERT INTO \(r.table) VALUES \(r.values)") }
                try PGServer.psql(db, "INSERT INTO run_counter VALUES ('old', 2), ('other', 1), ('deleted', 1)")
            }
            let before = try everyRow(b, name)
            let s = try open(name)
            XCTAssertEqual((s as? SQLiteStore)?.openedAtVersion ?? (s as? PostgresStore)?.openedAtVersion, b == .sqlite ? 6 : 2, "\(b)")
            let after = try everyRow(b, name)
            for (table, old) in before {
                let expected = old.filter { !$0.contains("deleted") }
                XCTAssertEqual(after[table], expected, "\(b) \(table): every row of a held portfolio kept, as it was")
            }
            XCTAssertEqual(Set(after.keys), Set(before.keys), "\(b)")
            XCTAssertEqual(try s.integrityCheck(), "ok", "\(b)")
            // The migrated store reads as before, numbers on, and cascades.
            XCTAssertEqual(try s.loadAll().map(\.revision), [4, 1], "\(b)")
            XCTAssertEqual(try s.loadPortfolio(id: "old")?.portfolio.metrics.first?.observations.first?.value, 30.5, "\(b)")
            XCTAssertEqual(try s.addRun(portfolio: "old", at: "t3", model: "default", score: 3, summary: "{}", body: "{}"), 3, "\(b)")
            try s.apply([.deletePortfolio(id: "old", revision: 4)])
            XCTAssertEqual(try rowCounts(b, name, of: "old").filter { $0.value != 0 }, [:], "\(b)")
            XCTAssertEqual(try rowCounts(b, name, of: "other")["assessment_run"], 1, "\(b)")
        }
    }

    /// A kept run and its advice record are one transaction (issue 23) on both stores: an advice record
    /// the database refuses (a trigger stands in for a failure between the two writes) leaves no run
    /// either, the error is a store error, and the next run takes the number the failed one would have
    /// had. The SQLite store is also swept with failing I/O and allocations (RunAdviceAtomicityTests).
    func testARunAndItsAdviceRecordAreKeptTogether() throws {
        try eachBackend { b, name in
            let engine = try Engine(path: name)
            XCTAssertNotNil(engine.request("portfolio.put", "{\"portfolio\":\(retailerText)}").result, "\(b)")
            XCTAssertEqual(engine.request("assessment.run", #"{"portfolio":"retailer"}"#).result?["run"]?.intValue, 1, "\(b)")
            func sql(_ text: String) throws {
                switch b {
                case .sqlite:
                    var db: OpaquePointer?
                    XCTAssertEqual(sqlite3_open(name, &db), SQLITE_OK)
                    defer { sqlite3_close(db) }
                    XCTAssertEqual(sqlite3_exec(db, text, nil, nil, nil), SQLITE_OK, "\(b): \(String(cString: sqlite3_errmsg(db)))")
                case .postgres: try PGServer.psql(PGServer.database(of: name), text)
                }
            }
            try sql(b == .sqlite
                    ? "CREATE TRIGGER refuse BEFORE INSERT ON advice_run BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                    : "CREATE FUNCTION refuse() RETURNS trigger AS $$BEGIN RAISE EXCEPTION 'injected failure'; END$$ LANGUAGE plpgsql; "
                      + "CREATE TRIGGER refuse BEFORE INSERT ON advice_run FOR EACH ROW EXECUTE FUNCTION refuse()")
            let failed = engine.request("assessment.run", #"{"portfolio":"retailer"}"#)
            XCTAssertEqual(failed.code, -32002, "\(b): \(failed.text)")
            XCTAssertTrue(failed.text.contains("injected failure"), "\(b): \(failed.text)")
            let counts = try rowCounts(b, name, of: "retailer")
            XCTAssertEqual(counts["assessment_run"], 1, "\(b): the failed run was not kept")
            XCTAssertEqual(counts["advice_run"], 1, "\(b)")
            try sql("DROP TRIGGER refuse" + (b == .sqlite ? "" : " ON advice_run"))
            XCTAssertEqual(engine.request("assessment.run", #"{"portfolio":"retailer"}"#).result?["run"]?.intValue, 2, "\(b): no gap")
            let history = engine.request("recommendation.history", #"{"portfolio":"retailer"}"#)
            XCTAssertEqual(history.result?["untracked"]?.count, 0, "\(b): \(history.text)")
            XCTAssertEqual(history.result?["runs"]?.count, 2, "\(b): \(history.text)")
            // At the store: an advice record that cannot be made (its maker fails) keeps no run.
            let s = try XCTUnwrap(try open(name) as? any AdviceStore)
            struct Refused: Error {}
            XCTAssertThrowsError(try s.addRun(portfolio: "retailer", at: "t", model: "default", score: 1, summary: "{}", body: "{}") { _, _ in
                throw Refused()
            }) { XCTAssertTrue($0 is Refused, "\(b): \($0)") }
            XCTAssertEqual(try rowCounts(b, name, of: "retailer")["assessment_run"], 2, "\(b)")
            // The maker is given the run's number and the record kept before it, read in the transaction.
            let seq = try s.addRun(portfolio: "retailer", at: "t", model: "default", score: 1, summary: "{}", body: "{}") { seq, previous in
                XCTAssertEqual(seq, 3, "\(b)")
                XCTAssertEqual(previous?.seq, 2, "\(b)")
                return #"{"items":[]}"#
            }
            XCTAssertEqual(seq, 3, "\(b)")
            XCTAssertEqual(try s.adviceRuns(portfolio: "retailer").map(\.seq), [1, 2, 3], "\(b)")
        }
    }

    /// Engines starting together on a PostgreSQL store of the previous schema: one adds the keys under
    /// the advisory lock, the others wait for it and find the schema current; the rows are kept once.
    func testConcurrentStartersOnThePreviousSchemaMigrateItOnce() throws {
        let name = try PGServer.freshDatabase()
        let db = PGServer.database(of: name)
        try PGServer.psql(db, "CREATE TABLE twospeed_schema (version integer NOT NULL); INSERT INTO twospeed_schema VALUES (2);"
                          + PostgresStore.migrations.prefix(2).joined(separator: "\n"))
        try PGServer.psql(db, "INSERT INTO portfolio VALUES ('p', 1, 't', '{\"name\":\"P\"}', '[]', '[]'); "
                          + "INSERT INTO assessment_run VALUES ('p', 1, 't', 'default', 1, '{}', '{}'); INSERT INTO run_counter VALUES ('p', 1)")
        let opened = Locked<[Int]>([]), failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            do { let s = try PostgresStore(uri: name); opened.write { $0.append(s.openedAtVersion) } } catch {
                failures.write { $0.append("\(error)") }
            }
        }
        XCTAssertEqual(failures.read { $0 }, [])
        XCTAssertEqual(opened.read { $0 }.filter { $0 == 2 }.count, 1, "exactly one migrated: \(opened.read { $0 })")
        XCTAssertEqual(opened.read { $0 }.filter { $0 == PostgresStore.currentVersion }.count, 5, "\(opened.read { $0 })")
        XCTAssertEqual(try cascadingTables(.postgres, name).count, PostgresStore.foreignKeyTables.count + 2, "entity and observation had theirs")
        XCTAssertEqual(try PGServer.psql(db, "SELECT count(*) FROM assessment_run"), "1")
    }

    /// SQLite deletes a portfolio with its connection's foreign keys off (the cascade's two-pass delete
    /// cost 6 times the CPU; SQLiteStore.deleteOwnedRows): the keys are on again after it, whether the
    /// delete went through or was refused, so that a row for the deleted portfolio is still refused by
    /// the same connection. Both backends, so that PostgreSQL holds the same.
    func testTheKeysHoldAgainAfterADelete() throws {
        try eachBackend { b, name in
            let s = try open(name)
            try fill(s, "gone")
            try fill(s, "kept")
            XCTAssertThrowsError(try s.apply([.deletePortfolio(id: "gone", revision: 9)]), "\(b): a stale revision")
            try s.apply([.deletePortfolio(id: "gone", revision: 1), .deletePortfolio(id: "never-was")])
            XCTAssertEqual(try rowCounts(b, name, of: "gone").filter { $0.value != 0 }, [:], "\(b)")
            XCTAssertThrowsError(try s.recordDelivery(portfolio: "gone", deployments: [DeploymentRecord(id: "d", system: "s", at: 1, failed: false, changes: "")],
                                                      incidents: []), "\(b): an event for the deleted portfolio") {
                XCTAssertTrue("\($0)".contains("not in the store"), "\(b): \($0)")
            }
            XCTAssertThrowsError(try s.addRun(portfolio: "gone", at: "t", model: "m", score: 1, summary: "{}", body: "{}"), "\(b)")
            XCTAssertEqual(try rowCounts(b, name, of: "gone").filter { $0.value != 0 }, [:], "\(b)")
            XCTAssertEqual(try rowCounts(b, name, of: "kept").filter { $0.value == 0 }.map(\.key), [], "\(b): the other portfolio keeps every row")
        }
    }

    /// The keys come back on after a body that failed with its transaction still open (where the pragma
    /// alone would be a silent no-op): the transaction is rolled back and the setting read back.
    func testTheKeysComeBackOnAfterAFailureInsideATransaction() throws {
        struct Failure: Error {}
        let c = try Connection(path: temporaryDirectory() + "/keys.db")
        try c.exec("PRAGMA foreign_keys = ON")
        XCTAssertThrowsError(try c.withoutForeignKeys {
            try c.exec("BEGIN")
            XCTAssertEqual(try c.intPragma("foreign_keys"), 0)
            throw Failure()
        })
        XCTAssertEqual(try c.intPragma("foreign_keys"), 1)
        XCTAssertFalse(c.foreignKeysOff)
        XCTAssertNotEqual(sqlite3_get_autocommit(c.db), 0, "the transaction left open was rolled back")
    }

    /// A foreign key SQLiteStore.deleteOwnedRows does not know (here a table of a table of a portfolio,
    /// added to the file after the store opened it): the store leaves the keys on and the cascade,
    /// which follows it, deletes those rows too. A delete that went table by table would leave them.
    func testADeleteFollowsAKeyTheStoreDoesNotKnow() throws {
        let name = try freshName(.sqlite)
        let s = try open(name)
        try fill(s, "gone")
        try fill(s, "kept")
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(name, &db), SQLITE_OK)
        defer { sqlite3_close(db) }
        for sql in ["PRAGMA foreign_keys = ON",
                    "CREATE TABLE note (portfolio TEXT NOT NULL, deployment TEXT NOT NULL, body TEXT, "
                    + "FOREIGN KEY (portfolio, deployment) REFERENCES deployment(portfolio, id) ON DELETE CASCADE)",
                    "INSERT INTO note VALUES ('gone', 'd1', 'x'), ('kept', 'd1', 'y')"] {
            XCTAssertEqual(sqlite3_exec(db, sql, nil, nil, nil), SQLITE_OK, String(cString: sqlite3_errmsg(db)))
        }
        try s.apply([.deletePortfolio(id: "gone")])
        XCTAssertEqual(try sqliteRows(name, "SELECT portfolio FROM note"), [["kept"]])
        XCTAssertEqual(try sqliteRows(name, "SELECT count(*) FROM deployment WHERE portfolio = 'gone'"), [["0"]])
    }

    /// "(a, ..., x, y)" as "(a, ..., y, x)".
    private func swapLastTwo(_ tuple: String) -> String {
        var parts = String(tuple.dropFirst().dropLast()).components(separatedBy: ", ")
        parts.swapAt(parts.count - 1, parts.count - 2)
        return "(" + parts.joined(separator: ", ") + ")"
    }
}
