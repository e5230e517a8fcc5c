import Glibc
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedSync

/// The PostgreSQL store: the same contract as SQLiteStore, for several engines (several twospeedd on
/// several hosts) over one database. The tables mirror SQLite's; what differs is what several writers
/// need:
/// - each write checks and bumps the portfolio's revision in its transaction's first statement
///   (`UPDATE ... WHERE revision = expected`): zero rows means another process wrote first, and the write
///   is refused as a `conflict` with nothing written. No row lock is held across a round trip before it.
/// - kept runs are numbered by a counter row bumped in the same statement that inserts the run, so that
///   runs from several processes get 1, 2, 3... once each, without gaps;
/// - serialization failures and deadlocks are retried a few times; a lost connection is a retryable error;
/// - every write sends `NOTIFY twospeed, '<portfolio id>'` in its transaction, for other engines' caches.
///
/// libpq connections are one thread's at a time: a small pool lends each to one caller.
public final class PostgresStore: PortfolioStore, @unchecked Sendable {
    /// The URI with any password replaced by "***": what engine.info and errors show.
    public let path: String
    public var inMemory: Bool { false }
    public var schemaVersion: Int { PostgresStore.currentVersion }
    /// The version the database was at before this open migrated it (0 for a new store).
    public let openedAtVersion: Int
    let uri: String
    let pq: LibPQ
    let pool: PGPool
    /// The listening threads `watch` started; stopped when the store goes.
    let watchers = Locked<[PGWatcher]>([])

    /// The schema version this build writes. Version 1 holds what SQLite's version 5 does, version 2
    /// what its version 6 does (advice records, dismissals, campaigns), version 3 what its version 7 does
    /// (every table of a portfolio references it, ON DELETE CASCADE).
    public static let currentVersion = 3
    /// How long a starting engine waits for another one migrating the same database.
    nonisolated(unsafe) public static var migrationWait = 60
    /// Connections per store; each engine thread that touches the store borrows one.
    public static let poolSize = 8
    /// How many times a transaction that hit a serialization failure or a deadlock is run again.
    static let retries = 5
    /// The channel of change notices; the payload is a portfolio id, or empty for "anything".
    public static let channel = "twospeed"

    static let migrations: [String] = [
        """
        CREATE TABLE portfolio (
            id text COLLATE "C" PRIMARY KEY,
            revision bigint NOT NULL,
            updated text NOT NULL,
            organization text NOT NULL,
            answers text NOT NULL DEFAULT '[]',
            unresolved text NOT NULL DEFAULT '[]'
        );
        CREATE TABLE entity (
            portfolio text COLLATE "C" NOT NULL REFERENCES portfolio(id) ON DELETE CASCADE,
            kind text COLLATE "C" NOT NULL,
            id text COLLATE "C" NOT NULL,
            position bigint NOT NULL,
            body text NOT NULL,
            PRIMARY KEY (portfolio, kind, id)
        );
        CREATE TABLE observation (
            portfolio text COLLATE "C" NOT NULL REFERENCES portfolio(id) ON DELETE CASCADE,
            metric text COLLATE "C" NOT NULL,
            seq bigint NOT NULL,
            at text NOT NULL,
            value double precision NOT NULL,
            source text,
            PRIMARY KEY (portfolio, metric, seq)
        );
        CREATE TABLE assessment_model (
            id text COLLATE "C" PRIMARY KEY,
            updated text NOT NULL,
            body text NOT NULL
        );
        CREATE TABLE assessment_run (
            portfolio text COLLATE "C" NOT NULL,
            seq bigint NOT NULL,
            at text NOT NULL,
            model text NOT NULL,
            score double precision NOT NULL,
            summary text NOT NULL,
            body text NOT NULL,
            PRIMARY KEY (portfolio, seq)
        );
        CREATE TABLE run_counter (
            portfolio text COLLATE "C" PRIMARY KEY,
            last bigint NOT NULL
        );
        CREATE TABLE deployment (
            portfolio text COLLATE "C" NOT NULL,
            id text COLLATE "C" NOT NULL,
            system text NOT NULL,
            at bigint NOT NULL,
            failed integer NOT NULL,
            changes text NOT NULL,
            PRIMARY KEY (portfolio, id)
        );
        CREATE TABLE incident (
            portfolio text COLLATE "C" NOT NULL,
            id text COLLATE "C" NOT NULL,
            system text NOT NULL,
            started bigint NOT NULL,
            resolved bigint,
            cause text,
            PRIMARY KEY (portfolio, id)
        );
        """,
        // 2: advice records of kept runs, dismissals and campaigns (PostgresAdvice.swift).
        PostgresStore.adviceMigration,
        // 3: every table that belongs to a portfolio references it, as SQLite's step 7 (which see: rows of a
        // portfolio the store no longer holds are dropped, every other row is kept). PostgreSQL adds the
        // constraint in place; it runs in the migration's transaction, under its advisory lock.
        PostgresStore.foreignKeyTables.map { t in
            "DELETE FROM \(t) WHERE portfolio NOT IN (SELECT id FROM portfolio); "
                + "ALTER TABLE \(t) ADD CONSTRAINT \(t)_portfolio_fkey FOREIGN KEY (portfolio) REFERENCES portfolio(id) ON DELETE CASCADE;\n"
        }.joined(),
    ]

