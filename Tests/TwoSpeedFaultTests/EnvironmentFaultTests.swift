import CSQLite
import Dispatch
import Glibc
@testable import TwoSpeedEngine
import TwoSpeedJSON
import XCTest

/// Faults from outside the process: another process holding the write lock, a full disk, a folder
/// made read-only. Real ones: a python3 child with its own SQLite connection, a small tmpfs mounted for
/// the test. Mounting needs root; as root (as in CI) a mount that fails fails the test.
/// A test that cannot go on: thrown, it fails the test (unlike XCTSkip).
struct Failure: Error { let message: String }

final class EnvironmentFaultTests: XCTestCase {
    var dir = ""
    var mounts: [String] = []

    override func setUp() {
        dir = temporaryDirectory()
    }

    override func tearDown() {
        for m in mounts.reversed() { runProgram(["umount", "-l", m]) }
        mounts = []
        runProgram(["/bin/rm", "-rf", dir])
    }

    // MARK: SQLITE_BUSY from another process

    /// Starts python3 holding BEGIN IMMEDIATE on the store for `seconds`; returns once it holds it.
    func holdWriteLock(_ path: String, seconds: Double) throws -> pid_t {
        let ready = dir + "/locked-\(UInt32.random(in: 0...UInt32.max))"
        let script = """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
            c.execute("BEGIN IMMEDIATE")
            c.execute("INSERT INTO assessment_model (id, updated, body) VALUES ('held', 'x', '{}')")
            open(sys.argv[2], "w").close()
            time.sleep(float(sys.argv[3]))
            c.execute("ROLLBACK")
            """
        let argv: [String] = ["python3", "-c", script, path, ready, "\(seconds)"]
        var args = argv.map { strdup($0) } + [nil]
        defer { for a in args { free(a) } }
        var pid: pid_t = 0
        XCTAssertEqual(posix_spawnp(&pid, "python3", nil, nil, &args, environ), 0, "python3 does not start")
        for _ in 0..<500 where access(ready, F_OK) != 0 { usleep(10_000) }
        guard access(ready, F_OK) == 0 else {
            kill(pid, SIGKILL)
            throw Failure(message: "python3 never took the write lock on \(path)")
        }
        return pid
    }

