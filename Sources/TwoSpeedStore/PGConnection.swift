import Glibc
import TwoSpeedSync

/// A failure PostgreSQL reported, with its SQLSTATE, inside the store; it leaves the store as a StoreError.
struct PGFailure: Error {
    var sqlstate: String?
    var message: String
    /// The connection is gone (server restarted, network): the statement's fate may be unknown.
    var connectionLost: Bool

    /// A serialization failure or a deadlock: the transaction was rolled back and may simply be run again.
    var retryable: Bool { sqlstate == "40001" || sqlstate == "40P01" }
}

/// One libpq connection and its prepared statements. Used by one thread at a time: the pool hands it
/// to one caller and takes it back.
final class PGConnection {
    let pq: LibPQ
    let conn: OpaquePointer
    private var prepared: [String: String] = [:]

    /// Opens a connection; `uri` is passed to libpq as given, `shown` is how errors name it.
    init(_ pq: LibPQ, uri: String, shown: String) throws {
        self.pq = pq
        guard let c = pq.connectdb(uri) else {
            throw StoreError(kind: .open, message: "cannot open store \"\(shown)\": out of memory")
        }
        guard pq.status(c) == LibPQ.connectionOK else {
            let why = pq.errorMessage(c).map { String(cString: $0) } ?? "unknown error"
            pq.finish(c)
            var e = StoreError(kind: .open, message: "cannot open store \"\(shown)\": \(trimmed(why))")
            e.retryable = true
            throw e
        }
        conn = c
        // libpq prints server notices (and a server's goodbye) on the host's stderr by default: a library
        // loaded into other processes keeps quiet, and what matters comes back as errors.
        _ = pq.setNoticeProcessor(c, { _, _ in }, nil)
        // Notices (such as "relation already exists, skipping") would go to the host's stderr; an
        // acknowledged write is committed (the server's default, forced in case a role changed it).
        try exec("SET client_min_messages = warning; SET synchronous_commit = on; SET TIME ZONE 'UTC'")
    }

    deinit { pq.finish(conn) }

    var isBroken: Bool { pq.status(conn) != LibPQ.connectionOK }
    var inTransaction: Bool { pq.transactionStatus(conn) != LibPQ.transactionIdle }

    func failure(_ r: OpaquePointer?) -> PGFailure {
        let lost = isBroken
        var msg = r.flatMap { pq.resultErrorMessage($0) }.map { String(cString: $0) } ?? ""
        if msg.isEmpty { msg = pq.errorMessage(conn).map { String(cString: $0) } ?? "unknown error" }
        let state = r.flatMap { pq.resultErrorField($0, LibPQ.diagSQLState) }.map { String(cString: $0) }
        return PGFailure(sqlstate: state, message: trimmed(msg), connectionLost: lost)
    }

    /// Runs one or more statements without parameters or rows.
    func exec(_ sql: String) throws {
        let r = pq.exec(conn, sql)
        defer { pq.clear(r) }
        let s = r.map { pq.resultStatus($0) } ?? -1
        guard s == LibPQ.commandOK || s == LibPQ.tuplesOK else { throw failure(r) }
    }

    /// Runs one statement with text parameters (nil is NULL), prepared once per connection.
    @discardableResult
    func query(_ sql: String, _ params: [String?] = []) throws -> PGResult {
        let name: String
        if let n = prepared[sql] { name = n } else {
            name = "ts\(prepared.count)"
            let r = pq.prepare(conn, name, sql, Int32(params.count), nil)
            defer { pq.clear(r) }
            guard let r, pq.resultStatus(r) == LibPQ.commandOK else { throw failure(r) }
            prepared[sql] = name
        }
        let copies = params.map { $0.map { strdup($0) } ?? nil }
        defer { for c in copies { free(c) } }
        let values: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        let r = values.withUnsafeBufferPointer { pq.execPrepared(conn, name, Int32(params.count), $0.baseAddress, nil, nil, 0) }
        let s = r.map { pq.resultStatus($0) } ?? -1
        guard let r, s == LibPQ.commandOK || s == LibPQ.tuplesOK else {
            let f = failure(r)
            pq.clear(r)
            throw f
        }
        return PGResult(pq, r)
    }

    /// Runs one statement with text parameters without preparing it (a statement sent only once).
    @discardableResult
    func queryOnce(_ sql: String, _ params: [String?]) throws -> PGResult {
        let copies = params.map { $0.map { strdup($0) } ?? nil }
        defer { for c in copies { free(c) } }
        let values: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        let r = values.withUnsafeBufferPointer { pq.execParams(conn, sql, Int32(params.count), nil, $0.baseAddress, nil, nil, 0) }
        let s = r.map { pq.resultStatus($0) } ?? -1
        guard let r, s == LibPQ.commandOK || s == LibPQ.tuplesOK else {
            let f = failure(r)
            pq.clear(r)
            throw f
        }
        return PGResult(pq, r)
    }

