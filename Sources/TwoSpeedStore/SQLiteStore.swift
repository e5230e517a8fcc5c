import CSQLite
import Glibc
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedSync

/// The SQLite store. Entities are rows of JSON text, one per entity, so that a single upsert rewrites
/// one row; observations have their own table, so that appending one never rewrites its metric.
/// Durability: WAL with synchronous=FULL, so a write is on disk before its reply is sent.
///
/// Thread-safe by construction: SQLite connections are opened without SQLite's own mutexes, so each one
/// (and its statement cache) is reachable only through a lock. Writes go through the one writer
/// connection under its lock. Reads of a file store take a reader connection of their own from a small
/// pool (WAL lets them read the last commit while a write goes on); an in-memory database exists only
/// in its one connection, so there reads share the writer's lock.
public final class SQLiteStore: PortfolioStore, @unchecked Sendable {
    public let path: String
    public let inMemory: Bool
    public var schemaVersion: Int { SQLiteStore.currentVersion }
    /// The version the file was at before this open migrated it (0 for a new store).
    public let openedAtVersion: Int
    private let writer: Locked<Connection>
    /// The device and inode of the file the store opened (nil in memory). Before each write transaction
    /// the path must still lead to that file: a store removed or replaced under a running engine would
    /// otherwise take writes into a file no one will ever open again.
    private let identity: FileIdentity?
    /// Idle reader connections; a read takes one out, or opens one, and puts it back when done.
    private let idleReaders = Locked<[Connection]>([])
    /// Readers kept open between reads; more are opened under load and closed when given back.
    static let maxIdleReaders = 4

    /// Store files are created readable by their owner only, as the daemon's socket is.
    public static let defaultFileMode: mode_t = 0o600

    /// The schema version this build writes; older stores migrate forward on open.
    public static let currentVersion = 7

    /// Each step takes the store from version i to i+1.
    static let migrations: [String] = [
        """
        CREATE TABLE portfolio (
            id TEXT PRIMARY KEY,
            revision INTEGER NOT NULL,
            updated TEXT NOT NULL,
            organization TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE entity (
            portfolio TEXT NOT NULL REFERENCES portfolio(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            position INTEGER NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (portfolio, kind, id)
        ) WITHOUT ROWID;
        CREATE TABLE observation (
            portfolio TEXT NOT NULL REFERENCES portfolio(id) ON DELETE CASCADE,
            metric TEXT NOT NULL,
            seq INTEGER NOT NULL,
            at TEXT NOT NULL,
            value REAL NOT NULL,
            source TEXT,
            PRIMARY KEY (portfolio, metric, seq)
        ) WITHOUT ROWID;
        """,
        // 2: self-assessment answers beside the organization; assessment models and kept results.
        """
        ALTER TABLE portfolio ADD COLUMN answers TEXT NOT NULL DEFAULT '[]';
        CREATE TABLE assessment_model (
            id TEXT PRIMARY KEY,
            updated TEXT NOT NULL,
            body TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE assessment_run (
            portfolio TEXT NOT NULL,
            seq INTEGER NOT NULL,
            at TEXT NOT NULL,
            model TEXT NOT NULL,
            score REAL NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (portfolio, seq)
        ) WITHOUT ROWID;
        """,
        // 3: each kept run's summary (asOf, revision, overall, the score of each dimension) beside its
        // result, so that assessment.history reads no whole result; runs kept before are summarized here.
        """
        ALTER TABLE assessment_run ADD COLUMN summary TEXT NOT NULL DEFAULT '{}';
        UPDATE assessment_run SET summary = json_object(
            'asOf', json_extract(body, '$.asOf'),
            'revision', json_extract(body, '$.revision'),
            'overall', json(json_extract(body, '$.overall')),
            'dimensions', (SELECT json_group_object(json_extract(d.value, '$.id'), json_extract(d.value, '$.score'))
                           FROM json_each(body, '$.dimensions') AS d WHERE json_extract(d.value, '$.score') IS NOT NULL));
        """,
        // 4: delivery events (DeliveryStore.swift), one row each, keyed by the caller's id so that
        // recording an event again replaces it rather than counting it twice. Times are UTC epoch
        // seconds; a deployment's changes are "committed:id" pairs joined by commas, read in one column.
        """
        CREATE TABLE deployment (
            portfolio TEXT NOT NULL,
            id TEXT NOT NULL,
            system TEXT NOT NULL,
            at INTEGER NOT NULL,
            failed INTEGER NOT NULL,
            changes TEXT NOT NULL,
            PRIMARY KEY (portfolio, id)
        ) WITHOUT ROWID;
        CREATE TABLE incident (
            portfolio TEXT NOT NULL,
            id TEXT NOT NULL,
            system TEXT NOT NULL,
            started INTEGER NOT NULL,
            resolved INTEGER,
            cause TEXT,
            PRIMARY KEY (portfolio, id)
        ) WITHOUT ROWID;
        """,
        // 5: the references a portfolio's sources make to entities it does not hold, beside the answers.
        """
        ALTER TABLE portfolio ADD COLUMN unresolved TEXT NOT NULL DEFAULT '[]';
        """,
        // 6: advice records of kept runs, dismissals and campaigns (AdviceStore.swift).
        SQLiteStore.adviceMigration,
        // 7: every table that belongs to a portfolio references it, so that deleting the portfolio deletes
        // its rows (see foreignKeyMigration).
        SQLiteStore.foreignKeyMigration,
    ]