    func wait(_ pid: pid_t) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }


    func testAWriteLockHeldPastTheBusyTimeoutIsAStoreErrorAndReadsGoOn() throws {
        let path = dir + "/store.sqlite"
        let engine = try Engine(path: path)
        XCTAssertTrue(call(engine, "portfolio.put", "{\"portfolio\":\(retailer())}").ok)
        let pid = try holdWriteLock(path, seconds: 8)
        defer { kill(pid, SIGKILL); wait(pid) }

        // The write waits in the background while reads are asked for here.
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var reply: Reply?
        nonisolated(unsafe) var waited = 0.0
        let start = now()
        DispatchQueue.global().async {
            reply = call(engine, "portfolio.put", "{\"portfolio\":\(retailer(id: "second"))}")
            waited = now() - start
            done.signal()
        }
        usleep(300_000)
        for (m, p) in [("portfolio.list", "{}"), ("portfolio.get", #"{"id":"retailer"}"#), ("analysis.coverage", #"{"portfolio":"retailer"}"#)] {
            let t = now()
            let r = call(engine, m, p)
            XCTAssertTrue(r.ok, "\(m) while another process holds the write lock: \(r.text)")
            // Reads answer, but today not at once: the engine holds its portfolios' lock across the commit,
            // so a read waits for the write's busy timeout (measured 4.7 s of 5). The engine's locking is
            // being reworked apart; this bounds what holds now: no read waits longer than the write.
            XCTAssertLessThan(now() - t, 7, "\(m) waited past the write's busy timeout")
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success, "the write never answered")
        let r = try XCTUnwrap(reply)
        XCTAssertEqual(r.code, -32002, r.text)
        XCTAssertTrue(r.message.contains("locked") || r.message.contains("busy"), r.text)
        XCTAssertGreaterThan(waited, 4.5, "the write gave up before its busy timeout (5 s)")
        // Nothing half-done: the refused portfolio is nowhere, and once the lock goes the write succeeds.
        XCTAssertEqual(call(engine, "portfolio.get", #"{"id":"second"}"#).code, -32000)
        kill(pid, SIGKILL)
        wait(pid)
        XCTAssertTrue(call(engine, "portfolio.put", "{\"portfolio\":\(retailer(id: "second"))}").ok)
        let fresh = try Engine(path: path)
        XCTAssertEqual(call(fresh, "portfolio.list", "{}").result, call(engine, "portfolio.list", "{}").result)
        XCTAssertEqual(sqlRows(path, "SELECT count(*) FROM assessment_model WHERE id = 'held'"), ["0"], "the killed holder's write was rolled back")
        XCTAssertEqual(integrityCheck(path), "ok")
    }

    func testAWriteWaitsForALockReleasedWithinTheTimeout() throws {
        let path = dir + "/store.sqlite"
        let engine = try Engine(path: path)
        XCTAssertTrue(call(engine, "portfolio.put", "{\"portfolio\":\(retailer())}").ok)
        let pid = try holdWriteLock(path, seconds: 1.5)
        defer { kill(pid, SIGKILL); wait(pid) }
        let t = now()
        let r = call(engine, "entity.upsert", #"{"portfolio":"retailer","kind":"okr","entity":{"id":"okr-late","objective":"Wait my turn","departments":["it"]}}"#)
        XCTAssertTrue(r.ok, r.text)
        XCTAssertGreaterThan(now() - t, 0.8, "the write did not wait for the other process")
        wait(pid)
        let fresh = try Engine(path: path)
        XCTAssertTrue(call(fresh, "entity.get", #"{"portfolio":"retailer","kind":"okr","id":"okr-late"}"#).ok)
    }

    // MARK: A small filesystem

    /// Mounts a tmpfs of `size` on a new folder. Not root: skipped, saying why. Root: must work.
    func mountSmallFilesystem(_ size: String) throws -> String {
        guard geteuid() == 0 else { throw XCTSkip("mounting a small tmpfs needs root (the CI runs these as root)") }
        let m = dir + "/small"
        XCTAssertEqual(mkdir(m, 0o700), 0)
        let r = runProgram(["mount", "-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", m])
        guard r.status == 0 else {
            throw Failure(message: "cannot mount a tmpfs as root: \(r.output)")
        }
        mounts.append(m)
        return m
    }

    func testAFullDiskIsAStoreErrorAndWritesResumeWhenThereIsRoom() throws {
        let m = try mountSmallFilesystem("600k")
        let path = m + "/store.sqlite"
        let engine = try Engine(path: path)
        var acknowledged: [String] = []
        var full: Reply?
        for i in 0..<400 {
            let r = call(engine, "portfolio.put", "{\"portfolio\":\(retailer(id: "p\(i)"))}")
            if r.ok { acknowledged.append("p\(i)") } else { full = r; break }
        }
        let r = try XCTUnwrap(full, "600 KiB never filled up")
        XCTAssertEqual(r.code, -32002, r.text)
        XCTAssertTrue(r.message.contains("full"), r.text)
        XCTAssertGreaterThan(acknowledged.count, 3)
        // Still full: another portfolio is refused too, and reads answer.
        XCTAssertEqual(call(engine, "portfolio.put", "{\"portfolio\":\(retailer(id: "refused"))}").code, -32002)
        XCTAssertEqual(call(engine, "portfolio.get", #"{"id":"refused"}"#).code, -32000)
        XCTAssertTrue(call(engine, "portfolio.get", #"{"id":"p0"}"#).ok)
        // Room again: the next write goes through and nothing acknowledged is missing.
        XCTAssertEqual(runProgram(["mount", "-o", "remount,size=64m", m]).status, 0)
        let after = call(engine, "portfolio.put", "{\"portfolio\":\(retailer(id: "after"))}")
        XCTAssertTrue(after.ok, after.text)
        let fresh = try Engine(path: path)
        let list = call(fresh, "portfolio.list", "{}")
        XCTAssertEqual(list.result, call(engine, "portfolio.list", "{}").result)
        for id in acknowledged + ["after"] {
            XCTAssertTrue(call(fresh, "portfolio.get", "{\"id\":\"\(id)\"}").ok, "\(id) was acknowledged and is lost")
        }
        XCTAssertEqual(integrityCheck(path), "ok")
    }

    /// The folder made read-only (a read-only bind mount: chmod does not stop root). A running engine keeps
    /// the file descriptors it opened, so its writes still land; an engine started there cannot write, says
    /// so, and writes once the folder is writable and it is started again.
    func testAReadOnlyFolder() throws {
        let m = try mountSmallFilesystem("8m")
        let path = m + "/store.sqlite"
        do {
            let engine = try Engine(path: path)
            XCTAssertTrue(call(engine, "portfolio.put", "{\"portfolio\":\(retailer())}").ok)
        }
        XCTAssertEqual(runProgram(["mount", "--bind", "-o", "ro", m, m]).status, 0)
        mounts.append(m)
        XCTAssertEqual(runProgram(["mount", "-o", "remount,bind,ro", m]).status, 0)
        XCTAssertNotEqual(access(m, W_OK), 0, "the folder is still writable")
        var readOnlyEngine: Engine?
        do {
            let engine = try Engine(path: path)
            readOnlyEngine = engine
            // Opened: reads answer, writes are refused with a store error that says why.
            XCTAssertTrue(call(engine, "portfolio.get", #"{"id":"retailer"}"#).ok)
            let w = call(engine, "portfolio.put", "{\"portfolio\":\(retailer(id: "second"))}")
            XCTAssertEqual(w.code, -32002, w.text)
            XCTAssertTrue(w.message.contains("readonly") || w.message.contains("read-only"), w.text)
        } catch {
            // Refused: for what it is, not taken for someone else's file.
            XCTAssertTrue("\(error)".contains("folder is not writable"), "an open refused for a read-only folder says so: \(error)")
            XCTAssertFalse("\(error)".contains("not a TwoSpeed store"), "\(error)")
        }
        readOnlyEngine = nil
        _ = readOnlyEngine
        XCTAssertEqual(runProgram(["umount", m]).status, 0)
        mounts.removeLast()
        let engine = try Engine(path: path)
        let w = call(engine, "portfolio.put", "{\"portfolio\":\(retailer(id: "second"))}")
        XCTAssertTrue(w.ok, w.text)
        XCTAssertTrue(call(engine, "portfolio.get", #"{"id":"retailer"}"#).ok)
        XCTAssertEqual(integrityCheck(path), "ok")
    }
}

/// Seconds on the monotonic clock.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
