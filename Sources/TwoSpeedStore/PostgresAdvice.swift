/// Advice records, dismissals and campaigns over PostgreSQL, with SQLite's answers. Each conditional
/// write checks the row's revision in the statement that writes it, so that two daemons writing one
/// dismissal or campaign at once cannot both succeed from the same revision.
extension PostgresStore: AdviceStore {
    /// Schema step 2 (see PostgresStore.migrations).
    static let adviceMigration = """
        CREATE TABLE advice_run (
            portfolio text COLLATE "C" NOT NULL,
            seq bigint NOT NULL,
            body text NOT NULL,
            PRIMARY KEY (portfolio, seq)
        );
        CREATE TABLE advice_dismissal (
            portfolio text COLLATE "C" NOT NULL,
            id text COLLATE "C" NOT NULL,
            revision bigint NOT NULL,
            updated text NOT NULL,
            body text NOT NULL,
            PRIMARY KEY (portfolio, id)
        );
        CREATE TABLE advice_campaign (
            portfolio text COLLATE "C" NOT NULL,
            id text COLLATE "C" NOT NULL,
            revision bigint NOT NULL,
            updated text NOT NULL,
            body text NOT NULL,
            PRIMARY KEY (portfolio, id)
        );
        """

    public func addRun(portfolio: String, at: String, model: String, score: Double, summary: String, body: String,
                       advice: (_ seq: Int, _ previous: (seq: Int, body: String)?) throws -> String) throws -> Int {
        try transaction { c in
            let seq = try insertRun(c, portfolio: portfolio, at: at, model: model, score: score, summary: summary, body: body)
            let q = try c.query("SELECT seq, body FROM advice_run WHERE portfolio = $1 AND seq < $2 ORDER BY seq DESC LIMIT 1",
                                [portfolio, String(seq)])
            let record = try advice(seq, q.count > 0 ? (q.int(0, 0), q.text(0, 1)) : nil)
            try c.query("INSERT INTO advice_run (portfolio, seq, body) VALUES ($1, $2, $3)", [portfolio, String(seq), record])
            return seq
        }
    }

    public func putAdviceRun(portfolio: String, seq: Int, body: String) throws {
        try transaction { c in
            try c.query("""
                INSERT INTO advice_run (portfolio, seq, body) VALUES ($1, $2, $3)
                ON CONFLICT (portfolio, seq) DO UPDATE SET body = excluded.body
                """, [portfolio, String(seq), body])
        }
    }

    public func adviceRuns(portfolio: String) throws -> [(seq: Int, body: String)] {
        try transaction(readOnly: true) { c in
            let r = try c.query("SELECT seq, body FROM advice_run WHERE portfolio = $1 ORDER BY seq", [portfolio])
            return (0..<r.count).map { (r.int($0, 0), r.text($0, 1)) }
        }
    }

    public func adviceRun(portfolio: String, before seq: Int) throws -> (seq: Int, body: String)? {
        try transaction(readOnly: true) { c in
            let r = try c.query("SELECT seq, body FROM advice_run WHERE portfolio = $1 AND seq < $2 ORDER BY seq DESC LIMIT 1",
                                [portfolio, String(seq)])
            return r.count > 0 ? (r.int(0, 0), r.text(0, 1)) : nil
        }
    }

    private func currentRevision(_ c: PGConnection, _ table: AdviceTable, _ portfolio: String, _ id: String) throws -> Int {
        let r = try c.query("SELECT revision FROM \(table.rawValue) WHERE portfolio = $1 AND id = $2", [portfolio, id])
        return r.count > 0 ? r.int(0, 0) : 0
    }

    public func putAdviceRow(_ table: AdviceTable, portfolio: String, id: String, ifRevision: Int?, updated: String, body: String) throws -> Int {
        try transaction { c in
            let t = table.rawValue
            let params: [String?] = [portfolio, id, updated, body]
            let r: PGResult
            switch ifRevision {
            case nil:
                r = try c.query("INSERT INTO \(t) AS t (portfolio, id, revision, updated, body) VALUES ($1, $2, 1, $3, $4) "
                                + "ON CONFLICT (portfolio, id) DO UPDATE SET revision = t.revision + 1, updated = excluded.updated, "
                                + "body = excluded.body RETURNING revision", params)
            case 0?:
                r = try c.query("INSERT INTO \(t) (portfolio, id, revision, updated, body) VALUES ($1, $2, 1, $3, $4) "
                                + "ON CONFLICT (portfolio, id) DO NOTHING RETURNING revision", params)
            case let n?:
                r = try c.query("UPDATE \(t) SET revision = revision + 1, updated = $3, body = $4 "
                                + "WHERE portfolio = $1 AND id = $2 AND revision = $5 RETURNING revision", params + [String(n)])
            }
            guard r.count == 1 else { throw AdviceRevisionMismatch(current: try currentRevision(c, table, portfolio, id)) }
            return r.int(0, 0)
        }
    }

    public func adviceRow(_ table: AdviceTable, portfolio: String, id: String) throws -> AdviceRow? {
        try transaction(readOnly: true) { c in
            let r = try c.query("SELECT id, revision, updated, body FROM \(table.rawValue) WHERE portfolio = $1 AND id = $2", [portfolio, id])
            return r.count > 0 ? AdviceRow(id: r.text(0, 0), revision: r.int(0, 1), updated: r.text(0, 2), body: r.text(0, 3)) : nil
        }
    }

    public func adviceRows(_ table: AdviceTable, portfolio: String) throws -> [AdviceRow] {
        try transaction(readOnly: true) { c in
            let r = try c.query("SELECT id, revision, updated, body FROM \(table.rawValue) WHERE portfolio = $1 ORDER BY id", [portfolio])
            return (0..<r.count).map { AdviceRow(id: r.text($0, 0), revision: r.int($0, 1), updated: r.text($0, 2), body: r.text($0, 3)) }
        }
    }

    public func deleteAdviceRow(_ table: AdviceTable, portfolio: String, id: String, ifRevision: Int?) throws -> Bool {
        try transaction { c in
            let t = table.rawValue
            switch ifRevision {
            case nil:
                return try c.query("DELETE FROM \(t) WHERE portfolio = $1 AND id = $2 RETURNING revision", [portfolio, id]).count == 1
            case 0?:
                let current = try currentRevision(c, table, portfolio, id)
                if current != 0 { throw AdviceRevisionMismatch(current: current) }
                return false
            case let n?:
                let r = try c.query("DELETE FROM \(t) WHERE portfolio = $1 AND id = $2 AND revision = $3 RETURNING revision", [portfolio, id, String(n)])
                guard r.count == 1 else { throw AdviceRevisionMismatch(current: try currentRevision(c, table, portfolio, id)) }
                return true
            }
        }
    }
}