    /// The tables that belong to a portfolio but were created without a foreign key to it, as they are
    /// rebuilt by step 7 (SQLite cannot add a constraint to a table): the same columns in the same order,
    /// the key added. Rows of a portfolio the store no longer holds (left by a delete of an earlier
    /// version, or written while it was being deleted) are dropped: no method could read them, and they
    /// would have come back as the history of a new portfolio given the same id. Every other row is kept.
    static let foreignKeyTables: [(name: String, columns: String, key: String, rowid: Bool)] = [
        ("assessment_run", "seq INTEGER NOT NULL, at TEXT NOT NULL, model TEXT NOT NULL, score REAL NOT NULL, body TEXT NOT NULL, "
            + "summary TEXT NOT NULL DEFAULT '{}'", "seq", false),
        ("deployment", "id TEXT NOT NULL, system TEXT NOT NULL, at INTEGER NOT NULL, failed INTEGER NOT NULL, changes TEXT NOT NULL", "id", false),
        ("incident", "id TEXT NOT NULL, system TEXT NOT NULL, started INTEGER NOT NULL, resolved INTEGER, cause TEXT", "id", false),
        ("advice_run", "seq INTEGER NOT NULL, body TEXT NOT NULL", "seq", true),
        ("advice_dismissal", "id TEXT NOT NULL, revision INTEGER NOT NULL, updated TEXT NOT NULL, body TEXT NOT NULL", "id", true),
        ("advice_campaign", "id TEXT NOT NULL, revision INTEGER NOT NULL, updated TEXT NOT NULL, body TEXT NOT NULL", "id", true),
    ]

    static var foreignKeyMigration: String {
        foreignKeyTables.map { t in
            """
            DELETE FROM \(t.name) WHERE portfolio NOT IN (SELECT id FROM portfolio);
            CREATE TABLE \(t.name)_new (
                portfolio TEXT NOT NULL REFERENCES portfolio(id) ON DELETE CASCADE,
                \(t.columns),
                PRIMARY KEY (portfolio, \(t.key))
            )\(t.rowid ? "" : " WITHOUT ROWID");
            INSERT INTO \(t.name)_new SELECT * FROM \(t.name);
            DROP TABLE \(t.name);
            ALTER TABLE \(t.name)_new RENAME TO \(t.name);

            """
        }.joined()
    }

