import CJansson
import Glibc
import TwoSpeedJSON
import XCTest

/// The repository root (Tests/TwoSpeedDaemonTests/Support.swift is three levels down).
let repoRoot: String = {
    var path = #filePath
    for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
    return path
}()

/// A built program: $NAME_ENV when set (the Makefile points it at the release build), else the one
/// SwiftPM built beside this test bundle.
func builtProgram(_ name: String, env: String) -> String {
    if let p = getenv(env).map({ String(cString: $0) }), !p.isEmpty { return p }
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    let exe = n > 0 ? String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    return String(exe[..<exe.lastIndex(of: "/")!]) + "/" + name
}

let daemonPath = builtProgram("twospeedd", env: "TWOSPEED_DAEMON")
let cliPath = builtProgram("twospeed-cli", env: "TWOSPEED_CLI")

/// A fresh directory, removed by `cleanup`.
func makeTempDir() -> String {
    var template = Array("/tmp/twospeedd-test-XXXXXX".utf8CString)
    let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: p!)
}

func removeTree(_ path: String) {
    _ = runProgram(["/bin/rm", "-rf", path])
}

/// Runs a program to its end; returns its exit status (or 128 + signal).
@discardableResult
func runProgram(_ argv: [String], env: [String]? = nil, stdoutPath: String? = nil, stderrPath: String? = nil) -> Int32 {
    let pid = spawn(argv, env: env, stdoutPath: stdoutPath, stderrPath: stderrPath)
    return waitExit(pid)
}

/// Starts a program with posix_spawn; stdout and stderr to files (or /dev/null).
func spawn(_ argv: [String], env: [String]? = nil, stdoutPath: String? = nil, stderrPath: String? = nil,
           extraFD: (from: CInt, to: CInt)? = nil) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdoutPath ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, stderrPath ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
    if let extraFD { posix_spawn_file_actions_adddup2(&actions, extraFD.from, extraFD.to) }
    var cArgs = argv.map { strdup($0) } + [nil]
    defer { for a in cArgs { free(a) } }
    let environment = env ?? currentEnvironment()
    var cEnv = environment.map { strdup($0) } + [nil]
    defer { for e in cEnv { free(e) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, &cEnv)
    precondition(rc == 0, "cannot start \(argv[0]): \(String(cString: strerror(rc)))")
    return pid
}

func currentEnvironment() -> [String] {
    var out: [String] = []
    var p = environ
    while let e = p.pointee {
        out.append(String(cString: e))
        p += 1
    }
    return out
}

/// Waits for a process; the exit status, or 128 + the signal that ended it.
func waitExit(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    if status & 0x7f == 0 { return (status >> 8) & 0xff }
    return 128 + (status & 0x7f)
}

/// Waits for a process at most `seconds`; nil if it is still running.
func waitExit(_ pid: pid_t, seconds: Double) -> Int32? {
    let deadline = now() + seconds
    while true {  // looks at least once, so that 0 seconds asks whether it has exited
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid {
            if status & 0x7f == 0 { return (status >> 8) & 0xff }
            return 128 + (status & 0x7f)
        }
        if now() >= deadline { return nil }
        usleep(10_000)
    }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func fileExists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}

/// Writes a whole file (replacing it) with this mode, as tests lay out plugins and stores.
func writeFile(_ path: String, _ text: String, mode: mode_t = 0o644) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)
    precondition(fd >= 0, "cannot create \(path)")
    _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
    close(fd)
    chmod(path, mode)
}

func readText(_ path: String) -> String {
    guard let f = fopen(path, "rb") else { return "" }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        out.append(contentsOf: buf[..<n])
    }
    return String(decoding: out, as: UTF8.self)
}

/// A twospeedd child process on a socket in a temporary directory.
final class DaemonProcess: @unchecked Sendable {
    let dir: String
    let socket: String
    let db: String
    let log: String
    private(set) var pid: pid_t = 0
    private(set) var exitStatus: Int32?

    init(dir: String, db: String? = nil, args: [String] = []) throws {
        self.dir = dir
        self.socket = dir + "/twospeed.sock"
        self.db = db ?? dir + "/store.sqlite"
        self.log = dir + "/twospeedd.log"
        try start(args)
    }

    func start(_ args: [String] = []) throws {
        exitStatus = nil
        pid = spawn([daemonPath, "--socket", socket, "--db", db, "--log-level", "info"] + args, stderrPath: log)
        try waitUntilServing()
    }

