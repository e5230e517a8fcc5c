import Glibc
import TwoSpeedJSON
import XCTest

/// The smaller holes of the reliability pass (issue 25), each tried the way an operator or an attacker
/// would meet it, against a real daemon or the real CLI.
final class HardeningTests: XCTestCase {
    var dir = ""

    override func setUp() { dir = makeTempDir() }
    override func tearDown() { removeTree(dir) }

    func write(_ path: String, _ text: String, mode: mode_t = 0o644) { writeFile(path, text, mode: mode) }

    /// A process plugin "stuck" in dir/plugins that runs `before` (given its folder) and then never answers,
    /// with a timeout far past any test's; returns its folder.
    func stuckPlugin(_ before: (String) -> String) -> String {
        let plugins = dir + "/plugins/stuck"
        mkdir(dir + "/plugins", 0o755)
        mkdir(plugins, 0o755)
        write(plugins + "/plugin.sh", "#!/bin/sh\n" + before(plugins) + "exec sleep 100000\n", mode: 0o755)
        write(plugins + "/plugin.json",
              #"{"name": "stuck", "version": "1", "kind": "process", "path": "plugin.sh", "extensionPoints": ["check"], "timeout": 600000}"#)
        return plugins
    }

    func retailer(id: String = "retailer") -> String {
        let doc = json(readText(repoRoot + "/examples/portfolios/retailer.json"))
        defer { doc.release() }
        doc.set("id", JSONMake.string(id))
        return JSONText.dump(doc)
    }

    func call(_ c: RawConnection, _ method: String, _ params: String? = nil, id: Int = 1) -> JSONRef {
        c.send(request(method, params, id: id))
        return json(c.readLine())
    }

    // MARK: --shutdown-timeout is a hard bound

    /// A process plugin that never answers holds a request past --shutdown-timeout: the stop kills it, the
    /// request fails, and the daemon exits well before the plugin's own 600 s timeout.
    func testShutdownTimeoutBoundsAStuckPlugin() throws {
        let plugins = stuckPlugin { "echo $$ > \"\($0)/pid\"\nread line\n" }
        let d = try DaemonProcess(dir: dir, args: ["--plugins", dir + "/plugins", "--shutdown-timeout", "1"])
        defer { d.stop() }
        let c = try RawConnection(d.socket)
        c.send(request("plugin.call", #"{"plugin":"stuck","method":"anything"}"#, id: 1))
        // The request is with the plugin once the plugin has read it; give it that moment.
        usleep(500_000)
        let pid = pid_t(readText(plugins + "/pid").filter { $0.isNumber }) ?? 0
        XCTAssertGreaterThan(pid, 0, "the plugin did not start")

        let started = now()
        kill(d.pid, SIGTERM)
        let status = waitExit(d.pid, seconds: 20)
        d.markStopped(status)
        let took = now() - started
        XCTAssertEqual(status, 0, readText(d.log))
        XCTAssertLessThan(took, 1 + 4, "the stop took \(took) s with --shutdown-timeout 1:\n\(readText(d.log))")
        XCTAssertTrue(readText(d.log).contains("plugin process(es) killed"), readText(d.log))
        // The stuck call was answered (an error), not left hanging.
        let reply = c.readLine() ?? ""
        XCTAssertTrue(reply.isEmpty || reply.contains("-32006") || reply.contains("-32603"), reply)
        var gone = false
        for _ in 0..<200 where !gone {
            gone = kill(pid, 0) != 0
            if !gone { usleep(10_000) }
        }
        XCTAssertTrue(gone, "the plugin process \(pid) outlived the daemon")
    }

    /// The same when the client has gone: its request still holds a pool thread on the stuck plugin, and the
    /// stop waits for it only until --shutdown-timeout, then kills the plugin and exits cleanly (status 0,
    /// not the last-resort exit 1 five seconds later).
    func testShutdownTimeoutBoundsARequestWhoseClientHasGone() throws {
        let plugins = stuckPlugin { "read line\necho called > \"\($0)/called\"\n" }
        let d = try DaemonProcess(dir: dir, args: ["--plugins", dir + "/plugins", "--shutdown-timeout", "1"])
        defer { d.stop() }
        let c = try RawConnection(d.socket)
        c.send(request("plugin.call", #"{"plugin":"stuck","method":"anything"}"#, id: 1))
        var called = false
        for _ in 0..<500 where !called {
            called = fileExists(plugins + "/called")
            if !called { usleep(10_000) }
        }
        XCTAssertTrue(called, "the plugin never got the request")
        // Gone with a reset (SO_LINGER 0): the daemon's connection closes at once, its request still running.
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        c.close()
        usleep(300_000)
        let started = now()
        kill(d.pid, SIGTERM)
        let status = waitExit(d.pid, seconds: 20)
        d.markStopped(status)
        XCTAssertEqual(status, 0, readText(d.log))
        XCTAssertLessThan(now() - started, 1 + 4, readText(d.log))
        XCTAssertTrue(readText(d.log).contains("closing 0 connection(s) and 1 request(s) still busy"), readText(d.log))
    }

    /// What no kill can end: an in-process plugin stuck in its own code holds a pool thread for ever. The
    /// last resort exits 5 s after --shutdown-timeout, with status 1 and a critical line saying why.
    func testAStuckInProcessPluginCannotHoldTheStopForEver() throws {
        let plugins = dir + "/plugins/spin"
        mkdir(dir + "/plugins", 0o755)
        mkdir(plugins, 0o755)
        write(plugins + "/spin.c", """
            #include <unistd.h>
            #include "twospeed_plugin.h"
            static char *call(void *state, const char *request) { (void)state; (void)request; for (;;) pause(); }
            static void release(void *state, char *response) { (void)state; (void)response; }
            int twospeed_plugin_init(twospeed_plugin *p, uint32_t abi, uint32_t size) {
                if (abi != TWOSPEED_PLUGIN_ABI_VERSION || size < sizeof *p) return 1;
                p->abi_version = TWOSPEED_PLUGIN_ABI_VERSION; p->struct_size = sizeof *p;
                p->name = "spin"; p->version = "1"; p->extension_points = "check";
                p->call = call; p->release = release; p->state = 0;
                return 0;
            }
            """)
        XCTAssertEqual(runProgram(["/bin/sh", "-c", "cc -shared -fPIC -I'\(repoRoot)/include' '\(plugins)/spin.c' -o '\(plugins)/libspin.so'"],
                                  stderrPath: dir + "/cc.txt"), 0, readText(dir + "/cc.txt"))
        write(plugins + "/plugin.json", #"{"name": "spin", "version": "1", "kind": "in-process", "path": "libspin.so", "extensionPoints": ["check"]}"#)
        let d = try DaemonProcess(dir: dir, args: ["--plugins", dir + "/plugins", "--shutdown-timeout", "1"])
        defer { d.stop() }
        let c = try RawConnection(d.socket)
        c.send(request("plugin.call", #"{"plugin":"spin","method":"anything"}"#, id: 1))
        usleep(500_000)
        let started = now()
        kill(d.pid, SIGTERM)
        let status = waitExit(d.pid, seconds: 30)
        d.markStopped(status)
        let took = now() - started
        XCTAssertEqual(status, 1, readText(d.log))
        XCTAssertGreaterThan(took, 5, "it gave the request its time first")
        XCTAssertLessThan(took, 1 + 5 + 3, readText(d.log))
        XCTAssertTrue(readText(d.log).contains("still stopping 6 s after the stop was asked for; exiting now"), readText(d.log))
    }

    // MARK: Client strings in the log

    /// A method name is the client's text: a newline in it must not start a line of its own in the log, and
    /// an escape sequence must not reach the terminal that shows the log.
    func testAMethodNameCannotForgeALogLine() throws {
        let d = try DaemonProcess(dir: dir)
        defer { d.stop() }
        let c = try RawConnection(d.socket)
        let forged = "2026-01-01T00:00:00+0000 critical twospeedd : FORGED the store is corrupt"
        let r = call(c, "nope\\n\(forged)\\u001b[2J\\u009b31m")
        XCTAssertEqual(r["error"]?["code"]?.intValue, -32601)
        d.stop()
        let log = readText(d.log)
        let lines = log.split(separator: "\n")
        let line = try XCTUnwrap(lines.first { $0.contains("error reply") && $0.contains("-32601") }, log)
        XCTAssertTrue(line.contains("nope\\n2026-01-01T00:00:00+0000 critical twospeedd : FORGED"), String(line))
        XCTAssertTrue(line.contains("\\e[2J") && line.contains("\\u{9b}31m"), String(line))
        XCTAssertFalse(lines.contains { $0.hasPrefix("2026-01-01T00:00:00") }, log)
        XCTAssertFalse(log.unicodeScalars.contains { $0 == "\u{1b}" || $0 == "\u{9b}" }, "a control character reached the log")
    }

    // MARK: A store removed or replaced under the daemon

    func testAStoreRemovedUnderTheDaemonRefusesWrites() throws {
        let d = try DaemonProcess(dir: dir)
        defer { d.stop() }
        XCTAssertTrue(readText(d.log).contains("created a new, empty store"), readText(d.log))
        let c = try RawConnection(d.socket)
        XCTAssertNotNil(call(c, "portfolio.put", "{\"portfolio\":\(retailer())}")["result"])
        // The store, its WAL and shared memory go away (a cleanup script, a wrong rm).
        for suffix in ["", "-wal", "-shm"] { unlink(d.db + suffix) }
        let put = call(c, "portfolio.put", "{\"portfolio\":\(retailer(id: "second"))}", id: 2)
        XCTAssertEqual(put["error"]?["code"]?.intValue, -32002, JSONText.dump(put))
        XCTAssertTrue(put["error"]?["data"]?["reason"]?.stringValue?.contains("removed") ?? false, JSONText.dump(put))
        // Reads still answer from memory; no write is acknowledged while the path leads nowhere.
        XCTAssertNotNil(call(c, "portfolio.list", id: 3)["result"])
        XCTAssertEqual(call(c, "portfolio.put", "{\"portfolio\":\(retailer())}", id: 4)["error"]?["code"]?.intValue, -32002)
        d.stop()
        // The next start says it made a new store, rather than serving an empty one without a word.
        let log2 = dir + "/second.log"
        let pid = spawn([daemonPath, "--socket", d.socket, "--db", d.db], stderrPath: log2)
        defer { kill(pid, SIGTERM); _ = waitExit(pid, seconds: 20) }
        var logged = false
        for _ in 0..<1000 where !logged {
            logged = readText(log2).contains("listening")
            if !logged { usleep(20_000) }
        }
        XCTAssertTrue(readText(log2).contains("created a new, empty store"), readText(log2))
    }

    func testAStoreReplacedUnderTheDaemonRefusesWrites() throws {
        let d = try DaemonProcess(dir: dir)
        defer { d.stop() }
        let c = try RawConnection(d.socket)
        XCTAssertNotNil(call(c, "portfolio.put", "{\"portfolio\":\(retailer())}")["result"])
        // Another file takes the path (a restore from backup, a deploy): here a copy of the store.
        XCTAssertEqual(runProgram(["/bin/cp", d.db, dir + "/copy.sqlite"]), 0)
        XCTAssertEqual(rename(dir + "/copy.sqlite", d.db), 0)
        let put = call(c, "portfolio.put", "{\"portfolio\":\(retailer(id: "second"))}", id: 2)
        XCTAssertEqual(put["error"]?["code"]?.intValue, -32002, JSONText.dump(put))
        XCTAssertTrue(put["error"]?["data"]?["reason"]?.stringValue?.contains("replaced") ?? false, JSONText.dump(put))
        d.stop()
        // Nothing acknowledged is missing from the file at the path: "second" was refused, and is not there.
        let d2 = try DaemonProcess(dir: dir + "/", db: d.db)
        defer { d2.stop() }
        let c2 = try RawConnection(d2.socket)
        let list = call(c2, "portfolio.list")
        XCTAssertFalse(JSONText.dump(list).contains("\"second\""), JSONText.dump(list))
    }

    // MARK: Control characters in text output

    func testTheTextReportEscapesControlCharactersFromNames() throws {
        let doc = json(readText(repoRoot + "/examples/portfolios/retailer.json"))
        defer { doc.release() }
        let org = doc["organization"]!
        org.set("name", JSONMake.string("Evil\u{1b}]0;pwned\u{07}\u{1b}[2J\u{9b}31mCorp\rOverwritten"))
        let file = dir + "/evil.json"
        write(file, JSONText.dump(doc))
        for format in ["text", "markdown"] {
            let out = dir + "/out-\(format).txt"
            XCTAssertEqual(runProgram([cliPath, "report", file, "--format", format], stdoutPath: out,
                                      stderrPath: dir + "/err.txt"), 0, readText(dir + "/err.txt"))
            let text = readText(out)
            // The text report escapes names itself, as the CLI would at output (the Markdown one escapes them
            // its own way, and only the absence of any is asked of it).
            if format == "text" {
                XCTAssertTrue(text.contains("Evil\\e]0;pwned\\u{7}\\e[2J\\u{9b}31mCorp\\rOverwritten"), "\(format):\n\(text.prefix(600))")
            }
            XCTAssertFalse(text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" || $0.value == 0x9b || $0.value == 0x7f },
                           "a control character reached standard output (\(format))")
        }
        // Written to a file, the report is the engine's text as it is, and the engine escapes names itself
        // (report.render reaches C and Python callers with no CLI in between).
        XCTAssertEqual(runProgram([cliPath, "report", file, "--format", "text", "--output", dir + "/r.txt"]), 0)
        let written = readText(dir + "/r.txt")
        XCTAssertFalse(written.contains("\u{1b}"), written)
        XCTAssertTrue(written.contains("Evil\\e]0;pwned"), written)
    }

    // MARK: A stale socket that cannot be replaced

    func testAStaleSocketThatCannotBeRemovedIsReportedClearly() throws {
        // A socket no one listens on, in a folder the daemon's user cannot write: run as nobody.
        let sockets = dir + "/sockets"
        mkdir(sockets, 0o755)
        let path = sockets + "/twospeed.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let b = Array(path.utf8)
            raw.copyBytes(from: b)
            raw[b.count] = 0
        }
        XCTAssertEqual(withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }, 0)
        close(fd)
        // Anyone may connect to it, so that the daemon can tell it is stale; no one but root may remove it.
        chmod(path, 0o777)
        chmod(dir, 0o755)
        let log = dir + "/stale.log"
        let status = runProgram(["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                 daemonPath, "--socket", path, "--db", ":memory:"], stderrPath: log)
        XCTAssertEqual(status, 1, readText(log))
        let text = readText(log)
        XCTAssertTrue(text.contains("a stale socket is at \(path)") && text.contains("not writable"), text)
        XCTAssertTrue(text.contains("give another --socket"), text)
    }

    /// A folder made read-only while the daemon runs: the socket cannot be removed at stop, and the log says
    /// so at once rather than leaving a stale socket without a word.
    func testASocketThatCannotBeRemovedAtStopIsLogged() throws {
        let sockets = dir + "/sockets"
        mkdir(sockets, 0o755)
        chmod(dir, 0o755)
        let nobody = getpwnam("nobody")!.pointee
        chown(sockets, nobody.pw_uid, nobody.pw_gid)
        let path = sockets + "/twospeed.sock"
        let log = dir + "/ro.log"
        let pid = spawn(["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                         daemonPath, "--socket", path, "--db", ":memory:", "--allow-uid", "0"], stderrPath: log)
        var up = false
        for _ in 0..<1500 where !up {
            up = (try? RawConnection(path)) != nil
            if !up { usleep(20_000) }
        }
        XCTAssertTrue(up, readText(log))
        chmod(sockets, 0o555)
        kill(pid, SIGTERM)
        XCTAssertEqual(waitExit(pid, seconds: 20), 0, readText(log))
        XCTAssertTrue(fileExists(path))
        XCTAssertTrue(readText(log).contains("cannot remove the socket \(path)"), readText(log))
    }
}
