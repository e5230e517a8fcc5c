import CJansson
import Glibc
import TwoSpeedClient
import TwoSpeedClientInProcess
import TwoSpeedJSON
import TwoSpeedModel
import XCTest

/// twospeedd as a real child process on a temporary socket, driven by the Swift client and by raw
/// socket connections.
final class DaemonTests: XCTestCase {
    var dir = ""

    override func setUp() {
        dir = makeTempDir()
    }

    override func tearDown() {
        removeTree(dir)
    }

    func retailerDocument() -> JSONRef {
        json(readText(repoRoot + "/examples/portfolios/retailer.json"))
    }

    func loadRetailer(_ client: TwoSpeedClient) throws {
        let doc = retailerDocument()
        defer { doc.release() }
        let put = try client.putPortfolio(document: doc)
        XCTAssertEqual(put.id, "retailer")
        XCTAssertEqual(put.counts[.product], 5)
    }

    // MARK: The Swift client

    func testTypedCallsOverTheSocket() throws {
        let d = try DaemonProcess(dir: dir)
        let client = try TwoSpeedClient(socketPath: d.socket)
        try exerciseTypedCalls(client, storePath: d.db)
    }

    func testTypedCallsInProcess() throws {
        let client = try TwoSpeedClient.inProcess(store: ":memory:")
        try exerciseTypedCalls(client, storePath: nil)
    }

