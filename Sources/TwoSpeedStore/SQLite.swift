import CSQLite
import TwoSpeedJSON
import Glibc

/// A failure of the store, with SQLite's own words.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        case open, schemaTooNew, io, corrupt
        /// `apply` found a portfolio at another revision in the store than the one its changes follow
        /// (another process wrote it since this engine read it); nothing was written.
        case revisionConflict
    }
    public var kind: Kind
    public var message: String
    /// With `.revisionConflict`: the portfolio's revision in the store, when the store says (0 when it has none).
    public var currentRevision: Int?
    /// Sending the same request again may succeed (a server connection lost or busy); nothing was written.
    public var retryable: Bool
    public var description: String { message }
    public init(kind: Kind, message: String, currentRevision: Int? = nil, retryable: Bool = false) {
        self.kind = kind; self.message = message; self.currentRevision = currentRevision; self.retryable = retryable
    }
}

// SQLITE_TRANSIENT is a macro casting -1 to a function pointer; Swift cannot import it.
let SQLITE_TRANSIENT = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// A thin, safe layer over one SQLite connection: prepared statements kept per SQL text, values bound
/// by position, errors turned into StoreError. Opened without SQLite's mutexes, so it and its
/// statements must never be used by two threads at once: only SQLiteStore holds connections, each
/// behind a lock.
final class Connection {
    let db: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]

    init(path: String, create: Bool = true) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let msg = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let handle { sqlite3_close_v2(handle) }
            throw StoreError(kind: .open, message: "cannot open store \"\(path)\": \(msg)")
        }
        db = handle
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        for s in statements.values { sqlite3_finalize(s) }
        sqlite3_close_v2(db)
    }

    /// Ends every statement left mid-way, so that none holds a transaction open.
    func resetAll() {
        for s in statements.values where sqlite3_stmt_busy(s) != 0 { sqlite3_reset(s) }
    }

    func error(_ what: String) -> StoreError {
        let code = sqlite3_extended_errcode(db)
        // SQLITE_CONSTRAINT_FOREIGNKEY (a macro Swift does not import): SQLITE_CONSTRAINT | 3 << 8.
        if code == SQLITE_CONSTRAINT | (3 << 8) { return StoreError.noSuchPortfolio(String(cString: sqlite3_errmsg(db))) }
        let kind: StoreError.Kind = (code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB ? .corrupt : .io
        return StoreError(kind: kind, message: "\(what): \(String(cString: sqlite3_errmsg(db)))")
    }

    func exec(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(db, sql, nil, nil, &err) != SQLITE_OK {
            let msg = err.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(err)
            throw StoreError(kind: .io, message: "\(sql.prefix(60)): \(msg)")
        }
    }

    func prepare(_ sql: String) throws -> Statement {
        if let s = statements[sql] {
            sqlite3_reset(s)
            sqlite3_clear_bindings(s)
            return Statement(stmt: s, conn: self)
        }
        var s: OpaquePointer?
        guard sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &s, nil) == SQLITE_OK, let s else {
            throw error("prepare")
        }
        statements[sql] = s
        return Statement(stmt: s, conn: self)
    }

    /// Set while `withoutForeignKeys` has the keys off, and left set if turning them on again failed:
    /// `restoreForeignKeys` then turns them on before the next write.
    private(set) var foreignKeysOff = false

    /// Runs `body` (a transaction, since the pragma is a no-op inside one) with the connection's
    /// foreign keys off, and turns them on again after it, whatever happened.
    func withoutForeignKeys<T>(_ body: () throws -> T) throws -> T {
        try exec("PRAGMA foreign_keys = OFF")
        foreignKeysOff = true
        defer { _ = try? restoreForeignKeys() }
        return try body()
    }

    /// Turns the foreign keys on again if a failure left them off; a transaction left open (which would
    /// make the pragma a silent no-op) is rolled back first, and the setting is read back.
    func restoreForeignKeys() throws {
        guard foreignKeysOff else { return }
        if sqlite3_get_autocommit(db) == 0 { _ = try? exec("ROLLBACK") }
        try exec("PRAGMA foreign_keys = ON")
        foreignKeysOff = try intPragma("foreign_keys") != 1
        if foreignKeysOff { throw StoreError(kind: .io, message: "the store could not turn its foreign keys on again; nothing was written") }
    }

    /// Runs `body` in one transaction: all of it is written, or none of it.
    /// A write whose request met a failed jansson allocation is rolled back: what it writes may be missing a value.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        let r = try inTransaction("BEGIN IMMEDIATE") {
            let r = try body()
            if JSONAllocation.failedInRequest { throw JSONError.noMemory }
            return r
        }
        JSONAllocation.noteCommit()
        return r
    }

    /// Runs `body` in one read transaction: every statement in it reads the same committed state.
    func readTransaction<T>(_ body: () throws -> T) throws -> T { try inTransaction("BEGIN DEFERRED", body) }

    private func inTransaction<T>(_ beginning: String, _ body: () throws -> T) throws -> T {
        try begin(beginning)
        do {
            let r = try body()
            try exec("COMMIT")
            return r
        } catch {
            _ = try? exec("ROLLBACK")
            throw error
        }
    }

    /// A transaction left open by a failure whose ROLLBACK failed too (memory ran out for it) belongs to
    /// no one: it is rolled back first, so that the connection serves again once the fault is gone.
    func begin(_ sql: String) throws {
        if sqlite3_get_autocommit(db) == 0 { _ = try? exec("ROLLBACK") }
        try exec(sql)
    }

    func intPragma(_ name: String) throws -> Int {
        let s = try prepare("PRAGMA \(name)")
        defer { s.reset() }
        guard try s.step() else { return 0 }
        return s.int(0)
    }
}