    /// Opens (creating if needed) the store at `path`; nil or ":memory:" keeps it in memory. A new file
    /// is created with `fileMode` (less the umask); SQLite gives its -wal and -shm files the same mode.
    ///
    /// A file that is not a TwoSpeed store, or a newer one, is refused before anything is written to it:
    /// it is left byte for byte as it was.
    public init(path: String?, fileMode: mode_t = SQLiteStore.defaultFileMode) throws {
        let p = path ?? ":memory:"
        self.path = p
        inMemory = p == ":memory:" || p.isEmpty
        if !inMemory { SQLiteStore.create(p, mode: fileMode) }
        let c = try Connection(path: inMemory ? ":memory:" : p)
        if !inMemory { try c.exec("PRAGMA busy_timeout = 5000") }
        // Reads only, until the file is known to be ours and not too new.
        let version = try SQLiteStore.check(c, p)
        try c.exec("PRAGMA foreign_keys = ON")
        if !inMemory {
            let s = try c.prepare("PRAGMA journal_mode = WAL")
            defer { s.reset() }
            _ = try s.step()
            try c.exec("PRAGMA synchronous = FULL")
        }
        try SQLiteStore.migrate(c, from: version)
        openedAtVersion = version
        writer = Locked(c)
        identity = inMemory ? nil : FileIdentity(path: p)
    }

    /// Creates the file with the mode asked for when it does not exist (SQLite would use 0644).
    /// An existing file is opened as it is; any other failure is SQLite's to report, in its words.
    private static func create(_ path: String, mode: mode_t) {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        if fd >= 0 { close(fd) }
    }