    /// COPY ... FROM STDIN in text format: `rows` writes each row's fields through the encoder.
    func copy(_ sql: String, _ rows: (inout CopyBuffer) throws -> Void) throws {
        let r = pq.exec(conn, sql)
        let s = r.map { pq.resultStatus($0) } ?? -1
        guard s == LibPQ.copyIn else { let f = failure(r); pq.clear(r); throw f }
        pq.clear(r)
        var buffer = CopyBuffer()
        var sendError: PGFailure? = nil
        buffer.flush = { [unowned self] bytes in
            guard sendError == nil, !bytes.isEmpty else { return }
            let ok = bytes.withUnsafeBufferPointer { b in
                b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { pq.putCopyData(conn, $0, Int32(b.count)) }
            }
            if ok != 1 { sendError = failure(nil) }
        }
        var thrown: Error? = nil
        do { try rows(&buffer); buffer.send() } catch { thrown = error }
        _ = pq.putCopyEnd(conn, thrown == nil ? nil : "aborted by the caller")
        var failed: PGFailure? = nil
        while let res = pq.getResult(conn) {
            if pq.resultStatus(res) != LibPQ.commandOK, failed == nil { failed = failure(res) }
            pq.clear(res)
        }
        if let thrown { throw thrown }
        if let f = sendError ?? failed { throw f }
    }
}

/// Rows for COPY's text format, sent in chunks of about 256 KB.
struct CopyBuffer {
    var bytes: [UInt8] = []
    var flush: ([UInt8]) -> Void = { _ in }
    private var fieldsInRow = 0

    init() { bytes.reserveCapacity(1 << 18) }

    mutating func field(_ text: String?) {
        if fieldsInRow > 0 { bytes.append(9) }
        fieldsInRow += 1
        guard var t = text else { bytes.append(contentsOf: [92, 78]); return }  // \N
        t.withUTF8 { buf in
            for b in buf {
                switch b {
                case 92: bytes.append(92); bytes.append(92)
                case 9: bytes.append(92); bytes.append(116)
                case 10: bytes.append(92); bytes.append(110)
                case 13: bytes.append(92); bytes.append(114)
                default: bytes.append(b)
                }
            }
        }
    }

    mutating func endRow() {
        bytes.append(10)
        fieldsInRow = 0
        if bytes.count >= 1 << 18 { send() }
    }

    mutating func send() {
        flush(bytes)
        bytes.removeAll(keepingCapacity: true)
    }
}

/// A query's rows, owned until released with the value.
final class PGResult {
    let pq: LibPQ
    let r: OpaquePointer
    init(_ pq: LibPQ, _ r: OpaquePointer) { self.pq = pq; self.r = r }
    deinit { pq.clear(r) }

    var count: Int { Int(pq.ntuples(r)) }
    /// Rows a command touched (UPDATE, INSERT, DELETE).
    var affected: Int { pq.cmdTuples(r).flatMap { Int(String(cString: $0)) } ?? 0 }
    func isNull(_ row: Int, _ col: Int) -> Bool { pq.getisnull(r, Int32(row), Int32(col)) != 0 }
    func text(_ row: Int, _ col: Int) -> String {
        guard let p = pq.getvalue(r, Int32(row), Int32(col)) else { return "" }
        return String(cString: p)
    }
    func int(_ row: Int, _ col: Int) -> Int { Int(text(row, col)) ?? 0 }
    func double(_ row: Int, _ col: Int) -> Double { Double(text(row, col)) ?? .nan }
    /// The bytes of a value, valid while this result lives.
    func bytes(_ row: Int, _ col: Int) -> UnsafeRawBufferPointer {
        guard let p = pq.getvalue(r, Int32(row), Int32(col)) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: p, count: Int(pq.getlength(r, Int32(row), Int32(col))))
    }
}

/// A small pool: at most `size` connections, each lent to one thread at a time. A caller waits for a
/// free one (bounded), so a burst of requests cannot open more connections than the server allows.
final class PGPool: @unchecked Sendable {
    private let slots = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    private let idle = Locked<[PGConnection]>([])
    private let open: () throws -> PGConnection
    let size: Int

    init(size: Int, open: @escaping () throws -> PGConnection) {
        self.size = size
        self.open = open
        sem_init(slots, 0, UInt32(size))
    }

    deinit {
        sem_destroy(slots)
        slots.deallocate()
    }

    /// Lends a connection to `body`. A connection that broke, or was left inside a transaction, is closed
    /// rather than given back.
    func with<T>(_ body: (PGConnection) throws -> T) throws -> T {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        deadline.tv_sec += 30
        while sem_timedwait(slots, &deadline) != 0 {
            if errno == EINTR { continue }
            throw StoreError(kind: .io, message: "all \(size) PostgreSQL connections stayed busy for 30 s; nothing was done", retryable: true)
        }
        defer { sem_post(slots) }
        let c = try idle.write { $0.popLast() } ?? open()
        do {
            let r = try body(c)
            if !c.isBroken && !c.inTransaction { idle.write { $0.append(c) } }
            return r
        } catch {
            if !c.isBroken && !c.inTransaction { idle.write { $0.append(c) } }
            throw error
        }
    }
}

func trimmed(_ s: String) -> String {
    var t = Substring(s)
    while let last = t.last, last == "\n" || last == " " { t = t.dropLast() }
    return t.split(separator: "\n").joined(separator: "; ")
}
