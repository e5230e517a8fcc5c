import CJansson
import CSQLite
import CSQLiteFault
import Glibc
import TwoSpeedEngine
import TwoSpeedJSON
import Synchronization
import XCTest

let repoRoot: String = {
    var path = #filePath
    for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
    return path
}()

func readText(_ path: String) -> String {
    String(decoding: readBytes(path), as: UTF8.self)
}

let retailerText = readText(repoRoot + "/examples/portfolios/retailer.json")

/// The retailer example under another id.
func retailer(id: String = "retailer") -> String {
    retailerText.replacing("\"id\": \"retailer\"", with: "\"id\": \"\(id)\"", maxReplacements: 1)
}

func temporaryDirectory() -> String {
    var template = Array("/tmp/twospeed-fault-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    madeFolders.withLock { if $0 == nil { atexit { removeMadeFolders() } }; $0 = ($0 ?? []) + [path] }
    return path
}

/// Every folder temporaryDirectory() made, removed when the test process ends: the tests that forget
/// theirs had left thousands in /tmp.
private let madeFolders = Mutex<[String]?>(nil)
private func removeMadeFolders() {
    // mkdtemp's names need no quoting.
    if let paths = madeFolders.withLock({ $0 }), !paths.isEmpty { _ = system("rm -rf " + paths.joined(separator: " ")) }
}

/// One reply, reduced to what the fault tests look at. The JSON is released here.
struct Reply {
    let text: String
    /// The result as JSON text, or nil for an error.
    let result: String?
    let code: Int?
    let message: String

    var ok: Bool { result != nil }
}

func call(_ engine: Engine, _ method: String, _ params: String) -> Reply {
    let text = engine.call("{\"jsonrpc\":\"2.0\",\"method\":\"\(method)\",\"params\":\(params),\"id\":1}") ?? "null"
    guard case .success(let v) = JSONText.parse(text) else {
        return Reply(text: text, result: nil, code: nil, message: "not JSON")
    }
    defer { v.release() }
    if let r = v["result"] { return Reply(text: text, result: canonical(r), code: nil, message: "") }
    let e = v["error"]
    let reason = e?["data"]?["reason"]?.stringValue ?? e?["message"]?.stringValue ?? ""
    return Reply(text: text, result: nil, code: e?["code"]?.intValue.map { Int($0) }, message: reason)
}

/// A value read from the result JSON of a reply.
func field(_ reply: Reply, _ path: [String]) -> JSONRefValue? {
    guard let r = reply.result, case .success(let v) = JSONText.parse(r) else { return nil }
    defer { v.release() }
    var cur: JSONRef? = v
    for p in path {
        if let i = Int(p) { cur = cur?[i] } else { cur = cur?[p] }
    }
    guard let cur else { return nil }
    return JSONRefValue(int: cur.intValue.map { Int($0) }, string: cur.stringValue, count: cur.count)
}

struct JSONRefValue {
    let int: Int?
    let string: String?
    let count: Int
}

/// Runs SQL on the file directly, outside the engine; the first column of each row as text.
func sqlRows(_ path: String, _ sql: String) -> [String]? {
    var db: OpaquePointer?
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let db else {
        if let db { sqlite3_close_v2(db) }
        return nil
    }
    defer { sqlite3_close_v2(db) }
    var s: OpaquePointer?
    guard sqlite3_prepare_v2(db, sql, -1, &s, nil) == SQLITE_OK, let s else { return nil }
    defer { sqlite3_finalize(s) }
    var rows: [String] = []
    while true {
        let rc = sqlite3_step(s)
        if rc == SQLITE_DONE { break }
        guard rc == SQLITE_ROW else { return nil }
        rows.append(sqlite3_column_text(s, 0).map { String(cString: $0) } ?? "NULL")
    }
    return rows
}

func integrityCheck(_ path: String) -> String {
    sqlRows(path, "PRAGMA integrity_check")?.joined(separator: "; ") ?? "cannot open \(path)"
}

/// Runs a program to its end; its exit status and what it wrote to stdout and stderr.
@discardableResult
func runProgram(_ argv: [String]) -> (status: Int32, output: String) {
    let out = "/tmp/twospeed-fault-run-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    defer { unlink(out) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var cArgs = argv.map { strdup($0) } + [nil]
    defer { for a in cArgs { free(a) } }
    var pid: pid_t = 0
    guard posix_spawnp(&pid, argv[0], &actions, nil, &cArgs, environ) == 0 else { return (127, "cannot start \(argv[0])") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (code, readText(out))
}

/// JSON text with members in key order, so that two answers compare as text whatever order a
/// dictionary gave their members.
func canonical(_ v: JSONRef) -> String {
    guard let c = JSONText.dumpC(v, flags: JSONText.encodeFlags | Int(JSON_SORT_KEYS)) else { return "null" }
    defer { free(c) }
    return String(cString: c)
}

/// Whether `needle` occurs in `text`, byte for byte. The fault sweeps look into thousands of replies of
/// up to hundreds of kilobytes each; Foundation's `contains` (through NSString, in UTF-16) was a tenth of
/// their time. memchr finds each candidate first byte, memcmp checks it (glibc's memmem is not imported).
func has(_ text: String, _ needle: String) -> Bool {
    var t = text, n = needle
    return t.withUTF8 { tb in
        n.withUTF8 { nb in
            guard let first = nb.first else { return true }
            guard let base = tb.baseAddress, tb.count >= nb.count else { return false }
            var at = 0
            let last = tb.count - nb.count
            while at <= last {
                guard let hit = memchr(base + at, Int32(first), last - at + 1) else { return false }
                let i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + i, nb.baseAddress!, nb.count) == 0 { return true }
                at = i + 1
            }
            return false
        }
    }
}

/// A store file made once and copied for each run of a sweep. The sweeps start hundreds of runs from
/// the same store; creating, migrating and filling it each time, with an fsync at every commit, was most
/// of their wall time. The engine that fills the template is gone before any copy is taken, so SQLite
/// has folded its WAL into the file (a WAL left behind is copied with it all the same).
final class StoreTemplate {
    let folder: String
    let path: String

    init(_ fill: (Engine) throws -> Void) throws {
        folder = temporaryDirectory()
        path = folder + "/template.sqlite"
        try fill(try Engine(path: path))
    }

    /// A copy of the template, as `store.sqlite` in a new folder (added to `dirs`, for the caller's tearDown).
    func copy(into dirs: inout [String]) -> String {
        let dir = temporaryDirectory()
        dirs.append(dir)
        let path = dir + "/store.sqlite"
        copyFile(self.path, path)
        if access(self.path + "-wal", F_OK) == 0 { copyFile(self.path + "-wal", path + "-wal") }
        return path
    }

    deinit { runProgram(["/bin/rm", "-rf", folder]) }
}

private func copyFile(_ from: String, _ to: String) {
    let bytes = readBytes(from)
    let fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot create \(to)")
    defer { close(fd) }
    bytes.withUnsafeBytes { b in
        var done = 0
        while done < b.count {
            let n = write(fd, b.baseAddress! + done, b.count - done)
            precondition(n > 0, "cannot write \(to)")
            done += n
        }
    }
}

func readBytes(_ path: String) -> [UInt8] {
    guard let f = fopen(path, "rb") else { return [] }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        bytes.append(contentsOf: buf[0..<n])
    }
    return bytes
}