    func waitUntilServing(seconds: Double = 30) throws {
        let deadline = now() + seconds
        while now() < deadline {
            if let c = try? RawConnection(socket) {
                c.close()
                return
            }
            if let status = waitExit(pid, seconds: 0) {
                exitStatus = status
                throw DaemonFailure("twospeedd exited with \(status):\n\(readText(log))")
            }
            usleep(20_000)
        }
        throw DaemonFailure("twospeedd did not start serving within \(seconds) s:\n\(readText(log))")
    }

    /// SIGTERM, and the exit status once it has stopped.
    @discardableResult
    func stop(seconds: Double = 30) -> Int32? {
        guard exitStatus == nil, pid > 0 else { return exitStatus }
        kill(pid, SIGTERM)
        exitStatus = waitExit(pid, seconds: seconds)
        if exitStatus == nil {
            kill(pid, SIGKILL)
            _ = waitExit(pid)
        }
        return exitStatus
    }

    func markStopped(_ status: Int32?) { exitStatus = status }

    deinit { _ = stop() }
}

struct DaemonFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A plain Unix-socket connection: bytes out, lines back.
final class RawConnection {
    let fd: CInt
    private var pending: [UInt8] = []

    init(_ path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let b = Array(path.utf8)
            raw.copyBytes(from: b)
            raw[b.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 {
            let e = errno
            Glibc.close(fd)
            throw DaemonFailure("connect \(path): \(String(cString: strerror(e)))")
        }
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func close() { Glibc.close(fd) }
    deinit { Glibc.close(fd) }

    /// Sends all bytes; false if the peer is gone.
    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL)) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                return false
            }
            done += n
        }
        return true
    }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// The next line, or nil at end of file (or error, or after the receive timeout).
    func readLine() -> String? {
        var searched = 0
        while true {
            if let i = pending[searched...].firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<i], as: UTF8.self)
                pending.removeSubrange(...i)
                return line
            }
            searched = pending.count
            var buf = [UInt8](repeating: 0, count: 65536)
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            pending.append(contentsOf: buf[..<n])
        }
    }

    /// True when the peer has closed: end of file comes before any more data.
    func readsEOF() -> Bool { readLine() == nil && pending.isEmpty }
}

/// Parses a JSON text that must be JSON; the caller releases it.
func json(_ text: String?, file: StaticString = #filePath, line: UInt = #line) -> JSONRef {
    guard let text else {
        XCTFail("no reply", file: file, line: line)
        return JSONMake.null()
    }
    switch JSONText.parse(text) {
    case .success(let v): return v
    case .failure(let e):
        XCTFail("not JSON (\(e.reason)): \(text.prefix(200))", file: file, line: line)
        return JSONMake.null()
    }
}

func request(_ method: String, _ params: String? = nil, id: Int) -> String {
    "{\"jsonrpc\":\"2.0\",\"method\":\"\(method)\"" + (params.map { ",\"params\":\($0)" } ?? "") + ",\"id\":\(id)}\n"
}

/// Runs `body(i)` for i in 0..<n, each on its own thread, all at once; returns when all are done.
func onThreads(_ n: Int, _ body: @escaping @Sendable (Int) -> Void) {
    final class Job: @unchecked Sendable {
        let i: Int
        let body: @Sendable (Int) -> Void
        init(_ i: Int, _ body: @escaping @Sendable (Int) -> Void) { self.i = i; self.body = body }
    }
    var threads: [pthread_t] = []
    for i in 0..<n {
        var t = pthread_t()
        let job = Unmanaged.passRetained(Job(i, body)).toOpaque()
        let rc = pthread_create(&t, nil, { arg in
            let job = Unmanaged<Job>.fromOpaque(arg!).takeRetainedValue()
            job.body(job.i)
            return nil
        }, job)
        precondition(rc == 0)
        threads.append(t)
    }
    for t in threads { pthread_join(t, nil) }
}

/// A counter and a list shared by test threads.
final class Shared<T>: @unchecked Sendable {
    private var value: T
    private var mutex = pthread_mutex_t()
    init(_ v: T) { value = v; pthread_mutex_init(&mutex, nil) }
    func with<R>(_ body: (inout T) -> R) -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body(&value)
    }
}
