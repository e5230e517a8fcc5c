import Glibc
import TwoSpeedSync

/// An executable speaking JSON-RPC 2.0, one message per line, on its stdin and stdout. It runs in its
/// own process group on one end of a socket pair (so a dead plugin can never raise SIGPIPE in the
/// host: writes use MSG_NOSIGNAL), and every exchange has a deadline.
final class ProcessTransport: Transport {
    let path: String
    let args: [String]
    let env: [String: String]
    let folder: String
    private var pid: pid_t = 0
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    /// The running child's pid, for `kill()` from another thread while a call holds the transport; cleared
    /// under this lock before the child is reaped, so that a kill never reaches a reused pid.
    private let killable = Locked<pid_t>(0)
    static let maxResponse = 16 << 20

    init(path: String, args: [String], env: [String: String], folder: String) {
        self.path = path; self.args = args; self.env = env; self.folder = folder
    }

    deinit { shutdown() }

    var running: Bool { pid > 0 }

    func start() throws {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw PluginFailure("socketpair: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        _ = spawnAddChdir(&actions, folder)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Its own process group, so that killing a hung plugin also kills what it started; and the
        // default signal dispositions, whatever the host set.
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([path] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var environment: [String: String] = [:]
        var e = environ
        while let entry = e.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { environment[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            e += 1
        }
        for (k, v) in env { environment[k] = v }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for a in envp { free(a) } }

        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, &attr, argv, envp)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw PluginFailure("cannot start \(path): \(String(cString: strerror(rc)))")
        }
        pid = child
        killable.write { $0 = child }
        fd = fds[0]
        buffer.removeAll(keepingCapacity: true)
    }

    func exchange(_ request: String, timeoutMs: Int) throws -> String {
        if !running { try start() }
        let deadline = now() + Double(timeoutMs) / 1000
        do {
            try send(request + "\n", deadline: deadline, timeoutMs: timeoutMs)
            return try receiveLine(deadline: deadline, timeoutMs: timeoutMs)
        } catch {
            shutdown()
            throw error
        }
    }

    private func send(_ text: String, deadline: Double, timeoutMs: Int) throws {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            try wait(for: Int16(POLLOUT), deadline: deadline, timeoutMs: timeoutMs)
            let n = bytes.withUnsafeMutableBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw PluginFailure(exitReason() ?? "the plugin stopped reading its input (\(String(cString: strerror(errno))))")
            }
            offset += n
        }
    }

    private func receiveLine(deadline: Double, timeoutMs: Int) throws -> String {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            if buffer.count > ProcessTransport.maxResponse {
                throw PluginFailure("the plugin wrote more than \(ProcessTransport.maxResponse) bytes without a newline")
            }
            try wait(for: Int16(POLLIN), deadline: deadline, timeoutMs: timeoutMs)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw PluginFailure("reading from the plugin: \(String(cString: strerror(errno)))")
            }
            if n == 0 {
                throw PluginFailure(exitReason(waitBriefly: true) ?? "the plugin closed its output")
            }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    private func wait(for events: Int16, deadline: Double, timeoutMs: Int) throws {
        while true {
            let left = deadline - now()
            if left <= 0 { throw PluginFailure("no answer within \(timeoutMs) ms") }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let r = poll(&p, 1, Int32(min(left * 1000 + 1, 2_000_000_000)))
            if r > 0 { return }
            if r < 0 && errno != EINTR { throw PluginFailure("poll: \(String(cString: strerror(errno)))") }
        }
    }

    /// "crashed with signal 11" or "exited with status 3", once the child is gone.
    private func exitReason(waitBriefly: Bool = false) -> String? {
        guard pid > 0 else { return nil }
        var status: Int32 = 0
        var r = waitpid(pid, &status, WNOHANG)
        if r == 0 && waitBriefly {
            // EOF usually means the child is exiting; give it a moment to be reaped.
            for _ in 0..<50 where r == 0 { usleep(2_000); r = waitpid(pid, &status, WNOHANG) }
        }
        guard r == pid else { return nil }
        killable.write { $0 = 0 }
        pid = 0
        let signal = status & 0x7f
        if signal != 0 { return "the plugin crashed with signal \(signal) (\(String(cString: strsignal(signal))))" }
        return "the plugin exited with status \((status >> 8) & 0xff)"
    }

    func shutdown() {
        if fd >= 0 { close(fd); fd = -1 }
        if pid > 0 {
            killable.write { $0 = 0 }
            Glibc.kill(-pid, SIGKILL)
            Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            pid = 0
        }
        buffer.removeAll()
    }
}

extension ProcessTransport: Killable {
    /// SIGKILL to the plugin and its process group, from any thread: a call waiting on it sees end of file
    /// at once and fails; the child is reaped by that call (or the next shutdown).
    func kill() {
        killable.read { pid in
            guard pid > 0 else { return }
            Glibc.kill(-pid, SIGKILL)
            Glibc.kill(pid, SIGKILL)
        }
    }
}

// glibc declares posix_spawn_file_actions_addchdir_np only under _GNU_SOURCE, which the Glibc module
// is not built with; it has been in glibc since 2.29.
@_silgen_name("posix_spawn_file_actions_addchdir_np")
func spawnAddChdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: UnsafePointer<CChar>) -> Int32

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
