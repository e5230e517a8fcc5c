import Dispatch
import Glibc
import Logging

/// Accepts connections on the listening socket in a thread of its own and reads each peer's
/// credentials straight from the new descriptor before NIO takes it over: SO_PEERGROUPS returns a list
/// whose length only the returned option length tells, which NIO's fixed-size socket options drop.
final class Acceptor: @unchecked Sendable {
    private let listenFD: CInt
    private let logger: Logger
    private let onAccept: @Sendable (CInt, PeerCredentials) -> Void
    /// Written to once, by stop(), to wake the poll.
    private var wake: (CInt, CInt) = (-1, -1)
    private let done = DispatchSemaphore(value: 0)

    init(listenFD: CInt, logger: Logger, onAccept: @escaping @Sendable (CInt, PeerCredentials) -> Void) {
        self.listenFD = listenFD
        self.logger = logger
        self.onAccept = onAccept
    }

    func start() throws {
        var p: [CInt] = [-1, -1]
        guard pipe(&p) == 0 else { throw DaemonError("pipe(): \(String(cString: strerror(errno)))") }
        for fd in p {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        wake = (p[0], p[1])
        let flags = fcntl(listenFD, F_GETFL)
        _ = fcntl(listenFD, F_SETFL, flags | O_NONBLOCK)
        let thread = AcceptThread { [self] in
            self.loop()
            self.done.signal()
        }
        try thread.start()
    }

    /// Stops accepting and waits for the thread; the listening descriptor stays open (the caller closes it).
    func stop() {
        guard wake.1 >= 0 else { return }
        var byte: UInt8 = 1
        _ = write(wake.1, &byte, 1)
        done.wait()
        close(wake.0)
        close(wake.1)
        wake = (-1, -1)
    }

    private func loop() {
        var lastComplaint: Int64 = 0
        while true {
            var fds = [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.0, events: Int16(POLLIN), revents: 0)]
            let n = poll(&fds, 2, -1)
            if n < 0 && errno == EINTR { continue }
            if fds[1].revents != 0 { return }
            guard fds[0].revents != 0 else { continue }
            while true {
                let fd = Self.accept(listenFD)
                if fd >= 0 {
                    guard let peer = Self.credentials(fd) else {
                        logger.warning("cannot read the credentials of a new connection: \(String(cString: strerror(errno))); closing it")
                        close(fd)
                        continue
                    }
                    onAccept(fd, peer)
                    continue
                }
                let e = errno
                if e == EAGAIN || e == EWOULDBLOCK { break }
                if e == EINTR || e == ECONNABORTED || e == EPROTO { continue }
                // Out of descriptors or memory: say so (at most once a second) and give the
                // connections a moment to close rather than spin on the pending one.
                var now = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                if Int64(now.tv_sec) > lastComplaint {
                    lastComplaint = Int64(now.tv_sec)
                    logger.error("accept failed: \(String(cString: strerror(e)))")
                }
                var w = [pollfd(fd: wake.0, events: Int16(POLLIN), revents: 0)]
                if poll(&w, 1, 100) > 0 { return }
                break
            }
        }
    }

    /// accept4(2), which glibc declares only under _GNU_SOURCE: looked up once. Its CLOEXEC matters, since
    /// plugins are started from other threads; plain accept and fcntl is the fallback.
    private typealias Accept4 = @convention(c) (CInt, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, CInt) -> CInt
    private static let accept4: Accept4? = dlsym(nil, "accept4").map { unsafeBitCast($0, to: Accept4.self) }

    static func accept(_ listenFD: CInt) -> CInt {
        if let accept4 { return accept4(listenFD, nil, nil, Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)) }
        let fd = Glibc.accept(listenFD, nil, nil)
        if fd >= 0 {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        return fd
    }

    /// SO_PEERCRED and SO_PEERGROUPS of a connected Unix socket.
    static func credentials(_ fd: CInt) -> PeerCredentials? {
        var cred = PeerCred()
        var len = socklen_t(MemoryLayout<PeerCred>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 else { return nil }
        return PeerCredentials(pid: cred.pid, uid: cred.uid, gid: cred.gid, groups: peerGroups(fd) ?? [])
    }

    /// The peer's supplementary groups (Linux 4.13 and later; nil before, and then only the primary gid
    /// counts). When the buffer is too small the kernel says ERANGE and how much it needs.
    static func peerGroups(_ fd: CInt) -> [gid_t]? {
        let SO_PEERGROUPS: CInt = 59
        var count = 64
        for _ in 0..<4 {
            var groups = [gid_t](repeating: 0, count: count)
            var len = socklen_t(count * MemoryLayout<gid_t>.size)
            let rc = groups.withUnsafeMutableBytes { getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, $0.baseAddress, &len) }
            if rc == 0 { return Array(groups.prefix(Int(len) / MemoryLayout<gid_t>.size)) }
            guard errno == ERANGE else { return nil }
            count = max(count * 2, Int(len) / MemoryLayout<gid_t>.size)
        }
        return nil
    }
}

/// A plain POSIX thread (the accept loop blocks in poll, so it is not put on a shared queue).
final class AcceptThread {
    private let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }

    func start() throws {
        let box = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            let me = Unmanaged<AcceptThread>.fromOpaque(arg!).takeRetainedValue()
            me.body()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            throw DaemonError("cannot start the accept thread: \(String(cString: strerror(rc)))")
        }
        pthread_detach(tid)
    }
}