    /// The tables that belong to a portfolio and were created without a foreign key to it.
    static let foreignKeyTables = ["assessment_run", "run_counter", "deployment", "incident", "advice_run", "advice_dismissal", "advice_campaign"]

    /// Connects to the database `uri` names (a libpq URI) and migrates it to this build's schema.
    /// A database of a newer schema, or with tables that are not a TwoSpeed store's, is refused and left
    /// as it was.
    public init(uri: String) throws {
        self.uri = uri
        let shown = StoreName.redacted(uri)
        path = shown
        pq = try LibPQ.load()
        let lib = pq
        pool = PGPool(size: PostgresStore.poolSize) { try PGConnection(lib, uri: uri, shown: shown) }
        openedAtVersion = try pool.with { try PostgresStore.migrate($0, shown) }
    }

    deinit { watchers.read { for w in $0 { w.stop() } } }

    // MARK: Schema

    /// The version in the database, or nil when it has no TwoSpeed schema table; refuses someone else's.
    private static func version(_ c: PGConnection, _ shown: String) throws -> Int? {
        // One statement, one snapshot: two would let an engine migrating at the same moment commit between
        // them, and its tables would look like someone else's.
        let t = try c.query("SELECT count(*) FILTER (WHERE tablename = 'twospeed_schema'), count(*) FROM pg_tables "
                            + "WHERE schemaname = current_schema()")
        if t.int(0, 0) == 0 {
            if t.int(0, 1) > 0 {
                throw StoreError(kind: .corrupt, message: "\"\(shown)\" has tables but is not a TwoSpeed store: give TwoSpeed a database "
                                 + "(or a schema, with options=-csearch_path=NAME) of its own")
            }
            return nil
        }
        let v = try c.query("SELECT max(version) FROM twospeed_schema")
        return v.isNull(0, 0) ? 0 : v.int(0, 0)
    }

    /// Brings the database to `currentVersion` in one transaction under an advisory lock, so that
    /// engines starting together wait for the one migrating; returns the version found.
    static func migrate(_ c: PGConnection, _ shown: String) throws -> Int {
        do {
            // Most opens find the schema current: no lock for them.
            if let v = try version(c, shown), v == currentVersion { return v }
            try c.exec("BEGIN")
            do {
                try c.exec("SET LOCAL statement_timeout = '\(migrationWait)s'")
                do { try c.exec("SELECT pg_advisory_xact_lock(\(advisoryKey))") } catch let f as PGFailure where f.sqlstate == "57014" {
                    throw StoreError(kind: .open, message: "store \"\(shown)\": another process has been migrating it for \(migrationWait) s; "
                                     + "is an engine stuck starting? Nothing was changed", retryable: true)
                }
                try c.exec("SET LOCAL statement_timeout = 0")
                let found = try version(c, shown) ?? 0
                if found > currentVersion {
                    throw StoreError(kind: .schemaTooNew, message: "store \"\(shown)\" has schema version \(found); this library reads up to \(currentVersion)")
                }
                if found == 0 {
                    try c.exec("CREATE TABLE twospeed_schema (version integer NOT NULL); INSERT INTO twospeed_schema VALUES (0)")
                }
                for v in found..<currentVersion { try c.exec(migrations[v]) }
                if found < currentVersion { try c.exec("UPDATE twospeed_schema SET version = \(currentVersion)") }
                try c.exec("COMMIT")
                return found
            } catch {
                _ = try? c.exec("ROLLBACK")
                throw error
            }
        } catch let f as PGFailure {
            throw StoreError(kind: f.connectionLost ? .open : .io, message: "store \"\(shown)\": \(f.message)", retryable: f.connectionLost)
        }
    }

