import Glibc
import TwoSpeedJSON
import XCTest

/// plugin.load over the socket, tried as an attacker would: a peer that may write must not get the daemon
/// to run a program of its choosing, read a file it cannot read, or hold a thread.
final class PluginAccessTests: XCTestCase {
    var dir = ""
    var plugins = ""
    var outside = ""

    override func setUp() {
        dir = makeTempDir()
        plugins = dir + "/plugins"
        outside = dir + "/outside"
        mkdir(plugins, 0o755)
        mkdir(outside, 0o755)
        // The same plugin inside and outside the folder; each leaves a mark when it is started.
        for folder in [plugins + "/marker", outside] {
            if folder != outside { mkdir(folder, 0o755) }
            write(folder + "/plugin.sh", "#!/bin/sh\necho started >> \"\(folder)/started\"\nexec cat > /dev/null\n", mode: 0o755)
            write(folder + "/plugin.json", #"{"name": "marker", "version": "1", "kind": "process", "path": "plugin.sh", "extensionPoints": ["check"]}"#)
        }
    }

    override func tearDown() { removeTree(dir) }

    func write(_ path: String, _ text: String, mode: mode_t = 0o644) { writeFile(path, text, mode: mode) }

    func eventually(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
        let deadline = now() + seconds
        while now() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    /// The daemon's child processes, from /proc.
    func children(of pid: pid_t) -> [String] {
        var out: [String] = []
        guard let d = opendir("/proc/\(pid)/task") else { return [] }
        defer { closedir(d) }
        while let e = readdir(d) {
            let tid = withUnsafePointer(to: e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
            if tid.hasPrefix(".") { continue }
            out += readText("/proc/\(pid)/task/\(tid)/children").split(separator: " ").map(String.init)
        }
        return out
    }

    func load(_ c: RawConnection, _ manifest: String, id: Int = 1) -> (code: Int?, text: String) {
        c.send(request("plugin.load", "{\"manifest\":\(JSONText.quoted(manifest))}", id: id))
        let text = c.readLine() ?? ""
        let r = json(text)
        defer { r.release() }
        return (r["error"]?["code"]?.intValue.map { Int($0) }, text)
    }

    func assertNothingStarted(_ d: DaemonProcess, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(fileExists(outside + "/started"), "the plugin outside the folder was started", file: file, line: line)
        XCTAssertFalse(fileExists(plugins + "/marker/started"), "the plugin was started", file: file, line: line)
        XCTAssertEqual(children(of: d.pid), [], "the daemon has a child process", file: file, line: line)
    }

    func testManifestsOutsideThePluginFolderAreRefused() throws {
        let d = try DaemonProcess(dir: dir, args: ["--plugins", plugins])
        defer { d.stop() }
        // The folder's own plugin is loaded at start; unload it so that every load below would be new.
        let c = try RawConnection(d.socket)
        c.send(request("plugin.unload", #"{"name":"marker"}"#, id: 9))
        XCTAssertNotNil(json(c.readLine())["result"])
        unlink(plugins + "/marker/started")
        XCTAssertEqual(children(of: d.pid), [])

        // Named by its absolute path, by ".." from inside, and through a symlink inside the folder.
        symlink(outside, plugins + "/link")
        symlink(outside + "/plugin.json", plugins + "/link.json")
        for name in [outside + "/plugin.json", plugins + "/../outside/plugin.json", "../outside/plugin.json",
                     plugins + "/link/plugin.json", plugins + "/link.json", "link.json", "/nonexistent/plugin.json"] {
            let r = load(c, name)
            XCTAssertEqual(r.code, -32004, "\(name): \(r.text)")
            XCTAssertTrue(r.text.contains("plugin folders"), r.text)
        }
        // A secret file the daemon's user can read: refused before it is opened, and never quoted.
        write(outside + "/shadow", "root:$6$SECRETSALT$SECRETHASH:19000:0:99999:7:::\n{\"name\": \"SECRETJSON\"}\n", mode: 0o600)
        let secret = load(c, outside + "/shadow")
        XCTAssertEqual(secret.code, -32004, secret.text)
        XCTAssertFalse(secret.text.contains("SECRET"), secret.text)
        // A FIFO outside: refused at once, not opened.
        mkfifo(outside + "/fifo.json", 0o644)
        let started = now()
        XCTAssertEqual(load(c, outside + "/fifo.json").code, -32004)
        XCTAssertLessThan(now() - started, 5)
        assertNothingStarted(d)

        // The control: the folder's own manifest, by absolute and by relative path, does load and start.
        let ok = load(c, "marker/plugin.json")
        XCTAssertNil(ok.code, ok.text)
        XCTAssertTrue(eventually { fileExists(self.plugins + "/marker/started") }, "the control plugin was not started")
        XCTAssertEqual(children(of: d.pid).count, 1)
    }

    /// Inside the folder too, a file that is not a manifest is reported without its text, and a FIFO named as
    /// a manifest is answered at once: four of them leave the daemon serving.
    func testFilesInsideTheFolderAreNeverQuotedAndFIFOsDoNotBlock() throws {
        write(plugins + "/secret.json", "root:$6$SECRETSALT$SECRETHASH:19000:0:99999:7:::\ndaemon:*:SECRETLINE2\n", mode: 0o600)
        for i in 0..<4 { mkfifo(plugins + "/fifo\(i).json", 0o644) }
        let d = try DaemonProcess(dir: dir, args: ["--plugins", plugins])
        defer { d.stop() }
        let c = try RawConnection(d.socket)
        let r = load(c, plugins + "/secret.json")
        XCTAssertEqual(r.code, -32602, r.text)
        XCTAssertFalse(r.text.contains("SECRET") || r.text.contains("root:"), r.text)
        XCTAssertTrue(r.text.contains("not JSON"), r.text)

        // Four connections each name a FIFO at once; each answer comes promptly.
        let answers = Shared<[String]>([])
        let socket = d.socket
        let started = now()
        onThreads(4) { i in
            guard let c = try? RawConnection(socket) else { return }
            c.send(request("plugin.load", "{\"manifest\":\"fifo\(i).json\"}", id: i))
            answers.with { $0.append(c.readLine() ?? "") }
        }
        XCTAssertLessThan(now() - started, 5, "a FIFO held a thread")
        let all = answers.with { $0 }
        XCTAssertEqual(all.count, 4)
        for a in all { XCTAssertTrue(a.contains("-32602") && a.contains("not a regular file"), a) }
        // And the daemon still serves, writes included.
        c.send(request("portfolio.list", nil, id: 5))
        XCTAssertNotNil(json(c.readLine())["result"])
        // plugin.list at start named the FIFOs as failed manifests without hanging the start either.
        c.send(request("plugin.list", nil, id: 6))
        let list = c.readLine() ?? ""
        XCTAssertTrue(list.contains("fifo0.json") && list.contains("not a regular file"), list)
    }

    /// A peer that may write but is not an administrator loads and unloads nothing.
    func testAWriterWhoIsNotAnAdministratorIsRefused() throws {
        // The test runs as the daemon's uid; --admin-uid names another, so this peer is a writer but no admin.
        let d = try DaemonProcess(dir: dir, args: ["--plugins", plugins, "--admin-uid", "4242"])
        defer { d.stop() }
        XCTAssertTrue(eventually { fileExists(self.plugins + "/marker/started") }, "the folder's plugin starts with the daemon")
        let c = try RawConnection(d.socket)
        c.send(request("plugin.unload", #"{"name":"marker"}"#, id: 1))
        let unload = json(c.readLine())
        XCTAssertEqual(unload["error"]?["code"]?.intValue, -32004)
        XCTAssertTrue(unload["error"]?["data"]?["reason"]?.stringValue?.contains("administrators") ?? false)
        XCTAssertEqual(children(of: d.pid).count, 1, "the plugin is still running")

        unlink(plugins + "/marker/started")
        write(plugins + "/second.json", #"{"name": "second", "version": "1", "kind": "process", "path": "marker/plugin.sh", "extensionPoints": ["check"]}"#)
        let r = load(c, plugins + "/second.json")
        XCTAssertEqual(r.code, -32004, r.text)
        XCTAssertFalse(fileExists(plugins + "/marker/started"), "a non-administrator started a plugin")
        XCTAssertEqual(children(of: d.pid).count, 1)
        // Writes other than plugins are still this peer's to make.
        let doc = json(readText(repoRoot + "/examples/portfolios/retailer.json"))
        defer { doc.release() }
        c.send(request("portfolio.put", "{\"portfolio\":\(JSONText.dump(doc))}", id: 3))
        let put = c.readLine() ?? ""
        XCTAssertTrue(put.contains("\"result\""), put)
    }
}
