import Glibc
import TwoSpeedJSON
import XCTest

/// The disk fills under a running twospeedd (a small tmpfs, as root): over the socket a write answers
/// -32002 saying so, reads answer, and once there is room the next write goes through; a restart finds
/// every write that was acknowledged. The in-process sweeps are in TwoSpeedFaultTests.
final class DaemonFaultTests: XCTestCase {
    var dir = ""
    var mounted: String?

    override func setUp() { dir = makeTempDir() }
    override func tearDown() {
        if let m = mounted { runProgram(["/bin/umount", "-l", m]) }
        removeTree(dir)
    }

    func retailer(id: String) -> String {
        let doc = json(readText(repoRoot + "/examples/portfolios/retailer.json"))
        defer { doc.release() }
        doc.set("id", JSONMake.string(id))
        return JSONText.dump(doc)
    }

    /// The reply's error code (nil for a result) and its reason.
    func send(_ c: RawConnection, _ method: String, _ params: String, id: Int) -> (code: Int?, reason: String) {
        c.send(request(method, params, id: id))
        let r = json(c.readLine())
        defer { r.release() }
        if r["result"] != nil { return (nil, "") }
        return (r["error"]?["code"]?.intValue.map { Int($0) } ?? 0, r["error"]?["data"]?["reason"]?.stringValue ?? JSONText.dump(r))
    }

    func testADiskThatFillsUnderTheDaemon() throws {
        guard geteuid() == 0 else { throw XCTSkip("mounting a small tmpfs needs root (the CI runs these as root)") }
        let m = dir + "/small"
        XCTAssertEqual(mkdir(m, 0o700), 0)
        // As root a mount that fails is a failure, not a skip.
        XCTAssertEqual(runProgram(["/bin/mount", "-t", "tmpfs", "-o", "size=600k,mode=0700", "tmpfs", m]), 0, "cannot mount a tmpfs as root")
        mounted = m
        let d = try DaemonProcess(dir: dir, db: m + "/store.sqlite")
        defer { d.stop() }
        var acknowledged: [String] = []
        // The connection closes at the end of this block, before the stop.
        do {
            let c = try RawConnection(d.socket)
            var refusal: (code: Int?, reason: String)?
            for i in 0..<400 {
                let r = send(c, "portfolio.put", "{\"portfolio\":\(retailer(id: "p\(i)"))}", id: i + 1)
                if r.code == nil { acknowledged.append("p\(i)") } else { refusal = r; break }
            }
            let full = try XCTUnwrap(refusal, "600 KiB never filled up")
            XCTAssertEqual(full.code, -32002, full.reason)
            XCTAssertTrue(full.reason.contains("full"), full.reason)
            XCTAssertNil(send(c, "portfolio.get", #"{"id":"p0"}"#, id: 1000).code, "reads answer on a full disk")
            XCTAssertEqual(runProgram(["/bin/mount", "-o", "remount,size=64m", m]), 0)
            XCTAssertNil(send(c, "portfolio.put", "{\"portfolio\":\(retailer(id: "after"))}", id: 1001).code, "the disk has room again")
        }
        // Once in a full `swift test` on a loaded machine this stop went past 30 s (not reproduced alone, nor
        // with the fault suites before it): the bound is wide, and the log is printed if it is passed again.
        XCTAssertEqual(d.stop(seconds: 60), 0, readText(d.log))
        XCTAssertFalse(readText(d.log).contains("Fatal error"), readText(d.log))

        let d2 = try DaemonProcess(dir: dir, db: m + "/store.sqlite")
        defer { d2.stop() }
        let c2 = try RawConnection(d2.socket)
        for (i, id) in (acknowledged + ["after"]).enumerated() {
            XCTAssertNil(send(c2, "portfolio.get", "{\"id\":\"\(id)\"}", id: i + 1).code, "\(id) was acknowledged and is lost")
        }
        XCTAssertEqual(send(c2, "portfolio.get", "{\"id\":\"p\(acknowledged.count)\"}", id: 999).code, -32000, "the refused write is not there")
    }
}