    /// The advisory lock key of migrations: any constant other programs are unlikely to use ("TWOSPEED").
    static let advisoryKey: Int64 = 0x5457_4F53_5045_4544

    // MARK: Transactions

    /// Runs `body` in one transaction on a pooled connection; serialization failures and deadlocks are
    /// run again, up to `retries` times. PostgreSQL's failures leave as StoreErrors.
    func transaction<T>(readOnly: Bool = false, _ body: (PGConnection) throws -> T) throws -> T {
        // A pooled connection the server dropped while it was idle (a restart, an idle timeout) fails at
        // BEGIN, before anything of the request was sent: it is closed and the request taken to the next
        // connection, or a new one. Up to every pooled connection plus one new.
        var dead = 0
        while true {
            do { return try attempt(readOnly: readOnly, body) } catch let e as DeadAtBegin {
                dead += 1
                if dead > PostgresStore.poolSize { throw storeError(e.failure) }
            }
        }
    }

    private struct DeadAtBegin: Error { var failure: PGFailure }

    private func attempt<T>(readOnly: Bool, _ body: (PGConnection) throws -> T) throws -> T {
        try pool.with { c in
            var attempt = 0
            while true {
                do {
                    do { try c.exec(readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN") } catch let f as PGFailure where f.connectionLost {
                        throw DeadAtBegin(failure: f)
                    }
                    let r = try body(c)
                    // A write whose request met a failed jansson allocation may be missing a value: not committed.
                    if !readOnly && JSONAllocation.failedInRequest { throw JSONError.noMemory }
                    do { try c.exec("COMMIT") } catch let f as PGFailure where f.connectionLost {
                        throw StoreError(kind: .io, message: "the connection to PostgreSQL was lost while committing: the write may or may "
                                         + "not have been committed; read it back before sending it again (\(f.message))", retryable: false)
                    }
                    if !readOnly { JSONAllocation.noteCommit() }
                    return r
                } catch let f as PGFailure {
                    if !f.connectionLost { _ = try? c.exec("ROLLBACK") }
                    if f.retryable, attempt < PostgresStore.retries { attempt += 1; continue }
                    throw storeError(f)
                } catch {
                    if !c.isBroken { _ = try? c.exec("ROLLBACK") }
                    throw error
                }
            }
        }
    }

    func storeError(_ f: PGFailure) -> StoreError {
        // foreign_key_violation: a row of a portfolio another process deleted meanwhile.
        if f.sqlstate == "23503" { return StoreError.noSuchPortfolio(f.message) }
        if f.connectionLost {
            return StoreError(kind: .io, message: "the connection to PostgreSQL (\(path)) was lost; nothing was written: \(f.message)", retryable: true)
        }
        if f.retryable {
            return StoreError(kind: .io, message: "PostgreSQL: \(f.message) (still failing after \(PostgresStore.retries) retries)", retryable: true)
        }
        return StoreError(kind: .io, message: "PostgreSQL: \(f.message)" + (f.sqlstate.map { " (SQLSTATE \($0))" } ?? ""))
    }

    func notify(_ c: PGConnection, _ payload: String) throws {
        try c.query("SELECT pg_notify($1, $2)", [PostgresStore.channel, payload])
    }

    // MARK: Reading

    public func loadAll() throws -> [StoredPortfolio] { try transaction(readOnly: true) { try load($0, only: nil) } }

    /// One portfolio as committed, or nil when the store has none by that id.
    public func loadPortfolio(id: String) throws -> StoredPortfolio? {
        try transaction(readOnly: true) { try load($0, only: id).first }
    }

    private func load(_ c: PGConnection, only: String?) throws -> [StoredPortfolio] {
        struct Loading { var portfolio: Portfolio; var revision: Int; var updated: String }
        var loading: [Loading] = []
        var slot: [String: Int] = [:]
        let dec = JanssonDecoder()
        let filter = only == nil ? "" : " WHERE portfolio = $1"
        let params: [String?] = only.map { [$0] } ?? []
        let ps = try c.query("SELECT id, revision, updated, organization, answers, unresolved FROM portfolio"
                             + (only == nil ? "" : " WHERE id = $1") + " ORDER BY id", params)
        for r in 0..<ps.count {
            let id = ps.text(r, 0)
            let org: Organization = try decode(ps.bytes(r, 3), dec, "organization of \(id)")
            var p = Portfolio(id: id, organization: org)
            p.answers = try decode(ps.bytes(r, 4), dec, "answers of \(id)")
            p.unresolved = try decode(ps.bytes(r, 5), dec, "unresolved references of \(id)")
            slot[id] = loading.count
            loading.append(Loading(portfolio: p, revision: ps.int(r, 1), updated: ps.text(r, 2)))
        }
        var group: (slot: Int, kind: EntityKind, loader: any EntityLoader)? = nil
        func finish() {
            guard let g = group else { return }
            g.loader.finish(into: &loading[g.slot].portfolio)
        }
        let es = try c.query("SELECT portfolio, kind, body FROM entity\(filter) ORDER BY portfolio, kind, position", params)
        for r in 0..<es.count {
            let pid = es.text(r, 0)
            guard let s = slot[pid], let kind = EntityKind(rawValue: es.text(r, 1)) else { continue }
            if group?.slot != s || group?.kind != kind {
                finish()
                group = (s, kind, kind.info.loader())
            }
            switch try JSON.parse(es.bytes(r, 2)) {
            case .failure(let e): throw StoreError(kind: .corrupt, message: "\(kind.rawValue) in \(pid): \(e.reason)")
            case .success(let v):
                do { try group!.loader.add(v.ref, dec) } catch {
                    throw StoreError(kind: .corrupt, message: "\(kind.rawValue) in \(pid): \(error)")
                }
            }
        }
        finish()
        let os = try c.query("SELECT portfolio, metric, at, value, source FROM observation\(filter) ORDER BY portfolio, metric, seq", params)
        var current: (slot: Int, metric: Int)? = nil
        var lastKey = ("", "")
        var obs: [Observation] = []
        func assign() {
            if let c = current, !obs.isEmpty { loading[c.slot].portfolio.metrics[c.metric].observations = obs }
            obs = []
        }
        var metricPositions: [Int: [String: Int]] = [:]
        for r in 0..<os.count {
            let pid = os.text(r, 0), mid = os.text(r, 1)
            if lastKey != (pid, mid) {
                assign()
                lastKey = (pid, mid)
                current = nil
                if let s = slot[pid] {
                    if metricPositions[s] == nil {
                        var m: [String: Int] = [:]
                        for (i, metric) in loading[s].portfolio.metrics.enumerated() where m[metric.id] == nil { m[metric.id] = i }
                        metricPositions[s] = m
                    }
                    if let mi = metricPositions[s]?[mid] { current = (s, mi) }
                }
            }
            guard current != nil else { continue }
            obs.append(Observation(at: os.text(r, 2), value: os.double(r, 3), source: os.isNull(r, 4) ? nil : os.text(r, 4)))
        }
        assign()
        return loading.map { StoredPortfolio(portfolio: $0.portfolio, revision: $0.revision, updated: $0.updated) }
    }

    // MARK: Writing

    /// Applies every change in one transaction. The revision changes go first: each checks that the
    /// portfolio is still at the revision before it, so that a write based on a stale read writes nothing.
    public func apply(_ changes: [StoreChange]) throws {
        let ordered = changes.filter { $0.isRevisionGuard } + changes.filter { !$0.isRevisionGuard }
        try transaction { c in
            var next: [String: Int] = [:]
            var touched: [String] = []
            var revisions: [String: Int?] = [:]
            for change in ordered {
                try write(change, c, &next)
                if let id = change.portfolioID, !touched.contains(id) { touched.append(id) }
                switch change {
                case .putPortfolio(let sp, _): revisions[sp.portfolio.id] = .some(sp.revision)
                case .setRevision(let pid, let revision, _): revisions[pid] = .some(revision)
                case .deletePortfolio(let pid, _): revisions[pid] = .some(nil)
                default: break
                }
            }
            // "REVISION ID": an engine that already holds that revision (its own write) loads nothing.
            for id in touched { try notify(c, "\((revisions[id] ?? nil).map(String.init) ?? "-") \(id)") }
        }
    }


    private func text<T: Encodable>(_ value: T, dropping key: String? = nil) throws -> String {
        let v = try JSON.encoding(value)
        if let key { v.remove(key) }
        return try v.encoded()
    }

    private func nextPosition(_ c: PGConnection, _ next: inout [String: Int], _ pid: String, _ kind: EntityKind) throws -> Int {
        let key = pid + "\u{0}" + kind.rawValue
        if let n = next[key] { next[key] = n + 1; return n }
        let q = try c.query("SELECT COALESCE(MAX(position), -1) + 1 FROM entity WHERE portfolio = $1 AND kind = $2", [pid, kind.rawValue])
        let n = q.int(0, 0)
        next[key] = n + 1
        return n
    }

    func write(_ change: StoreChange, _ c: PGConnection, _ next: inout [String: Int]) throws {
        switch change {
        case .putPortfolio(let sp, let document):
            let p = sp.portfolio
            var org = p.organization
            org.departments = []
            let row: [String?] = [p.id, String(sp.revision), sp.updated, try text(org, dropping: "departments"),
                                  try text(p.answers), try text(p.unresolved)]
            // Revision 1 creates: it must not exist. Any other replaces the revision before it.
            let r = sp.revision == 1
                ? try c.query("INSERT INTO portfolio (id, revision, updated, organization, answers, unresolved) VALUES ($1, $2, $3, $4, $5, $6) "
                              + "ON CONFLICT (id) DO NOTHING", row)
                : try c.query("UPDATE portfolio SET revision = $2, updated = $3, organization = $4, answers = $5, unresolved = $6 "
                              + "WHERE id = $1 AND revision = $2::bigint - 1", row)
            guard r.affected == 1 else { throw StoreError.conflict(p.id, sp.revision) }
            try c.query("DELETE FROM entity WHERE portfolio = $1", [p.id])
            try c.query("DELETE FROM observation WHERE portfolio = $1", [p.id])
            let enc = JanssonEncoder()
            try c.copy("COPY entity (portfolio, kind, id, position, body) FROM STDIN") { buf in
                for kind in EntityKind.allCases {
                    var sent: JSONRef? = document
                    for key in kind.collectionPointer { sent = sent?[key] }
                    let ids = p.ids(of: kind)
                    if let s = sent, !(s.isArray && s.count == ids.count) { sent = nil }
                    for (i, id) in ids.enumerated() {
                        let body: String
                        if let s = sent, let element = s[i], element.isObject {
                            body = kind.detachedMembers.isEmpty ? try JSONText.encode(element) : try JSONText.encode(element, without: kind.detachedMembers)
                        } else {
                            let json = JSON(adopting: try p.encodeEntity(kind, at: i, enc))
                            for member in kind.detachedMembers { json.remove(member) }
                            body = try json.encoded()
                        }
                        buf.field(p.id); buf.field(kind.rawValue); buf.field(id); buf.field(String(i)); buf.field(body)
                        buf.endRow()
                    }
                }
            }
            if p.metrics.contains(where: { !$0.observations.isEmpty }) {
                try c.copy("COPY observation (portfolio, metric, seq, at, value, source) FROM STDIN") { buf in
                    for m in p.metrics { observationRows(&buf, p.id, m.id, 0, m.observations) }
                }
            }
        case .deletePortfolio(let id, let revision):
            // One statement: the cascades delete every row of the portfolio. With a revision it is checked
            // here, in the transaction's first statement, as every write's is.
            if let revision {
                let r = try c.query("DELETE FROM portfolio WHERE id = $1 AND revision = $2", [id, String(revision)])
                guard r.affected == 1 else { throw StoreError.deleteConflict(id, revision) }
            } else {
                try c.query("DELETE FROM portfolio WHERE id = $1", [id])
            }
        case .putEntity(let pid, let kind, let id, let body):
            let copy = try JSONView(body).copy()
            for member in kind.detachedMembers { copy.remove(member) }
            let position = try nextPosition(c, &next, pid, kind)
            try c.query("""
                INSERT INTO entity (portfolio, kind, id, position, body) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (portfolio, kind, id) DO UPDATE SET body = excluded.body
                """, [pid, kind.rawValue, id, String(position), try copy.encoded()])
        case .removeEntity(let pid, let kind, let id):
            try c.query("DELETE FROM entity WHERE portfolio = $1 AND kind = $2 AND id = $3", [pid, kind.rawValue, id])
            try c.query("""
                UPDATE portfolio SET unresolved = COALESCE((SELECT json_agg(u.value)::text FROM json_array_elements(unresolved::json) AS u(value)
                    WHERE NOT (u.value->>'kind' IS NOT DISTINCT FROM $1 AND u.value->>'id' IS NOT DISTINCT FROM $2)), '[]')
                WHERE id = $3 AND unresolved <> '[]'
                """, [kind.rawValue, id, pid])
            if kind == .metric {
                try c.query("DELETE FROM observation WHERE portfolio = $1 AND metric = $2", [pid, id])
            }
        case .replaceObservations(let pid, let mid, let obs):
            try c.query("DELETE FROM observation WHERE portfolio = $1 AND metric = $2", [pid, mid])
            if !obs.isEmpty {
                try c.copy("COPY observation (portfolio, metric, seq, at, value, source) FROM STDIN") { observationRows(&$0, pid, mid, 0, obs) }
            }
        case .appendObservations(let pid, let mid, let first, let obs):
            if !obs.isEmpty {
                try c.copy("COPY observation (portfolio, metric, seq, at, value, source) FROM STDIN") { observationRows(&$0, pid, mid, first, obs) }
            }
        case .setUnresolved(let pid, let refs):
            try c.query("UPDATE portfolio SET unresolved = $1 WHERE id = $2", [try text(refs), pid])
        case .setRevision(let pid, let rev, let updated):
            let r = try c.query("UPDATE portfolio SET revision = $2, updated = $3 WHERE id = $1 AND revision = $2::bigint - 1",
                                [pid, String(rev), updated])
            guard r.affected == 1 else { throw StoreError.conflict(pid, rev) }
        }
    }

    private func observationRows(_ buf: inout CopyBuffer, _ pid: String, _ mid: String, _ first: Int, _ obs: [Observation]) {
        for (i, o) in obs.enumerated() {
            buf.field(pid); buf.field(mid); buf.field(String(first + i)); buf.field(o.at); buf.field(pgDouble(o.value)); buf.field(o.source)
            buf.endRow()
        }
    }

    // MARK: Assessment models and results

    public func putModel(id: String, body: String, updated: String) throws {
        try transaction { c in
            try c.query("""
                INSERT INTO assessment_model (id, updated, body) VALUES ($1, $2, $3)
                ON CONFLICT (id) DO UPDATE SET updated = excluded.updated, body = excluded.body
                """, [id, updated, body])
            try notify(c, "")
        }
    }

    public func deleteModel(id: String) throws {
        try transaction { c in
            try c.query("DELETE FROM assessment_model WHERE id = $1", [id])
            try notify(c, "")
        }
    }

    public func models() throws -> [StoredModel] {
        try transaction(readOnly: true) { c in
            let r = try c.query("SELECT id, updated, body FROM assessment_model ORDER BY id")
            return (0..<r.count).map { StoredModel(id: r.text($0, 0), updated: r.text($0, 1), body: r.text($0, 2)) }
        }
    }

    /// Numbered by the portfolio's counter row, bumped in the statement that inserts the run: concurrent
    /// runs from several processes queue on that row for the length of one statement, and a run rolled
    /// back gives its number back with it. A portfolio's first counter starts after the runs it has.
    public func addRun(portfolio: String, at: String, model: String, score: Double, summary: String, body: String) throws -> Int {
        try transaction { c in try insertRun(c, portfolio: portfolio, at: at, model: model, score: score, summary: summary, body: body) }
    }

    /// Numbers and inserts a kept run in the caller's transaction; returns its number.
    func insertRun(_ c: PGConnection, portfolio: String, at: String, model: String, score: Double, summary: String, body: String) throws -> Int {
        let r = try c.query("""
            WITH n AS (
                INSERT INTO run_counter (portfolio, last)
                VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM assessment_run WHERE portfolio = $1))
                ON CONFLICT (portfolio) DO UPDATE SET last = run_counter.last + 1
                RETURNING last)
            INSERT INTO assessment_run (portfolio, seq, at, model, score, summary, body)
            SELECT $1, n.last, $2, $3, $4, $5, $6 FROM n RETURNING seq
            """, [portfolio, at, model, pgDouble(score), summary, body])
        return r.int(0, 0)
    }

    public func runSummaries(portfolio: String, model: String?) throws -> [KeptRun] {
        try transaction(readOnly: true) { c in
            let r = model == nil
                ? try c.query("SELECT seq, at, model, summary FROM assessment_run WHERE portfolio = $1 ORDER BY seq", [portfolio])
                : try c.query("SELECT seq, at, model, summary FROM assessment_run WHERE portfolio = $1 AND model = $2 ORDER BY seq", [portfolio, model])
            return (0..<r.count).map { KeptRun(seq: r.int($0, 0), at: r.text($0, 1), model: r.text($0, 2), body: r.text($0, 3)) }
        }
    }

    public func runHeaders(portfolio: String) throws -> [(seq: Int, model: String)] {
        try transaction(readOnly: true) { c in
            let r = try c.query("SELECT seq, model FROM assessment_run WHERE portfolio = $1 ORDER BY seq", [portfolio])
            return (0..<r.count).map { (r.int($0, 0), r.text($0, 1)) }
        }
    }

    public func runBody(portfolio: String, seq: Int) throws -> String? {
        try transaction(readOnly: true) { c in
            let r = try c.query("SELECT body FROM assessment_run WHERE portfolio = $1 AND seq = $2", [portfolio, String(seq)])
            return r.count > 0 ? r.text(0, 0) : nil
        }
    }

    /// "ok" when the schema is at this build's version, every table is there and no row points at a
    /// portfolio or metric that is not.
    public func integrityCheck() throws -> String {
        try transaction(readOnly: true) { c in
            let v = try c.query("SELECT max(version) FROM twospeed_schema")
            guard !v.isNull(0, 0), v.int(0, 0) == PostgresStore.currentVersion else { return "schema version is not \(PostgresStore.currentVersion)" }
            let orphans = try c.query("""
                SELECT count(*) FROM observation o WHERE NOT EXISTS
                    (SELECT 1 FROM entity e WHERE e.portfolio = o.portfolio AND e.kind = 'metric' AND e.id = o.metric)
                """)
            let n = orphans.int(0, 0)
            return n == 0 ? "ok" : "\(n) observations of metrics that are not stored"
        }
    }
}

extension StoreChange {
    /// The changes that check a portfolio's revision: every store runs them first in a transaction.
    var isRevisionGuard: Bool {
        switch self {
        case .setRevision, .putPortfolio: return true
        case .deletePortfolio(_, let revision): return revision != nil
        default: return false
        }
    }

    var portfolioID: String? {
        switch self {
        case .putPortfolio(let sp, _): return sp.portfolio.id
        case .deletePortfolio(let id, _): return id
        case .putEntity(let p, _, _, _), .removeEntity(let p, _, _), .replaceObservations(let p, _, _),
             .appendObservations(let p, _, _, _), .setRevision(let p, _, _), .setUnresolved(let p, _): return p
        }
    }
}

/// A double as text PostgreSQL reads back to the same double (Swift prints the shortest exact form).
func pgDouble(_ d: Double) -> String {
    if d.isNaN { return "NaN" }
    if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
    return "\(d)"
}
