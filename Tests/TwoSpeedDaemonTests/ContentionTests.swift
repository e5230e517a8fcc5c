import CJansson
import Glibc
import TwoSpeedJSON
import XCTest

/// Issue 22 through twospeedd, as a new user met it: four clients each putting a portfolio of about 1 MB
/// kept a portfolio.get of another portfolio waiting 38 s (one engine lock held across every commit, and
/// the reads that leave the event loop queued on the pool the puts held). Now the read answers from the
/// last committed snapshot, on a pool of its own.
final class ContentionTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDir() }
    override func tearDown() { removeTree(dir) }

    /// A put's line for Tests/Bench/synth_portfolio.py's portfolio at `scale`, under the id `id`.
    func synthetic(scale: String, id: String) throws -> String {
        let path = dir + "/synthetic-\(scale).json"
        if !fileExists(path) {
            XCTAssertEqual(runProgram(["/usr/bin/env", "python3", repoRoot + "/Tests/Bench/synth_portfolio.py", scale, path]), 0)
        }
        let doc = json(readText(path))
        defer { doc.release() }
        doc.set("id", JSONMake.string(id))
        return request("portfolio.put", "{\"portfolio\":" + JSONText.dump(doc) + "}", id: 1)
    }

    func testAReadOfAnotherPortfolioAnswersWhileFourClientsPutBigPortfolios() throws {
        let d = try DaemonProcess(dir: dir)
        let reader = try RawConnection(d.socket)
        let retailer = json(readText(repoRoot + "/examples/portfolios/retailer.json"))
        reader.send(request("portfolio.put", "{\"portfolio\":" + JSONText.dump(retailer) + "}", id: 1))
        retailer.release()
        XCTAssertTrue(reader.readLine()?.contains("\"result\"") == true)
        let puts = try (0..<4).map { try synthetic(scale: "0.06", id: "big\($0)") }
        XCTAssertGreaterThan(puts[0].utf8.count, 800_000, "about 1 MB each")
        // One put alone over the socket, the fastest of three: the unit the read is held to.
        let single = try RawConnection(d.socket)
        var alone = Double.infinity
        for _ in 0..<3 {
            let t0 = now()
            single.send(puts[0])
            let reply = single.readLine() ?? ""
            alone = min(alone, now() - t0)
            XCTAssertTrue(reply.contains("\"result\""), String(reply.prefix(300)))
        }
        let stop = Shared(false), done = Shared(0), failures = Shared<[String]>([])
        // Each connection is used by its one thread only.
        final class Connections: @unchecked Sendable {
            let all: [RawConnection]
            init(_ all: [RawConnection]) { self.all = all }
        }
        let connections = Connections(try (0..<4).map { _ in try RawConnection(d.socket) } + [reader])
        let unit = alone
        let latencies = Shared<[Double]>([])
        onThreads(5) { i in
            if i < 4 {
                // A writer: puts its portfolio again and again until the reader has done.
                while !stop.with({ $0 }) {
                    connections.all[i].send(puts[i])
                    let reply = connections.all[i].readLine() ?? ""
                    if !reply.contains("\"result\"") { failures.with { $0.append(String(reply.prefix(300))) } }
                    done.with { $0 += 1 }
                }
                return
            }
            while done.with({ $0 }) < 4 { usleep(1_000) }
            let started = now()
            while now() - started < max(3.0, unit * 15) {
                let t0 = now()
                connections.all[4].send(request("portfolio.get", #"{"id":"retailer"}"#, id: 2))
                let reply = connections.all[4].readLine() ?? ""
                latencies.with { $0.append(now() - t0) }
                if !reply.contains("\"revision\":1") { failures.with { $0.append(String(reply.prefix(300))) } }
                usleep(5_000)
            }
            stop.with { $0 = true }
        }
        XCTAssertEqual(failures.with { $0 }, [])
        let sorted = latencies.with { $0 }.sorted()
        let worst = sorted.last ?? .infinity, median = sorted[sorted.count / 2], p90 = sorted[sorted.count * 9 / 10]
        let writes = done.with { $0 }
        print("one put alone \(Int(alone * 1000)) ms over the socket; \(writes) puts by 4 clients; portfolio.get of another portfolio: "
              + "median \(String(format: "%.2f", median * 1000)) ms, p90 \(String(format: "%.2f", p90 * 1000)) ms, worst \(String(format: "%.2f", worst * 1000)) ms over \(sorted.count) reads")
        XCTAssertGreaterThan(writes, 12, "the writers were busy throughout")
        XCTAssertLessThan(median, alone / 10, "a read does not wait for a put")
        // The tail is the machine's as much as the engine's (two cores, five busy threads): held loosely.
        XCTAssertLessThan(p90, alone / 2, "nine reads in ten answer in less than half a put")
        XCTAssertEqual(d.stop(), 0)
    }
}