struct Statement {
    let stmt: OpaquePointer
    let conn: Connection

    @discardableResult
    func bind(_ values: [Value?]) throws -> Statement {
        for (i, v) in values.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch v {
            case nil: rc = sqlite3_bind_null(stmt, idx)
            case .int(let n)?: rc = sqlite3_bind_int64(stmt, idx, sqlite3_int64(n))
            case .double(let d)?: rc = sqlite3_bind_double(stmt, idx, d)
            case .text(let t)?:
                var t = t
                // Bound with its byte length, so a NUL inside the text is kept.
                rc = t.withUTF8 { buf in
                    sqlite3_bind_text(stmt, idx, UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self),
                                      Int32(buf.count), SQLITE_TRANSIENT)
                }
            }
            if rc != SQLITE_OK { throw conn.error("bind") }
        }
        return self
    }

    /// true when a row is ready, false when done.
    func step() throws -> Bool {
        switch sqlite3_step(stmt) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw conn.error("step")
        }
    }

    func run(_ values: [Value?] = []) throws {
        try bind(values)
        while try step() {}
        sqlite3_reset(stmt)
    }

    /// Ends the statement, so that it does not hold a transaction open.
    func reset() { sqlite3_reset(stmt) }

    func int(_ col: Int32) -> Int { Int(sqlite3_column_int64(stmt, col)) }
    func double(_ col: Int32) -> Double { sqlite3_column_double(stmt, col) }
    func isNull(_ col: Int32) -> Bool { sqlite3_column_type(stmt, col) == SQLITE_NULL }
    func text(_ col: Int32) -> String {
        guard let p = sqlite3_column_text(stmt, col) else { return "" }
        let n = Int(sqlite3_column_bytes(stmt, col))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }
    /// The raw bytes of a text column, valid until the next step.
    func bytes(_ col: Int32) -> UnsafeRawBufferPointer {
        guard let p = sqlite3_column_text(stmt, col) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, col)))
    }
}

enum Value {
    case int(Int)
    case double(Double)
    case text(String)
}
