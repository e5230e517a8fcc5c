import CJansson
import Dispatch
import Glibc
import TwoSpeedClient
import TwoSpeedJSON
import Foundation
import XCTest

/// Two twospeedd processes over one PostgreSQL database (the throwaway server of PGServer).
final class PostgresDaemonTests: XCTestCase {
    var dirs: [String] = []

    override func tearDown() { for d in dirs { removeTree(d) } }

    func daemon(_ uri: String) throws -> DaemonProcess {
        let d = makeTempDir()
        dirs.append(d)
        return try DaemonProcess(dir: d, db: uri)
    }


    static let deliveryParams = #"{"portfolio":"retailer","deployments":[{"id":"d1","system":"web-checkout","time":"2026-11-02T10:00:00Z","changes":[{"id":"c1","committed":"2026-11-02T08:00:00Z"}]},{"id":"d2","system":"web-checkout","time":"2026-11-03T10:00:00Z","changes":[{"id":"c2","committed":"2026-11-03T04:00:00Z"}]}],"incidents":[{"id":"i1","system":"web-checkout","started":"2026-11-03T11:00:00Z","resolved":"2026-11-03T13:00:00Z","cause":"d2"}]}"#

    /// Kept runs from two daemons at once are numbered 1...n once each; events recorded through one are
    /// the same events through the other; a write from a daemon that has not seen the other's write is
    /// refused, not applied over it; each reads the other's writes within the staleness bound; killing one daemon (SIGKILL, mid-way through runs) leaves the other
    /// serving and every acknowledged run in the store.
    func testTwoDaemonsShareOneDatabase() throws {
        let uri = try PGServer.freshDatabase()
        let a = try daemon(uri)
        let ca = try TwoSpeedClient(socketPath: a.socket)
        let doc = json(readText(repoRoot + "/examples/portfolios/retailer.json"))
        defer { doc.release() }
        XCTAssertEqual(try ca.putPortfolio(document: doc).revision, 1)
        let b = try daemon(uri)
        let cb = try TwoSpeedClient(socketPath: b.socket)

        // Kept runs, from both daemons at once.
        let seqs = Shared<[Int64]>([]), failures = Shared<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { w in
            do {
                let c = try TwoSpeedClient(socketPath: (w % 2 == 0 ? a : b).socket)
                for _ in 0..<5 {
                    let r = try result(c, "assessment.run", #"{"portfolio":"retailer"}"#)
                    defer { r.release() }
                    if let n = r["run"]?.intValue { seqs.with { $0.append(n) } } else { failures.with { $0.append(JSONText.dump(r)) } }
                }
            } catch { failures.with { $0.append("\(error)") } }
        }
        XCTAssertEqual(failures.with { $0 }, [])
        XCTAssertEqual(seqs.with { $0 }.sorted(), (1...20).map { Int64($0) })
        for c in [ca, cb] {
            let h = try result(c, "assessment.history", #"{"portfolio":"retailer"}"#)
            defer { h.release() }
            XCTAssertEqual(h["runs"]?.elements.compactMap { $0["run"]?.intValue }, (1...20).map { Int64($0) })
        }

        // Delivery events: recorded through A, the same again through B changes nothing.
        let first = try result(ca, "delivery.record", Self.deliveryParams)
        defer { first.release() }
        XCTAssertEqual(first["deployments"]?["created"]?.intValue, 2, JSONText.dump(first))
        let again = try result(cb, "delivery.record", Self.deliveryParams)
        defer { again.release() }
        XCTAssertEqual(again["deployments"]?["created"]?.intValue, 0, JSONText.dump(again))
        XCTAssertEqual(again["deployments"]?["unchanged"]?.intValue, 2, JSONText.dump(again))
        XCTAssertEqual(again["incidents"]?["unchanged"]?.intValue, 1, JSONText.dump(again))

        // A writes revision 2; B, which still holds revision 1, is refused: its write is not laid over A's.
        let observe = #"{"portfolio":"retailer","metric":"nps","observations":[{"at":"2026-12-01","value":%V}],"ifRevision":1}"#
        let wrote = try result(ca, "metric.observe", observe.replacingOccurrences(of: "%V", with: "31"))
        defer { wrote.release() }
        XCTAssertThrowsError(try cb.call("metric.observe", paramsJSON: observe.replacingOccurrences(of: "%V", with: "99"))) { error in
            // Revision mismatch (-32005) with the store's revision, whether B had heard of A's write or not.
            XCTAssertTrue("\(error)".contains("-32005") && "\(error)".contains("2"), "\(error)")
        }

        // Coherence: B, told of A's write by PostgreSQL's notice, reads it within the bound (README: the
        // notice's delivery plus one load), with no restart and no call to drop anything; and B's next
        // write on top of it goes through and is read through A.
        func revision(_ c: TwoSpeedClient) -> Int64? {
            guard let r = try? result(c, "portfolio.get", #"{"id":"retailer"}"#) else { return nil }
            defer { r.release() }
            return r["revision"]?.intValue
        }
        func within(_ seconds: Double, _ condition: () -> Bool) -> Bool {
            let until = Date().addingTimeInterval(seconds)
            while Date() < until { if condition() { return true }; usleep(10_000) }
            return condition()
        }
        XCTAssertTrue(within(2) { revision(cb) == 2 }, "B never read A's write: \(String(describing: revision(cb)))")
        let onTop = try result(cb, "metric.observe", observe.replacingOccurrences(of: "%V", with: "32").replacingOccurrences(of: "\"ifRevision\":1", with: "\"ifRevision\":2"))
        defer { onTop.release() }
        XCTAssertEqual(onTop["revision"]?.intValue, 3, JSONText.dump(onTop))
        XCTAssertTrue(within(2) { revision(ca) == 3 }, "A never read B's write")

        // SIGKILL of B in the middle of runs: A serves on, and every run B acknowledged is kept.
        let acknowledged = Shared<[Int64]>([])
        let writer = Thread {
            guard let c = try? TwoSpeedClient(socketPath: b.socket) else { return }
            while let r = try? result(c, "assessment.run", #"{"portfolio":"retailer"}"#) {
                if let n = r["run"]?.intValue { acknowledged.with { $0.append(n) } }
                r.release()
            }
        }
        writer.start()
        XCTAssertTrue((0..<500).contains { _ in usleep(10_000); return acknowledged.with { $0.count } >= 3 })
        kill(b.pid, SIGKILL)
        b.markStopped(waitExit(b.pid))
        usleep(200_000)
        XCTAssertNoThrow(try ca.info())
        let c = try daemon(uri)
        let cc = try TwoSpeedClient(socketPath: c.socket)
        let h = try result(cc, "assessment.history", #"{"portfolio":"retailer"}"#)
        defer { h.release() }
        let kept = Set(h["runs"]?.elements.compactMap { $0["run"]?.intValue } ?? [])
        XCTAssertTrue(Set(acknowledged.with { $0 }).isSubset(of: kept), "acknowledged \(acknowledged.with { $0 }), kept \(kept.sorted())")
        XCTAssertEqual(kept.sorted(), Array(1...Int64(kept.count)), "no gaps")
        // A third daemon reads what A wrote and B wrote on top of it, not B's refused value.
        let got = try result(cc, "portfolio.get", #"{"id":"retailer"}"#)
        defer { got.release() }
        XCTAssertEqual(got["revision"]?.intValue, 3)
        let nps = got["portfolio"]?["metrics"]?.elements.first { $0["id"]?.stringValue == "nps" }
        XCTAssertEqual(nps?["observations"]?.elements.compactMap { $0["value"]?.doubleValue }, [24, 31, 32])
    }

    /// PostgreSQL not there at start: twospeedd exits 1 and says why, without the URI's password;
    /// a password on the command line is refused before anything is tried.
    func testDaemonStartFailuresAreClear() throws {
        let dir = makeTempDir()
        dirs.append(dir)
        let down = "postgresql:///twospeed?host=\(dir)/nowhere"
        let status = runProgram([daemonPath, "--socket", dir + "/s.sock", "--db", down], stderrPath: dir + "/log")
        XCTAssertEqual(status, 1, readText(dir + "/log"))
        XCTAssertTrue(readText(dir + "/log").contains("cannot open the store"), readText(dir + "/log"))
        let withPassword = "postgresql://writer:s3cret@/twospeed?host=\(try PGServer.socketFolder())"
        let refused = runProgram([daemonPath, "--socket", dir + "/s.sock", "--db", withPassword], stderrPath: dir + "/log2")
        XCTAssertNotEqual(refused, 0)
        XCTAssertTrue(readText(dir + "/log2").contains("pgpass"), readText(dir + "/log2"))
        XCTAssertFalse(fileExists(dir + "/s.sock"))
    }

    /// twospeed store copy: SQLite into PostgreSQL, then a daemon on the database serves what was copied.
    func testStoreCopyCommand() throws {
        let dir = makeTempDir()
        dirs.append(dir)
        let sqlite = dir + "/store.sqlite"
        writeFile(dir + "/retailer.json", readText(repoRoot + "/examples/portfolios/retailer.json"))
        XCTAssertEqual(runProgram([cliPath, "import", "--db", sqlite, dir + "/retailer.json"], stdoutPath: dir + "/o", stderrPath: dir + "/e"), 0, readText(dir + "/e"))
        XCTAssertEqual(runProgram([cliPath, "call", "--db", sqlite, "assessment.run", #"{"portfolio":"retailer"}"#], stdoutPath: dir + "/o", stderrPath: dir + "/e"), 0, readText(dir + "/e"))
        let uri = try PGServer.freshDatabase()
        XCTAssertEqual(runProgram([cliPath, "store", "copy", sqlite, uri], stdoutPath: dir + "/o", stderrPath: dir + "/e"), 0, readText(dir + "/e"))
        XCTAssertTrue(readText(dir + "/o").contains("1 portfolios"), readText(dir + "/o"))
        XCTAssertTrue(readText(dir + "/o").contains("1 kept runs"), readText(dir + "/o"))
        // Again into the same, now not empty: refused, exit status 1.
        XCTAssertEqual(runProgram([cliPath, "store", "copy", sqlite, uri], stdoutPath: dir + "/o", stderrPath: dir + "/e"), 1)
        XCTAssertTrue(readText(dir + "/e").contains("not empty"), readText(dir + "/e"))
        // A password on the command line: wrong usage, nothing opened.
        let withPassword = uri.replacingOccurrences(of: "postgresql:///", with: "postgresql://postgres:s3cret@/")
        XCTAssertEqual(runProgram([cliPath, "store", "copy", sqlite, withPassword], stdoutPath: dir + "/o", stderrPath: dir + "/e"), 2)
        let d = try daemon(uri)
        let c = try TwoSpeedClient(socketPath: d.socket)
        let h = try result(c, "assessment.history", #"{"portfolio":"retailer"}"#)
        defer { h.release() }
        XCTAssertEqual(h["runs"]?.elements.compactMap { $0["run"]?.intValue }, [1])
    }

    /// PostgreSQL restarted while a client keeps running assessments through a daemon: each request is
    /// answered (a result, or an error saying the connection was lost or the server is not there), the
    /// daemon reconnects by itself, and every run it acknowledged is kept.
    func testAServerRestartUnderLoad() throws {
        let uri = try PGServer.freshDatabase()
        let a = try daemon(uri)
        let ca = try TwoSpeedClient(socketPath: a.socket)
        let doc = json(readText(repoRoot + "/examples/portfolios/retailer.json"))
        defer { doc.release() }
        _ = try ca.putPortfolio(document: doc)
        let acknowledged = Shared<[Int64]>([]), errors = Shared<[String]>([]), stop = Shared(false)
        let done = DispatchSemaphore(value: 0)
        let worker = Thread {
            defer { done.signal() }
            guard let c = try? TwoSpeedClient(socketPath: a.socket) else { return }
            while !stop.with({ $0 }) {
                do {
                    let r = try result(c, "assessment.run", #"{"portfolio":"retailer"}"#)
                    if let n = r["run"]?.intValue { acknowledged.with { $0.append(n) } }
                    r.release()
                } catch { errors.with { $0.append("\(error)") }; usleep(20_000) }
            }
        }
        worker.start()
        XCTAssertTrue((0..<500).contains { _ in usleep(10_000); return acknowledged.with { $0.count } >= 3 })
        let dir = try PGServer.socketFolder()
        let restarted = PGServer.run([PGServer.binary("pg_ctl"), "-D", dir + "/data", "-m", "fast", "-w", "restart", "-l", dir + "/server.log"])
        XCTAssertTrue(restarted.ok, restarted.output)
        let before = acknowledged.with { $0.count }
        XCTAssertTrue((0..<1000).contains { _ in usleep(10_000); return acknowledged.with { $0.count } >= before + 3 }, "runs go on after the restart")
        stop.with { $0 = true }
        done.wait()
        for e in errors.with({ $0 }) {
            XCTAssertTrue(e.contains("lost") || e.contains("cannot open store") || e.contains("shutting down") || e.contains("terminating"), e)
        }
        let h = try result(ca, "assessment.history", #"{"portfolio":"retailer"}"#)
        defer { h.release() }
        let kept = Set(h["runs"]?.elements.compactMap { $0["run"]?.intValue } ?? [])
        XCTAssertTrue(Set(acknowledged.with { $0 }).isSubset(of: kept), "acknowledged \(acknowledged.with { $0 }), kept \(kept.sorted())")
        XCTAssertEqual(kept.sorted(), Array(1...Int64(kept.count)), "no gaps")
    }
}

/// A call's result, parsed; the caller releases it.
private func result(_ client: TwoSpeedClient, _ method: String, _ params: String) throws -> JSONRef {
    json(try client.call(method, paramsJSON: params))
}
