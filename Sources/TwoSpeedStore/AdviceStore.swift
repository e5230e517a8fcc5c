/// One row of an advice table as stored: its JSON text with what the engine looks it up by.
public struct AdviceRow: Sendable, Equatable {
    public var id: String
    public var revision: Int
    public var updated: String
    public var body: String
    public init(id: String, revision: Int, updated: String, body: String) {
        self.id = id; self.revision = revision; self.updated = updated; self.body = body
    }
}

/// A write refused because the row is not at the revision the caller expected (0: there is none).
public struct AdviceRevisionMismatch: Error, Sendable {
    public var current: Int
}

/// What recommendation.history, recommendation.dismiss/reopen and the campaign methods keep: each
/// kept run's advice record, dismissals and campaigns, all per portfolio. Apart from PortfolioStore
/// so that a store that keeps none of it still serves everything else (the engine then answers these
/// methods with a store error). The SQL is portable: TEXT and INTEGER columns, composite primary
/// keys, INSERT ... ON CONFLICT DO UPDATE, nothing PostgreSQL does not also accept.
///
/// Like PortfolioStore, every method may be called from any thread and returns once durable.
public protocol AdviceStore: AnyObject, Sendable {
    /// Keeps an assessment result as `addRun` does and its advice record in the same transaction: both
    /// are kept or neither is (a crash between two writes would leave a run without its advice). `advice`
    /// is given the run's number and the record of the latest run kept before it, and returns the
    /// record's JSON text; it runs inside the transaction, so it only computes (it may run more than once
    /// when a server store retries the transaction).
    func addRun(portfolio: String, at: String, model: String, score: Double, summary: String, body: String,
                advice: (_ seq: Int, _ previous: (seq: Int, body: String)?) throws -> String) throws -> Int
    /// Keeps the advice record (JSON text) of kept run `seq`, replacing any.
    func putAdviceRun(portfolio: String, seq: Int, body: String) throws
    /// The advice records of a portfolio's kept runs, oldest first: (seq, JSON text).
    func adviceRuns(portfolio: String) throws -> [(seq: Int, body: String)]
    /// The advice record of the latest kept run before `seq`, or nil.
    func adviceRun(portfolio: String, before seq: Int) throws -> (seq: Int, body: String)?

    /// Puts a row of `table` ("dismissal" or "campaign") when it is at `ifRevision` (nil: any, 0: none
    /// yet); returns its new revision. Throws AdviceRevisionMismatch otherwise.
    func putAdviceRow(_ table: AdviceTable, portfolio: String, id: String, ifRevision: Int?, updated: String, body: String) throws -> Int
    func adviceRow(_ table: AdviceTable, portfolio: String, id: String) throws -> AdviceRow?
    /// Every row of the portfolio, by id.
    func adviceRows(_ table: AdviceTable, portfolio: String) throws -> [AdviceRow]
    /// Deletes the row when it is at `ifRevision` (nil: any); false when there was none.
    func deleteAdviceRow(_ table: AdviceTable, portfolio: String, id: String, ifRevision: Int?) throws -> Bool
}

public enum AdviceTable: String, Sendable, CaseIterable {
    case dismissal = "advice_dismissal"
    case campaign = "advice_campaign"
}

extension SQLiteStore: AdviceStore {
    /// Schema step 6 (see SQLiteStore.migrations).
    static let adviceMigration = """
        CREATE TABLE advice_run (
            portfolio TEXT NOT NULL,
            seq INTEGER NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (portfolio, seq)
        );
        CREATE TABLE advice_dismissal (
            portfolio TEXT NOT NULL,
            id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            updated TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (portfolio, id)
        );
        CREATE TABLE advice_campaign (
            portfolio TEXT NOT NULL,
            id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            updated TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (portfolio, id)
        );
        """

    public func addRun(portfolio: String, at: String, model: String, score: Double, summary: String, body: String,
                       advice: (_ seq: Int, _ previous: (seq: Int, body: String)?) throws -> String) throws -> Int {
        try writing { conn in
            try conn.transaction {
                let seq = try insertRun(conn, portfolio: portfolio, at: at, model: model, score: score, summary: summary, body: body)
                let q = try conn.prepare("SELECT seq, body FROM advice_run WHERE portfolio = ? AND seq < ? ORDER BY seq DESC LIMIT 1")
                try q.bind([.text(portfolio), .int(seq)])
                let previous = try q.step() ? (seq: q.int(0), body: q.text(1)) : nil
                q.reset()
                let record = try advice(seq, previous)
                try conn.prepare("INSERT INTO advice_run (portfolio, seq, body) VALUES (?, ?, ?)").run([.text(portfolio), .int(seq), .text(record)])
                return seq
            }
        }
    }