    func exerciseTypedCalls(_ client: TwoSpeedClient, storePath: String?) throws {
        let info = try client.info()
        XCTAssertEqual(info.abiVersion, 1)
        XCTAssertEqual(info.portfolios, 0)
        XCTAssertEqual(info.store.inMemory, storePath == nil)
        if let storePath { XCTAssertEqual(info.store.path, storePath) }

        try loadRetailer(client)
        let record = try client.portfolio("retailer")
        XCTAssertEqual(record.revision, 1)
        XCTAssertEqual(record.portfolio.products.count, 5)

        // Round trip of the typed model: put back what was read, as a Portfolio value.
        var portfolio = record.portfolio
        portfolio.id = "copy"
        let put = try client.putPortfolio(portfolio)
        XCTAssertTrue(put.created)
        XCTAssertEqual(try client.portfolios().map(\.id), ["copy", "retailer"])

        var product: Product = try client.entity(.product, id: "checkout", in: "retailer")
        XCTAssertEqual(product.owner, "pm-checkout")
        product.id = "returns"
        product.name = "Returns"
        let up = try client.upsert(.product, product, in: "retailer", ifRevision: 1)
        XCTAssertEqual(up.created, true)
        XCTAssertEqual(up.revision, 2)
        let products: [Product] = try client.entities(.product, in: "retailer")
        XCTAssertEqual(products.count, 6)

        let obs = try client.observe("nps", in: "retailer", [Observation(at: "2026-09-30", value: 44, source: "survey")])
        XCTAssertEqual(obs.appended, 1)
        XCTAssertEqual(obs.revision, 3)

        let removed = try client.removeEntity(.product, id: "returns", in: "retailer")
        XCTAssertEqual(removed.revision, 4)
        XCTAssertEqual(try client.deletePortfolio("copy").deleted, true)

        // Errors arrive typed, with the engine's data.
        do {
            _ = try client.portfolio("nope")
            XCTFail("no error")
        } catch let e as RPCCallError {
            XCTAssertEqual(e.code, -32000)
            XCTAssertEqual(e.data?.pointer, "/id")
            XCTAssertTrue(e.errorJSON.contains("\"code\":-32000"))
        }
        do {
            _ = try client.upsert(.product, product, in: "retailer", ifRevision: 1)
            XCTFail("no error")
        } catch let e as RPCCallError {
            XCTAssertEqual(e.code, -32005)
            XCTAssertEqual(e.data?.revision, 4)
        }
        do {
            _ = try client.call("no.such", paramsJSON: nil)
            XCTFail("no error")
        } catch let e as RPCCallError {
            XCTAssertEqual(e.code, -32601)
        }
        // The generic call: params and result as JSON text.
        let list = try client.call("entity.list", paramsJSON: #"["retailer","journey"]"#)
        XCTAssertTrue(list.hasPrefix(#"{"kind":"journey","entities":[{"id":"online-shopping""#), list)
        XCTAssertThrowsError(try client.call("engine.info", paramsJSON: "{oops")) { XCTAssertTrue($0 is InvalidJSONError) }
    }

    func testUnreachableSocketIsATransportError() {
        XCTAssertThrowsError(try TwoSpeedClient(socketPath: dir + "/absent.sock")) { error in
            guard let e = error as? TransportError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.kind, .unreachable)
        }
    }

    // MARK: Framing and order

    func testPipeliningAThousandRequests() throws {
        let d = try DaemonProcess(dir: dir)
        try loadRetailer(try TwoSpeedClient(socketPath: d.socket))
        let c = try RawConnection(d.socket)
        var batch = ""
        for i in 1...1000 {
            switch i % 4 {
            case 0: batch += request("metric.observe", #"{"portfolio":"retailer","metric":"nps","observations":[{"at":"2026-10-01","value":\#(i)}]}"#, id: i)
            case 1: batch += request("engine.info", id: i)
            case 2: batch += request("portfolio.list", id: i)
            default: batch += request("entity.get", #"{"portfolio":"retailer","kind":"metric","id":"nps"}"#, id: i)
            }
        }
        XCTAssertTrue(c.send(batch), "the whole batch is written before any reply is read")
        var lastTotal = 0
        for i in 1...1000 {
            let r = json(c.readLine())
            defer { r.release() }
            XCTAssertEqual(r["id"]?.intValue, Int64(i), "reply \(i) out of order")
            XCTAssertNil(r["error"], "reply \(i): \(JSONText.dump(r))")
            if i % 4 == 0 {
                let total = Int(r["result"]?["total"]?.intValue ?? 0)
                if lastTotal > 0 { XCTAssertEqual(total, lastTotal + 1) }
                lastTotal = total
            }
            if i % 4 == 3 {
                // Each read sees every write sent before it on this connection.
                let n = r["result"]?["entity"]?["observations"]?.count ?? 0
                XCTAssertEqual(n, lastTotal == 0 ? n : lastTotal)
            }
        }
        XCTAssertEqual(d.stop(), 0)
    }

    func testSixtyFourClientsAtOnce() throws {
        let d = try DaemonProcess(dir: dir)
        try loadRetailer(try TwoSpeedClient(socketPath: d.socket))
        let clients = try (0..<64).map { _ in try TwoSpeedClient(socketPath: d.socket) }  // all connected at once
        let failures = Shared<[String]>([])
        let writesEach = 10
        onThreads(64) { i in
            do {
                for k in 0..<writesEach {
                    let r = try clients[i].observe("nps", in: "retailer",
                                                   [Observation(at: "2026-10-01", value: Double(i * 1000 + k), source: "client-\(i)")])
                    if r.appended != 1 { failures.with { $0.append("client \(i): appended \(r.appended)") } }
                    _ = try clients[i].info()
                    _ = try clients[i].portfolios()
                }
            } catch {
                failures.with { $0.append("client \(i): \(error)") }
            }
        }
        XCTAssertEqual(failures.with { $0 }, [])
        // No lost write: every client's every observation is there, once.
        let nps = try clients[0].entity(.metric, id: "nps", in: "retailer", as: Metric.self)
        for i in 0..<64 {
            let mine = nps.observations.filter { $0.source == "client-\(i)" }.map { Int($0.value) }.sorted()
            XCTAssertEqual(mine, (0..<writesEach).map { i * 1000 + $0 }, "client \(i)")
        }
        XCTAssertEqual(try clients[0].portfolio("retailer").revision, 1 + 64 * writesEach)
        XCTAssertEqual(d.stop(), 0)
    }

    // MARK: Access

    func testReadOnlyPeerMayOnlyRead() throws {
        let d = try DaemonProcess(dir: dir, args: ["--read-only-uid", "\(getuid())"])
        let client = try TwoSpeedClient(socketPath: d.socket)
        XCTAssertEqual(try client.info().portfolios, 0)
        let doc = retailerDocument()
        defer { doc.release() }
        do {
            _ = try client.putPortfolio(document: doc)
            XCTFail("a read-only peer wrote")
        } catch let e as RPCCallError {
            XCTAssertEqual(e.code, -32004)
            XCTAssertEqual(e.data?.method, "portfolio.put")
        }
        // The connection stays usable, and nothing was written.
        XCTAssertEqual(try client.portfolios().count, 0)
        XCTAssertTrue(readText(d.log).contains("access=read-only"))
    }

    func testPeerNotOnAnyListIsRefused() throws {
        // Only uid 4242 may connect: this process is refused with one error reply, then end of file.
        let d = try DaemonProcess(dir: dir, args: ["--allow-uid", "4242"])
        let c = try RawConnection(d.socket)
        c.send(request("engine.info", id: 1))
        let r = json(c.readLine())
        defer { r.release() }
        XCTAssertEqual(r["error"]?["code"]?.intValue, -32010)
        XCTAssertEqual(r["error"]?["data"]?["uid"]?.intValue, Int64(getuid()))
        XCTAssertEqual(r["id"]?.kind, .null)
        XCTAssertTrue(c.readsEOF())
        XCTAssertTrue(readText(d.log).contains("peer refused"))
    }

    func testSocketFileModes() throws {
        let d = try DaemonProcess(dir: dir)
        var st = stat()
        XCTAssertEqual(stat(d.socket, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        XCTAssertEqual(d.stop(), 0)
        XCTAssertFalse(fileExists(d.socket), "the socket is removed at exit")
        try d.start(["--socket-mode", "0660"])
        XCTAssertEqual(stat(d.socket, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o660)
    }

    // MARK: Limits

    func testOversizedMessageGetsAnErrorAndTheConnectionCloses() throws {
        let d = try DaemonProcess(dir: dir, args: ["--max-message-bytes", "4096"])
        let c = try RawConnection(d.socket)
        c.send(request("engine.info", id: 1))
        XCTAssertNotNil(c.readLine())
        let big = #"{"jsonrpc":"2.0","method":"engine.info","params":{"pad":""# + String(repeating: "x", count: 100_000) + "\"},\"id\":2}\n"
        c.send(big)
        let r = json(c.readLine())
        defer { r.release() }
        XCTAssertEqual(r["error"]?["code"]?.intValue, -32003)
        XCTAssertEqual(r["error"]?["data"]?["limit"]?.intValue, 4096)
        XCTAssertTrue(c.readsEOF(), "framing is lost: the connection closes")
        // A message of exactly the limit is served.
        let other = try RawConnection(d.socket)
        let head = #"{"jsonrpc":"2.0","method":"engine.info","id":3,"x":""#
        let exact = head + String(repeating: "y", count: 4096 - head.utf8.count - 2) + "\"}"
        XCTAssertEqual(exact.utf8.count, 4096)
        other.send(exact + "\n")
        let r2 = json(other.readLine())
        defer { r2.release() }
        XCTAssertEqual(r2["error"]?["code"]?.intValue, -32600, "parsed and judged (unknown member), not refused for size")
    }

    func testHalfMessagesHarmNobody() throws {
        let d = try DaemonProcess(dir: dir)
        // One peer sends half a message and disconnects; another sends half and stalls.
        let quitter = try RawConnection(d.socket)
        quitter.send(#"{"jsonrpc":"2.0","method":"engine."#)
        quitter.close()
        let staller = try RawConnection(d.socket)
        staller.send(#"{"jsonrpc":"2.0","method":"portfolio."#)
        // Everyone else is served meanwhile.
        let client = try TwoSpeedClient(socketPath: d.socket)
        try loadRetailer(client)
        for _ in 0..<50 { _ = try client.info() }
        // The staller finishes its message later and gets its reply.
        staller.send("list\",\"id\":7}\n")
        let r = json(staller.readLine())
        defer { r.release() }
        XCTAssertEqual(r["id"]?.intValue, 7)
        XCTAssertEqual(r["result"]?["portfolios"]?.count, 1)
        XCTAssertEqual(d.stop(), 0)
    }

    func testEndOfInputAnswersWhatCameBefore() throws {
        let d = try DaemonProcess(dir: dir)
        let c = try RawConnection(d.socket)
        c.send(request("engine.info", id: 1) + request("portfolio.list", id: 2) + #"{"jsonrpc":"2.0","method":"engine.info","id":3}"#)
        c.shutdownWrite()
        for id in 1...3 {
            let r = json(c.readLine())
            XCTAssertEqual(r["id"]?.intValue, Int64(id), "the last message needs no line end at end of input")
            r.release()
        }
        XCTAssertTrue(c.readsEOF())
    }

    func testMaxClients() throws {
        let d = try DaemonProcess(dir: dir, args: ["--max-clients", "2"])
        // The connection that saw the daemon up may take a moment to be gone.
        func admitted() throws -> TwoSpeedClient {
            for _ in 0..<100 {
                let c = try TwoSpeedClient(socketPath: d.socket)
                if (try? c.info()) != nil { return c }
                usleep(20_000)
            }
            throw DaemonFailure("not admitted")
        }
        let a = try admitted()
        let b = try admitted()
        let extra = try RawConnection(d.socket)
        let r = json(extra.readLine())
        defer { r.release() }
        XCTAssertEqual(r["error"]?["code"]?.intValue, -32011)
        XCTAssertEqual(r["error"]?["data"]?["limit"]?.intValue, 2)
        XCTAssertTrue(extra.readsEOF())
        _ = try a.info()  // the two admitted go on
        (b.transport as! UnixSocketTransport).close()
        // Once one has left, there is room again.
        var served = false
        for _ in 0..<100 where !served {
            if let c = try? TwoSpeedClient(socketPath: d.socket), (try? c.info()) != nil { served = true } else { usleep(20_000) }
        }
        XCTAssertTrue(served)
    }

    func testMaxClientsPerUID() throws {
        let d = try DaemonProcess(dir: dir, args: ["--max-clients-per-uid", "2"])
        func admitted() throws -> TwoSpeedClient {
            for _ in 0..<100 {
                let c = try TwoSpeedClient(socketPath: d.socket)
                if (try? c.info()) != nil { return c }
                usleep(20_000)  // polling: the connection that saw the daemon up may not be gone yet
            }
            throw DaemonFailure("not admitted")
        }
        let a = try admitted()
        let b = try admitted()  // kept open: these two are the uid's two connections
        let extra = try RawConnection(d.socket)
        let r = json(extra.readLine())
        defer { r.release() }
        XCTAssertEqual(r["error"]?["code"]?.intValue, -32011)
        XCTAssertEqual(r["error"]?["data"]?["limit"]?.intValue, 2)
        XCTAssertEqual(r["error"]?["data"]?["option"]?.stringValue, "--max-clients-per-uid")
        XCTAssertEqual(r["error"]?["data"]?["uid"]?.intValue, Int64(getuid()))
        XCTAssertTrue(extra.readsEOF())
        _ = try a.info()
        _ = try b.info()
        XCTAssertTrue(readText(d.log).contains("too many clients of one uid"))
    }

    func testUnfinishedMessageTimesOut() throws {
        let d = try DaemonProcess(dir: dir, args: ["--message-timeout", "1"])
        let stalled = try RawConnection(d.socket)
        let start = now()
        stalled.send("{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\"")
        let r = json(stalled.readLine())
        defer { r.release() }
        XCTAssertGreaterThan(now() - start, 0.9)
        XCTAssertEqual(r["error"]?["code"]?.intValue, -32600)
        XCTAssertEqual(r["error"]?["data"]?["timeout"]?.intValue, 1)
        XCTAssertTrue(r["error"]?["data"]?["reason"]?.stringValue?.contains("--message-timeout") ?? false)
        XCTAssertTrue(stalled.readsEOF())
        XCTAssertTrue(readText(d.log).contains("message not finished within 1 s"))
    }

    func testEachMessageHasItsOwnTimeout() throws {
        // Three messages, each split across pauses shorter than the timeout, take longer than the
        // timeout in all: every one is answered, since the clock restarts with each message. The pauses
        // leave 0.8 s to the timeout, which a loaded machine's scheduling does not eat (0.4 s did).
        let d = try DaemonProcess(dir: dir, args: ["--message-timeout", "2"])
        let c = try RawConnection(d.socket)
        let one = request("engine.info", id: 1), two = request("engine.info", id: 2), three = request("engine.info", id: 3)
        c.send(one + String(two.prefix(10)))
        usleep(1_200_000)  // the pacing under test, not a wait for something
        c.send(String(two.dropFirst(10)) + String(three.prefix(10)))
        usleep(1_200_000)
        c.send(String(three.dropFirst(10)))
        for id in 1...3 {
            let r = json(c.readLine())
            XCTAssertEqual(r["id"]?.intValue, Int64(id))
            XCTAssertNil(r["error"])
            r.release()
        }
    }

    func testIdleTimeout() throws {
        let d = try DaemonProcess(dir: dir, args: ["--idle-timeout", "1"])
        let idle = try RawConnection(d.socket)
        let busy = try TwoSpeedClient(socketPath: d.socket)
        let start = now()
        for _ in 0..<8 {
            _ = try busy.info()
            usleep(250_000)
        }
        XCTAssertTrue(idle.readsEOF(), "the idle connection is closed")
        XCTAssertGreaterThan(now() - start, 0.9)
        _ = try busy.info()  // the busy one was kept
        XCTAssertTrue(readText(d.log).contains("idle for 1 s"))
    }

    // MARK: Lifecycle

    func testStaleSocketIsReplacedAndALiveOneRefused() throws {
        // A socket file nobody listens on, as a crashed daemon leaves it.
        let path = dir + "/twospeed.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in raw.copyBytes(from: Array(path.utf8)) }
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        XCTAssertEqual(rc, 0)
        close(fd)
        XCTAssertTrue(fileExists(path))

        let d = try DaemonProcess(dir: dir)
        XCTAssertEqual(try TwoSpeedClient(socketPath: d.socket).info().abiVersion, 1)

        // A second daemon on the same socket fails to start, and says why.
        let log2 = dir + "/second.log"
        let status = runProgram([daemonPath, "--socket", path, "--db", dir + "/other.sqlite"], stderrPath: log2)
        XCTAssertEqual(status, 1)
        XCTAssertTrue(readText(log2).contains("another daemon is listening on \(path)"), readText(log2))
        // The first is unharmed.
        XCTAssertEqual(try TwoSpeedClient(socketPath: d.socket).info().abiVersion, 1)
    }

    func testNotASocketIsLeftAlone() throws {
        let path = dir + "/file"
        XCTAssertEqual(runProgram(["/usr/bin/touch", path]), 0)
        let log = dir + "/d.log"
        XCTAssertEqual(runProgram([daemonPath, "--socket", path, "--db", ":memory:"], stderrPath: log), 1)
        XCTAssertTrue(readText(log).contains("exists and is not a socket"))
        XCTAssertTrue(fileExists(path))
    }

    func testSigtermDuringLoadLosesNoAcknowledgedWrite() throws {
        let d = try DaemonProcess(dir: dir)
        try loadRetailer(try TwoSpeedClient(socketPath: d.socket))
        let acknowledged = Shared<[String: [Int]]>([:])
        let started = Shared<Int>(0)
        let clients = try (0..<8).map { _ in try TwoSpeedClient(socketPath: d.socket) }
        let stopper = Shared<Int32?>(nil)
        onThreads(9) { i in
            if i == 8 {
                // Stop the daemon once the writers are well under way.
                while started.with({ $0 }) < 200 { usleep(5_000) }
                stopper.with { $0 = d.stopAsync() }
                return
            }
            for k in 0..<100_000 {
                do {
                    _ = try clients[i].observe("nps", in: "retailer", [Observation(at: "2026-11-01", value: Double(k), source: "w\(i)")])
                    acknowledged.with { $0["w\(i)", default: []].append(k) }
                    started.with { $0 += 1 }
                } catch {
                    return  // the daemon went away: what was acknowledged must be on disk
                }
            }
        }
        XCTAssertEqual(d.waitStopped(), 0, readText(d.log))
        XCTAssertFalse(fileExists(d.socket), "the socket is removed")
        XCTAssertFalse(fileExists(d.db + "-wal"), "the store was closed cleanly (its WAL checkpointed and removed)")
        XCTAssertTrue(readText(d.log).contains("stopping: SIGTERM"))

        // Restart on the same store: everything acknowledged is there.
        try d.start()
        let client = try TwoSpeedClient(socketPath: d.socket)
        let nps = try client.entity(.metric, id: "nps", in: "retailer", as: Metric.self)
        let acked = acknowledged.with { $0 }
        XCTAssertGreaterThanOrEqual(acked.values.map(\.count).reduce(0, +), 200)
        for (source, values) in acked {
            let stored = Set(nps.observations.filter { $0.source == source }.map { Int($0.value) })
            XCTAssertTrue(Set(values).isSubset(of: stored), "\(source): \(Set(values).subtracting(stored).count) acknowledged writes lost")
        }
        XCTAssertEqual(try client.portfolio("retailer").portfolio.products.count, 5)
    }

    func testRestartOnTheSameStoreFindsEverything() throws {
        let d = try DaemonProcess(dir: dir)
        let client = try TwoSpeedClient(socketPath: d.socket)
        try loadRetailer(client)
        let before = try client.portfolio("retailer")
        _ = try client.observe("online-sales", in: "retailer", [Observation(at: "2026-12-01", value: 9.5)])
        XCTAssertEqual(d.stop(), 0)
        try d.start()
        let again = try TwoSpeedClient(socketPath: d.socket)
        let after = try again.portfolio("retailer")
        XCTAssertEqual(after.revision, before.revision + 1)
        XCTAssertEqual(after.portfolio.products, before.portfolio.products)
        XCTAssertEqual(after.portfolio.metrics.first { $0.id == "online-sales" }?.observations.last?.value, 9.5)
    }

    func testSystemdSocketActivation() throws {
        // A listening socket handed over as fd 3 with LISTEN_PID set to the daemon's pid, as systemd does.
        let path = dir + "/activated.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in raw.copyBytes(from: Array(path.utf8)) }
        XCTAssertEqual(withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }, 0)
        XCTAssertEqual(listen(fd, 16), 0)
        let log = dir + "/activated.log"
        let pid = spawn(["/bin/sh", "-c", "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" --db \"$1\"", daemonPath, dir + "/act.sqlite"],
                        stderrPath: log, extraFD: (fd, 3))
        close(fd)
        var client: TwoSpeedClient?
        for _ in 0..<500 where client == nil {
            if let c = try? TwoSpeedClient(socketPath: path), (try? c.info()) != nil { client = c } else { usleep(20_000) }
        }
        XCTAssertNotNil(client, readText(log))
        try loadRetailer(try XCTUnwrap(client))
        XCTAssertTrue(readText(log).contains("fd 3 from systemd"), readText(log))
        kill(pid, SIGTERM)
        XCTAssertEqual(waitExit(pid, seconds: 30), 0)
        XCTAssertTrue(fileExists(path), "systemd owns the socket file: the daemon leaves it")
    }
}

extension DaemonProcess {
    /// Sends SIGTERM without waiting.
    func stopAsync() -> Int32 { kill(pid, SIGTERM) }

    func waitStopped(seconds: Double = 60) -> Int32? {
        let status = waitExit(pid, seconds: seconds)
        markStopped(status)
        return status
    }
}
