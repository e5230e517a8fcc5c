import CSQLite
import CSQLiteFault
import Glibc
@testable import TwoSpeedEngine
import XCTest

/// A kept run and its advice record are written in one transaction (issue 23): with the Nth SQLite I/O
/// call or allocation failing, for every N across one `assessment.run`, the store afterwards holds both
/// or neither. Acknowledged means both; a refusal (-32002) means neither. Written in two transactions,
/// as before, a fault in the second left an acknowledged run without its advice record.
final class RunAdviceAtomicityTests: XCTestCase {
    var dirs: [String] = []

    override func setUp() {
        XCTAssertEqual(tsfault_vfs_install(), SQLITE_OK)
    }

    override func tearDown() {
        tsfault_io_disarm()
        tsfault_malloc_disarm()
        for d in dirs { runProgram(["/bin/rm", "-rf", d]) }
        dirs = []
    }

    /// A store holding the retailer and one kept run (so that the run under fault reads a previous record).
    func freshStore() throws -> (Engine, String) {
        let dir = temporaryDirectory()
        dirs.append(dir)
        let path = dir + "/store.sqlite"
        let engine = try Engine(path: path)
        XCTAssertTrue(call(engine, "portfolio.put", "{\"portfolio\":\(retailer())}").ok)
        XCTAssertTrue(call(engine, "assessment.run", #"{"portfolio":"retailer"}"#).ok)
        return (engine, path)
    }

    static let run = #"{"portfolio":"retailer","asOf":"2026-11-20"}"#

    /// Runs once under `arm`; checks that the store holds the second run and its record both or neither.
    /// Returns whether the run was refused.
    @discardableResult
    func attempt(_ label: String, arm: () -> Void, disarm: () -> Void) throws -> Bool {
        let (engine, path) = try freshStore()
        arm()
        let r = call(engine, "assessment.run", Self.run)
        disarm()
        if !r.ok { XCTAssertEqual(r.code, -32002, "\(label): \(r.text)") }
        XCTAssertFalse(r.text.contains("was not"), "\(label): a run kept without its record: \(r.text)")
        let runs = sqlRows(path, "SELECT seq FROM assessment_run ORDER BY seq")
        let records = sqlRows(path, "SELECT seq FROM advice_run ORDER BY seq")
        XCTAssertEqual(runs, records, "\(label): kept runs and advice records differ")
        XCTAssertEqual(runs, r.ok ? ["1", "2"] : ["1"], "\(label): acknowledged \(r.ok)")
        // The engine serves on, and the next run is kept with its record.
        XCTAssertTrue(call(engine, "assessment.run", Self.run).ok, label)
        XCTAssertEqual(sqlRows(path, "SELECT count(*) FROM advice_run"), sqlRows(path, "SELECT count(*) FROM assessment_run"), label)
        let history = call(try Engine(path: path), "recommendation.history", #"{"portfolio":"retailer"}"#)
        XCTAssertEqual(field(history, ["untracked"])?.count, 0, "\(label): \(history.text)")
        XCTAssertEqual(integrityCheck(path), "ok", label)
        return !r.ok
    }

    func testAFailedWriteOrSyncAtEveryCallOfARun() throws {
        let mask = Int32(TSFAULT_WRITE | TSFAULT_SYNC | TSFAULT_TRUNCATE)
        let (engine, _) = try freshStore()
        tsfault_io_arm(mask, 0, SQLITE_IOERR, 0)
        XCTAssertTrue(call(engine, "assessment.run", Self.run).ok)
        let total = Int(tsfault_io_calls())
        tsfault_io_disarm()
        XCTAssertGreaterThan(total, 0, "the run makes no write: the VFS is not in the way")
        var refused = 0
        for n in 1...(total + 1) {
            if try attempt("I/O error at call \(n) of \(total)", arm: { tsfault_io_arm(mask, Int32(n), SQLITE_IOERR, 0) },
                           disarm: { tsfault_io_disarm() }) { refused += 1 }
        }
        XCTAssertGreaterThan(refused, 0, "no fault reached the run's commit")
    }

    func testAFailedAllocationAtEveryCallOfARun() throws {
        XCTAssertEqual(tsfault_malloc_installed(), 1, "SQLite's allocator could not be wrapped before it initialized")
        let (engine, _) = try freshStore()
        tsfault_malloc_arm(0, 0)
        XCTAssertTrue(call(engine, "assessment.run", Self.run).ok)
        let total = Int(tsfault_malloc_calls())
        tsfault_malloc_disarm()
        XCTAssertGreaterThan(total, 0)
        var refused = 0
        for n in 1...(total + 1) {
            if try attempt("allocation failing at call \(n) of \(total)", arm: { tsfault_malloc_arm(Int32(n), 0) },
                           disarm: { tsfault_malloc_disarm() }) { refused += 1 }
        }
        XCTAssertGreaterThan(refused, 0, "no allocation failure reached the run")
    }
}