    /// The schema version of the file, refusing someone else's database and a newer store.
    private static func check(_ c: Connection, _ path: String) throws -> Int {
        // Reading the version also proves the file is a database.
        let version: Int
        do { version = try c.intPragma("user_version") } catch let e as StoreError {
            // Only SQLite's "not a database" and "malformed" say the file is not ours; anything else (a WAL
            // store in a read-only folder cannot make its -shm file) is the file not opening.
            guard e.kind == .corrupt else {
                let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
                let hint = access(folder.isEmpty ? "/" : folder, W_OK) == 0 ? ""
                    : " (its folder is not writable, and the store needs its -wal and -shm files beside it)"
                throw StoreError(kind: .open, message: "cannot open store \"\(path)\": \(e.message)\(hint)")
            }
            throw StoreError(kind: .corrupt, message: "\"\(path)\" is not a TwoSpeed store: \(e.message)")
        }
        if version > SQLiteStore.currentVersion {
            throw StoreError(kind: .schemaTooNew,
                             message: "store \"\(path)\" has schema version \(version); this library reads up to \(SQLiteStore.currentVersion)")
        }
        if version == 0 {
            // A database with tables but no version is someone else's: refuse it rather than add ours.
            let s = try c.prepare("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
            defer { s.reset() }
            if try s.step(), s.int(0) > 0 {
                throw StoreError(kind: .corrupt, message: "\"\(path)\" is an SQLite database but not a TwoSpeed store")
            }
        }
        return version
    }

    private static func migrate(_ c: Connection, from version: Int) throws {
        if version == SQLiteStore.currentVersion { return }
        try c.transaction {
            for v in version..<SQLiteStore.currentVersion {
                try c.exec(SQLiteStore.migrations[v])
            }
            try c.exec("PRAGMA user_version = \(SQLiteStore.currentVersion)")
        }
    }

    // MARK: Connections

    /// Runs `body` on the writer connection, alone.
    func writing<T>(_ body: (Connection) throws -> T) throws -> T {
        try writer.write { c in
            defer { c.resetAll() }
            try checkIdentity()
            try c.restoreForeignKeys()
            return try body(c)
        }
    }

    /// Throws when the file at `path` is no longer the one opened (removed, renamed away, replaced).
    private func checkIdentity() throws {
        guard let identity else { return }
        let current = FileIdentity(path: path)
        guard current != identity else { return }
        throw StoreError(kind: .io, message: "the store file \"\(path)\" was " + (current == nil ? "removed" : "replaced by another file")
                         + " since the engine opened it; nothing was written. Restart the engine (twospeedd) to open the file now at that path")
    }

    /// Runs `body` on a connection no other thread is using, that reads the last committed state.
    func reading<T>(_ body: (Connection) throws -> T) throws -> T {
        if inMemory { return try writing(body) }
        let c = try idleReaders.write { $0.popLast() } ?? openReader()
        defer {
            // A statement left mid-way would hold its read transaction open and keep the WAL from
            // being checkpointed.
            c.resetAll()
            idleReaders.write { if $0.count < SQLiteStore.maxIdleReaders { $0.append(c) } }
        }
        return try body(c)
    }

    private func openReader() throws -> Connection {
        let c = try Connection(path: path, create: false)
        try c.exec("PRAGMA busy_timeout = 5000")
        // Readers write nothing, but every connection enforces the keys: none may ever be the exception.
        try c.exec("PRAGMA foreign_keys = ON")
        try c.exec("PRAGMA query_only = ON")
        return c
    }

    /// Every portfolio in the store, entities in their stored order.
    public func loadAll() throws -> [StoredPortfolio] { try reading { c in try c.readTransaction { try loadAll(c) } } }

    public func loadPortfolio(id: String) throws -> StoredPortfolio? {
        try reading { c in try c.readTransaction { try loadAll(c, only: id).first } }
    }

    /// Linear in the store's size: each portfolio's collections are decoded kind by kind and assigned
    /// once, observations are gathered per metric and assigned once, and the index and counts are
    /// built once at the end.
    /// With `only`, that portfolio alone.
    private func loadAll(_ conn: Connection, only: String? = nil) throws -> [StoredPortfolio] {
        struct Loading { var portfolio: Portfolio; var revision: Int; var updated: String }
        var loading: [Loading] = []
        var slot: [String: Int] = [:]
        let dec = JanssonDecoder()
        let ps = try conn.prepare("SELECT id, revision, updated, organization, answers, unresolved FROM portfolio"
                                  + (only == nil ? " ORDER BY id" : " WHERE id = ?")).bind(only.map { [.text($0)] } ?? [])
        while try ps.step() {
            let id = ps.text(0)
            let org: Organization = try decode(ps.bytes(3), dec, "organization of \(id)")
            var p = Portfolio(id: id, organization: org)
            p.answers = try decode(ps.bytes(4), dec, "answers of \(id)")
            p.unresolved = try decode(ps.bytes(5), dec, "unresolved references of \(id)")
            slot[id] = loading.count
            loading.append(Loading(portfolio: p, revision: ps.int(1), updated: ps.text(2)))
        }

        // Rows come grouped by portfolio and kind, in position order: one group is one collection, built
        // row by row (each row's JSON let go once decoded) and assigned once.
        var group: (slot: Int, kind: EntityKind, loader: any EntityLoader)? = nil
        func finish() {
            guard let g = group else { return }
            g.loader.finish(into: &loading[g.slot].portfolio)
        }
        let es = try conn.prepare("SELECT portfolio, kind, body FROM entity" + (only == nil ? "" : " WHERE portfolio = ?")
                                  + " ORDER BY portfolio, kind, position").bind(only.map { [.text($0)] } ?? [])
        while try es.step() {
            let pid = es.text(0)
            guard let s = slot[pid], let kind = EntityKind(rawValue: es.text(1)) else { continue }
            if group?.slot != s || group?.kind != kind {
                finish()
                group = (s, kind, kind.info.loader())
            }
            switch try JSON.parse(es.bytes(2)) {
            case .failure(let e): throw StoreError(kind: .corrupt, message: "\(kind.rawValue) in \(pid): \(e.reason)")
            case .success(let v):
                do { try group!.loader.add(v.ref, dec) } catch {
                    throw StoreError(kind: .corrupt, message: "\(kind.rawValue) in \(pid): \(error)")
                }
            }
        }
        finish()

        let os = try conn.prepare("SELECT portfolio, metric, at, value, source FROM observation" + (only == nil ? "" : " WHERE portfolio = ?")
                                  + " ORDER BY portfolio, metric, seq").bind(only.map { [.text($0)] } ?? [])
        var current: (slot: Int, metric: Int)? = nil
        var lastKey = ("", "")
        var obs: [Observation] = []
        func assign() {
            if let c = current, !obs.isEmpty { loading[c.slot].portfolio.metrics[c.metric].observations = obs }
            obs = []
        }
        var metricPositions: [Int: [String: Int]] = [:]
        while try os.step() {
            let pid = os.text(0), mid = os.text(1)
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
            obs.append(Observation(at: os.text(2), value: os.double(3), source: os.isNull(4) ? nil : os.text(4)))
        }
        assign()
        return loading.map { StoredPortfolio(portfolio: $0.portfolio, revision: $0.revision, updated: $0.updated) }
    }

    /// Applies every change in one transaction. When it returns, the changes are durable.
    public func apply(_ changes: [StoreChange]) throws {
        try writing { conn in
            // A batch of portfolio deletes runs with the connection's foreign keys off (see
            // deleteOwnedRows); it holds no insert that the keys should check.
            let onlyDeletes = !changes.isEmpty && changes.allSatisfy { if case .deletePortfolio = $0 { true } else { false } }
            let deletesOnly = try onlyDeletes && SQLiteStore.ownedTables(conn) != nil
            func run() throws {
                try conn.transaction {
                    var next = NextPositions()
                    // The revision checks first: a write based on a stale read (another process's engine on
                    // the same file) writes nothing.
                    for c in changes where c.isRevisionGuard { try write(c, conn, &next) }
                    for c in changes where !c.isRevisionGuard { try write(c, conn, &next) }
                }
            }
            if deletesOnly { try conn.withoutForeignKeys(run) } else { try run() }
        }
    }

    /// With the connection's foreign keys off (apply's batches of deletes), deletes portfolio `id`'s rows
    /// from every table that references portfolio(id), as the cascade would, table by table.
    ///
    /// Why: SQLite deletes rows of a table that takes part in a foreign key in two passes (every key of
    /// the rows collected into a temporary index, then each looked up and deleted), and a cascade is such
    /// a delete. Deleting a portfolio with 1M delivery events took 3 times the time and 6 times the CPU
    /// of the same DELETEs with the keys off; no index helps, the plan uses the primary key either way (make bench:
    /// "portfolio delete with 1M delivery events / sqlite3 floor"). The tables are read from the schema,
    /// so that none can be forgotten; if any key is not one of those (a child's child, which this
    /// would miss), apply leaves the keys on and the cascade does it all.
    func deleteOwnedRows(_ conn: Connection, _ id: String) throws {
        guard try conn.intPragma("foreign_keys") == 0 else { return }
        guard let owned = try SQLiteStore.ownedTables(conn) else {
            // apply saw none before the transaction: the schema changed since (a newer build migrated it).
            throw StoreError(kind: .io, message: "the store's foreign keys changed under the engine; portfolio \"\(id)\" was not deleted")
        }
        for t in owned {
            try conn.prepare("DELETE FROM \"\(t.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\""))\" WHERE portfolio = ?").run([.text(id)])
        }
    }

    /// The tables whose rows belong to a portfolio (a foreign key portfolio -> portfolio(id) ON DELETE
    /// CASCADE), by the schema; nil if any foreign key is another one (a child's child would be missed).
    static func ownedTables(_ conn: Connection) throws -> [String]? {
        let q = try conn.prepare("""
            SELECT m.name, k."table" = 'portfolio' AND k."from" = 'portfolio' AND k."to" = 'id' AND k.on_delete = 'CASCADE'
            FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS k WHERE m.type = 'table' ORDER BY m.name
            """)
        defer { q.reset() }
        var owned: [String] = []
        while try q.step() {
            guard q.int(1) == 1 else { return nil }
            owned.append(q.text(0))
        }
        return owned
    }

    /// The next free position of each collection written in one transaction: read once with MAX and
    /// counted on from there, so that an import of n new entities costs n inserts, not n scans.
    struct NextPositions {
        var byCollection: [String: Int] = [:]

        mutating func take(_ conn: Connection, _ pid: String, _ kind: EntityKind) throws -> Int {
            let key = pid + "\u{0}" + kind.rawValue
            if let n = byCollection[key] { byCollection[key] = n + 1; return n }
            let q = try conn.prepare("SELECT COALESCE(MAX(position), -1) + 1 FROM entity WHERE portfolio = ? AND kind = ?")
            defer { q.reset() }
            try q.bind([.text(pid), .text(kind.rawValue)])
            _ = try q.step()
            let n = q.int(0)
            byCollection[key] = n + 1
            return n
        }
    }

    func write(_ change: StoreChange, _ conn: Connection, _ next: inout NextPositions) throws {
        switch change {
        case .putPortfolio(let sp, let document):
            let p = sp.portfolio
            let enc = JanssonEncoder()
            var org = p.organization
            org.departments = []
            // Revision 1 creates (the portfolio must not exist); any other replaces the revision before it.
            try conn.prepare(sp.revision == 1 ? """
                INSERT INTO portfolio (id, revision, updated, organization, answers, unresolved) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                ON CONFLICT(id) DO NOTHING
                """ : """
                UPDATE portfolio SET revision = ?2, updated = ?3, organization = ?4, answers = ?5, unresolved = ?6
                WHERE id = ?1 AND revision = ?2 - 1
                """).run([.text(p.id), .int(sp.revision), .text(sp.updated), .text(try text(org, dropping: "departments")),
                          .text(try text(p.answers)), .text(try text(p.unresolved))])
            guard sqlite3_changes(conn.db) == 1 else { throw StoreError.conflict(p.id, sp.revision) }
            try conn.prepare("DELETE FROM entity WHERE portfolio = ?").run([.text(p.id)])
            try conn.prepare("DELETE FROM observation WHERE portfolio = ?").run([.text(p.id)])
            let ins = "INSERT INTO entity (portfolio, kind, id, position, body) VALUES (?, ?, ?, ?, ?)"
            for kind in EntityKind.allCases {
                // The collection as sent, when it is there and in step with the decoded portfolio.
                var sent: JSONRef? = document
                for key in kind.collectionPointer { sent = sent?[key] }
                let ids = p.ids(of: kind)
                if let s = sent, !(s.isArray && s.count == ids.count) { sent = nil }
                for (i, id) in ids.enumerated() {
                    let body: String
                    if let s = sent, let element = s[i], element.isObject {
                        body = kind.detachedMembers.isEmpty ? try JSONText.encode(element) : try JSONText.encode(element, without: kind.detachedMembers)
                    } else {
                        // One entity encoded at a time and let go: the store holds no second copy of the document.
                        let json = JSON(adopting: try p.encodeEntity(kind, at: i, enc))
                        for member in kind.detachedMembers { json.remove(member) }
                        body = try json.encoded()
                    }
                    try conn.prepare(ins).run([.text(p.id), .text(kind.rawValue), .text(id), .int(i), .text(body)])
                }
            }
            for m in p.metrics where !m.observations.isEmpty {
                try insertObservations(conn, p.id, m.id, 0, m.observations)
            }
        case .deletePortfolio(let id, let revision):
            // Every table that belongs to a portfolio references it ON DELETE CASCADE: with the keys on,
            // this one statement deletes its entities, observations, kept runs, delivery events and advice.
            if let revision {
                try conn.prepare("DELETE FROM portfolio WHERE id = ? AND revision = ?").run([.text(id), .int(revision)])
                guard sqlite3_changes(conn.db) == 1 else { throw StoreError.deleteConflict(id, revision) }
            } else {
                try conn.prepare("DELETE FROM portfolio WHERE id = ?").run([.text(id)])
            }
            try deleteOwnedRows(conn, id)
        case .putEntity(let pid, let kind, let id, let body):
            // The body is borrowed for the call; the store writes a copy without observations.
            let copy = try JSONView(body).copy()
            for member in kind.detachedMembers { copy.remove(member) }
            // A position is taken for a replaced entity too (it keeps its own): a gap orders the same.
            let position = try next.take(conn, pid, kind)
            try conn.prepare("""
                INSERT INTO entity (portfolio, kind, id, position, body) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(portfolio, kind, id) DO UPDATE SET body = excluded.body
                """).run([.text(pid), .text(kind.rawValue), .text(id), .int(position), .text(try copy.encoded())])
        case .removeEntity(let pid, let kind, let id):
            try conn.prepare("DELETE FROM entity WHERE portfolio = ? AND kind = ? AND id = ?")
                .run([.text(pid), .text(kind.rawValue), .text(id)])
            // Its unresolved references go with it (the model's remove drops them from memory alike).
            try conn.prepare("""
                UPDATE portfolio SET unresolved = (SELECT json_group_array(json(u.value)) FROM json_each(unresolved) AS u
                    WHERE NOT (json_extract(u.value, '$.kind') = ?1 AND json_extract(u.value, '$.id') = ?2))
                WHERE id = ?3 AND unresolved <> '[]'
                """).run([.text(kind.rawValue), .text(id), .text(pid)])
            if kind == .metric {
                try conn.prepare("DELETE FROM observation WHERE portfolio = ? AND metric = ?").run([.text(pid), .text(id)])
            }
        case .replaceObservations(let pid, let mid, let obs):
            try conn.prepare("DELETE FROM observation WHERE portfolio = ? AND metric = ?").run([.text(pid), .text(mid)])
            try insertObservations(conn, pid, mid, 0, obs)
        case .appendObservations(let pid, let mid, let first, let obs):
            try insertObservations(conn, pid, mid, first, obs)
        case .setUnresolved(let pid, let refs):
            try conn.prepare("UPDATE portfolio SET unresolved = ? WHERE id = ?").run([.text(try text(refs)), .text(pid)])
        case .setRevision(let pid, let rev, let updated):
            try conn.prepare("UPDATE portfolio SET revision = ?1, updated = ?2 WHERE id = ?3 AND revision = ?1 - 1")
                .run([.int(rev), .text(updated), .text(pid)])
            guard sqlite3_changes(conn.db) == 1 else { throw StoreError.conflict(pid, rev) }
        }
    }

    private func insertObservations(_ conn: Connection, _ pid: String, _ mid: String, _ first: Int, _ obs: [Observation]) throws {
        let sql = "INSERT INTO observation (portfolio, metric, seq, at, value, source) VALUES (?, ?, ?, ?, ?, ?)"
        for (i, o) in obs.enumerated() {
            try conn.prepare(sql).run([.text(pid), .text(mid), .int(first + i), .text(o.at), .double(o.value),
                                       o.source.map { .text($0) }])
        }
    }

    private func text<T: Encodable>(_ value: T, dropping key: String? = nil) throws -> String {
        let v = try JSON.encoding(value)
        if let key { v.remove(key) }
        return try v.encoded()
    }

    // MARK: Assessment models and results

    /// Stores (or replaces) an assessment model as JSON text.
    public func putModel(id: String, body: String, updated: String) throws {
        try writing { conn in
            try conn.transaction {
                try conn.prepare("""
                    INSERT INTO assessment_model (id, updated, body) VALUES (?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET updated = excluded.updated, body = excluded.body
                    """).run([.text(id), .text(updated), .text(body)])
            }
        }
    }

    public func deleteModel(id: String) throws {
        try writing { conn in
            try conn.transaction { try conn.prepare("DELETE FROM assessment_model WHERE id = ?").run([.text(id)]) }
        }
    }

    /// Every stored model: (id, updated, JSON text), by id.
    public func models() throws -> [StoredModel] {
        try reading { conn in
            let s = try conn.prepare("SELECT id, updated, body FROM assessment_model ORDER BY id")
            var out: [StoredModel] = []
            while try s.step() { out.append(StoredModel(id: s.text(0), updated: s.text(1), body: s.text(2))) }
            return out
        }
    }

    /// Keeps an assessment result; returns its sequence number within the portfolio (1, 2, ...).
    /// The texts come ready: the writer's lock is held only to number the run and insert it.
    public func addRun(portfolio: String, at: String, model: String, score: Double, summary: String, body: String) throws -> Int {
        // Numbered inside the writer's transaction, so that runs of one portfolio never share a number.
        try writing { conn in
            try conn.transaction { try insertRun(conn, portfolio: portfolio, at: at, model: model, score: score, summary: summary, body: body) }
        }
    }

    /// Numbers and inserts a kept run in the caller's transaction; returns its number.
    func insertRun(_ conn: Connection, portfolio: String, at: String, model: String, score: Double, summary: String, body: String) throws -> Int {
        let q = try conn.prepare("SELECT COALESCE(MAX(seq), 0) + 1 FROM assessment_run WHERE portfolio = ?")
        try q.bind([.text(portfolio)])
        _ = try q.step()
        let seq = q.int(0)
        q.reset()
        try conn.prepare("INSERT INTO assessment_run (portfolio, seq, at, model, score, summary, body) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .run([.text(portfolio), .int(seq), .text(at), .text(model), .double(score), .text(summary), .text(body)])
        return seq
    }

    /// The kept runs of a portfolio (of one model, when given), oldest first, with their summaries
    /// and without their results.
    public func runSummaries(portfolio: String, model: String?) throws -> [KeptRun] {
        let sql = model == nil
            ? "SELECT seq, at, model, summary FROM assessment_run WHERE portfolio = ? ORDER BY seq"
            : "SELECT seq, at, model, summary FROM assessment_run WHERE portfolio = ? AND model = ? ORDER BY seq"
        return try reading { conn in
            let s = try conn.prepare(sql)
            try s.bind(model.map { [.text(portfolio), .text($0)] } ?? [.text(portfolio)])
            var out: [KeptRun] = []
            while try s.step() { out.append(KeptRun(seq: s.int(0), at: s.text(1), model: s.text(2), body: s.text(3))) }
            return out
        }
    }

    /// The kept results of a portfolio without their bodies, oldest first: enough to choose which to read.
    public func runHeaders(portfolio: String) throws -> [(seq: Int, model: String)] {
        try reading { conn in
            let s = try conn.prepare("SELECT seq, model FROM assessment_run WHERE portfolio = ? ORDER BY seq")
            try s.bind([.text(portfolio)])
            var out: [(seq: Int, model: String)] = []
            while try s.step() { out.append((s.int(0), s.text(1))) }
            return out
        }
    }

    /// One kept result's JSON text, or nil.
    public func runBody(portfolio: String, seq: Int) throws -> String? {
        try reading { conn in
            let s = try conn.prepare("SELECT body FROM assessment_run WHERE portfolio = ? AND seq = ?")
            try s.bind([.text(portfolio), .int(seq)])
            return try s.step() ? s.text(0) : nil
        }
    }

    /// The store's integrity as SQLite sees it ("ok" when sound).
    public func integrityCheck() throws -> String {
        try reading { conn in
            let s = try conn.prepare("PRAGMA quick_check")
            guard try s.step() else { return "no answer" }
            return s.text(0)
        }
    }
}

/// Which file a path leads to: its device and inode.
struct FileIdentity: Equatable {
    var device: UInt64
    var inode: UInt64

    init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }
}