    public func putAdviceRun(portfolio: String, seq: Int, body: String) throws {
        try writing { conn in
            try conn.transaction {
                try conn.prepare("""
                    INSERT INTO advice_run (portfolio, seq, body) VALUES (?, ?, ?)
                    ON CONFLICT (portfolio, seq) DO UPDATE SET body = excluded.body
                    """).run([.text(portfolio), .int(seq), .text(body)])
            }
        }
    }

    public func adviceRuns(portfolio: String) throws -> [(seq: Int, body: String)] {
        try reading { conn in
            let s = try conn.prepare("SELECT seq, body FROM advice_run WHERE portfolio = ? ORDER BY seq")
            try s.bind([.text(portfolio)])
            var out: [(seq: Int, body: String)] = []
            while try s.step() { out.append((s.int(0), s.text(1))) }
            return out
        }
    }

    public func adviceRun(portfolio: String, before seq: Int) throws -> (seq: Int, body: String)? {
        try reading { conn in
            let s = try conn.prepare("SELECT seq, body FROM advice_run WHERE portfolio = ? AND seq < ? ORDER BY seq DESC LIMIT 1")
            try s.bind([.text(portfolio), .int(seq)])
            return try s.step() ? (s.int(0), s.text(1)) : nil
        }
    }

    public func putAdviceRow(_ table: AdviceTable, portfolio: String, id: String, ifRevision: Int?, updated: String, body: String) throws -> Int {
        try writing { conn in
            try conn.transaction {
                let current = try revision(conn, table, portfolio, id)
                if let ifRevision, ifRevision != current { throw AdviceRevisionMismatch(current: current) }
                try conn.prepare("""
                    INSERT INTO \(table.rawValue) (portfolio, id, revision, updated, body) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (portfolio, id) DO UPDATE SET revision = excluded.revision, updated = excluded.updated, body = excluded.body
                    """).run([.text(portfolio), .text(id), .int(current + 1), .text(updated), .text(body)])
                return current + 1
            }
        }
    }

    private func revision(_ conn: Connection, _ table: AdviceTable, _ portfolio: String, _ id: String) throws -> Int {
        let q = try conn.prepare("SELECT revision FROM \(table.rawValue) WHERE portfolio = ? AND id = ?")
        defer { q.reset() }
        try q.bind([.text(portfolio), .text(id)])
        return try q.step() ? q.int(0) : 0
    }

    public func adviceRow(_ table: AdviceTable, portfolio: String, id: String) throws -> AdviceRow? {
        try reading { conn in
            let s = try conn.prepare("SELECT id, revision, updated, body FROM \(table.rawValue) WHERE portfolio = ? AND id = ?")
            try s.bind([.text(portfolio), .text(id)])
            return try s.step() ? AdviceRow(id: s.text(0), revision: s.int(1), updated: s.text(2), body: s.text(3)) : nil
        }
    }

    public func adviceRows(_ table: AdviceTable, portfolio: String) throws -> [AdviceRow] {
        try reading { conn in
            let s = try conn.prepare("SELECT id, revision, updated, body FROM \(table.rawValue) WHERE portfolio = ? ORDER BY id")
            try s.bind([.text(portfolio)])
            var out: [AdviceRow] = []
            while try s.step() { out.append(AdviceRow(id: s.text(0), revision: s.int(1), updated: s.text(2), body: s.text(3))) }
            return out
        }
    }

    public func deleteAdviceRow(_ table: AdviceTable, portfolio: String, id: String, ifRevision: Int?) throws -> Bool {
        try writing { conn in
            try conn.transaction {
                let current = try revision(conn, table, portfolio, id)
                if let ifRevision, ifRevision != current { throw AdviceRevisionMismatch(current: current) }
                guard current > 0 else { return false }
                try conn.prepare("DELETE FROM \(table.rawValue) WHERE portfolio = ? AND id = ?").run([.text(portfolio), .text(id)])
                return true
            }
        }
    }
}
