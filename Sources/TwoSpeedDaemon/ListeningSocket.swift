import Glibc

/// Why the daemon cannot start, worded for a person.
public struct DaemonError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The listening socket: created at a path (replacing a stale one, refusing a live one), or handed over
/// by systemd (socket activation: LISTEN_PID and LISTEN_FDS, the socket at fd 3).
public enum ListeningSocket {
    /// The first socket passed by systemd, when LISTEN_PID names this process. The variables are unset,
    /// as sd_listen_fds(3) does, so that child processes do not take them for theirs.
    public static func fromSystemd() throws -> CInt? {
        guard let pidText = getenv("LISTEN_PID").map({ String(cString: $0) }),
              let fdsText = getenv("LISTEN_FDS").map({ String(cString: $0) }) else { return nil }
        guard Int32(pidText) == getpid() else { return nil }
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_FDNAMES")
        guard let n = Int(fdsText), n >= 1 else {
            throw DaemonError("LISTEN_FDS=\(fdsText): systemd passed no socket")
        }
        let fd: CInt = 3  // SD_LISTEN_FDS_START
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFSOCK else {
            throw DaemonError("LISTEN_FDS=\(n) but fd 3 is not a socket")
        }
        var accepting: CInt = 0
        var len = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0, accepting == 1 else {
            throw DaemonError("the socket systemd passed (fd 3) is not listening; use ListenStream= in the .socket unit")
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    /// What is at a path.
    public enum Probe: Equatable {
        case absent
        /// A socket nobody listens on: left by a daemon that died.
        case stale
        /// A daemon answers there.
        case live
    }

    public static func probe(_ path: String) throws -> Probe {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT { return .absent }
            throw DaemonError("cannot examine \(path): \(lastError())")
        }
        guard (st.st_mode & S_IFMT) == S_IFSOCK else {
            throw DaemonError("\(path) exists and is not a socket; not replacing it")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DaemonError("socket(): \(lastError())") }
        defer { close(fd) }
        var addr = try address(path)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc == 0 { return .live }
        if errno == ECONNREFUSED { return .stale }
        // EAGAIN: a live daemon whose backlog is full.
        if errno == EAGAIN { return .live }
        throw DaemonError("cannot probe \(path): \(lastError())")
    }

    /// Refuses a path where a daemon answers; removes a stale socket.
    public static func clear(_ path: String) throws {
        switch try probe(path) {
        case .absent: return
        case .live:
            throw DaemonError("another daemon is listening on \(path); stop it first, or give another --socket")
        case .stale:
            if unlink(path) != 0 && errno != ENOENT {
                let e = errno
                throw DaemonError("a stale socket is at \(path) (no daemon listens on it) and cannot be replaced: removing it failed "
                                  + "(\(String(cString: strerror(e)))\(e == EACCES || e == EPERM || e == EROFS ? "; its folder is not writable by this user" : "")). "
                                  + "Remove it, make its folder writable, or give another --socket")
            }
        }
    }

    /// Creates the socket file with exactly `mode` (it never exists with wider permissions) and listens.
    /// Returns the descriptor and the file's inode, to remove only this file at exit.
    ///
    /// The mode is set before the file exists, never by path afterwards: whoever can write to the
    /// folder could swap the new socket for a symlink between bind() and a chmod(path), and the chmod
    /// would then change the mode of the file the link points to (root's, say). So: fchmod on the socket
    /// (Linux gives the file the socket inode's mode) and the umask around bind, then only lstat, which
    /// does not follow links.
    public static func bind(_ path: String, mode: mode_t, backlog: CInt = 256) throws -> (fd: CInt, inode: ino_t) {
        var addr = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DaemonError("socket(): \(lastError())") }
        _ = fchmod(fd, mode & 0o777)
        let oldMask = umask(~mode & 0o777)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        let bindErrno = errno
        umask(oldMask)
        guard rc == 0 else {
            close(fd)
            throw DaemonError("cannot create the socket \(path): \(String(cString: strerror(bindErrno)))")
        }
        // What is at the path now must be the socket just made: a socket of this user with the mode.
        // Anything else was put there by someone else since bind(); it is left alone.
        var st = stat()
        guard lstat(path, &st) == 0 else {
            let e = lastError()
            close(fd)
            throw DaemonError("cannot examine the new socket \(path): \(e)")
        }
        guard (st.st_mode & S_IFMT) == S_IFSOCK, st.st_uid == geteuid() else {
            close(fd)
            throw DaemonError("\(path) was replaced by something else right after the socket was created there; not serving it")
        }
        if st.st_mode & 0o7777 != mode & 0o777 && !fixMode(path, inode: st.st_ino, mode: mode) {
            close(fd)
            remove(path, inode: st.st_ino)
            throw DaemonError("the socket \(path) was created with mode \(String(st.st_mode & 0o7777, radix: 8)) and cannot be given \(String(mode, radix: 8))")
        }
        guard listen(fd, backlog) == 0 else {
            let e = lastError()
            close(fd)
            remove(path, inode: st.st_ino)
            throw DaemonError("cannot listen on \(path): \(e)")
        }
        return (fd, st.st_ino)
    }

    /// Sets the mode when the folder's default ACL overrode the umask: through a descriptor of the
    /// file itself (O_PATH, not following a link), checked to be our socket, never through the path.
    static func fixMode(_ path: String, inode: ino_t, mode: mode_t) -> Bool {
        let O_PATH: CInt = 0o10000000  // Linux; glibc shows it only under _GNU_SOURCE
        let pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)
        guard pfd >= 0 else { return false }
        defer { close(pfd) }
        var st = stat()
        guard fstat(pfd, &st) == 0, (st.st_mode & S_IFMT) == S_IFSOCK, st.st_ino == inode, st.st_uid == geteuid() else { return false }
        return chmod("/proc/self/fd/\(pfd)", mode & 0o777) == 0
    }

    /// Removes the socket file if it is still the one this daemon created. Returns why it could not be
    /// removed (a folder made read-only since the start), or nil.
    @discardableResult
    public static func remove(_ path: String, inode: ino_t) -> String? {
        var st = stat()
        guard lstat(path, &st) == 0 && st.st_ino == inode else { return nil }
        if unlink(path) != 0 && errno != ENOENT { return lastError() }
        return nil
    }

    static func address(_ path: String) throws -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else {
            throw DaemonError("the socket path must be 1 to \(capacity - 1) bytes long: \(path)")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return addr
    }

    static func lastError() -> String { String(cString: strerror(errno)) }
}
