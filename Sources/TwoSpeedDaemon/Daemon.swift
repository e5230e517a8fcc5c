import Glibc
import Logging
import NIOCore
import NIOPosix
import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedRPC
import TwoSpeedStore
import TwoSpeedSync

/// twospeedd: one engine served on a Unix-domain socket to many clients at once.
///
/// `run()` opens the store, listens, serves until `stop(_:)` is called (twospeedd calls it on SIGTERM and
/// SIGINT), then stops accepting, removes the socket file, lets every connection finish the requests it
/// has received, closes the connections and the store, and returns.
public final class Daemon: Sendable {
    public let configuration: DaemonConfiguration
    public let logger: Logger
    /// Signalled once a stop is asked for.
    private let stopRequested = Event()
    private let stopReason = Locked("stop requested")

    public init(configuration: DaemonConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Asks a running daemon to stop; safe from any thread, any number of times.
    public func stop(_ reason: String) {
        stopReason.write { $0 = reason }
        stopRequested.signal()
    }

    /// Serves until stopped. Throws `DaemonError` when it cannot start. `ready` is called once the
    /// socket accepts connections.
    public func run(ready: (() -> Void)? = nil) throws {
        let c = configuration
        Self.raiseDescriptorLimit(logger)
        var fromSystemd: CInt? = nil
        if c.allowSocketActivation { fromSystemd = try ListeningSocket.fromSystemd() }
        if fromSystemd == nil {
            guard let path = c.socketPath else { throw DaemonError("no socket: give --socket PATH (or start under systemd socket activation)") }
            try ListeningSocket.clear(path)
        }

        // A store that is not there is created empty; said in the log, so that a store lost since the last
        // start (a wrong --db, a removed file) does not pass unnoticed.
        var st = stat()
        let storeIsNew = c.databasePath != ":memory:" && !StoreName.isPostgres(c.databasePath) && lstat(c.databasePath, &st) != 0 && errno == ENOENT
        var engine: Engine?
        do {
            engine = try Engine(path: c.databasePath == ":memory:" ? nil : c.databasePath, fileMode: c.storeMode,
                                maxRequestBytes: c.maxMessageBytes,
                                plugins: c.pluginsFolder)
        } catch {
            if let fd = fromSystemd { close(fd) }
            throw DaemonError("cannot open the store \(StoreName.redacted(c.databasePath)): \(error)")
        }

        if storeIsNew { logger.notice("created a new, empty store", metadata: ["store": "\(StoreName.redacted(c.databasePath))"]) }

        let listener: (fd: CInt, path: String?, inode: ino_t)
        if let fd = fromSystemd {
            listener = (fd, nil, 0)
        } else {
            let path = c.socketPath!
            let bound = try ListeningSocket.bind(path, mode: c.socketMode)
            listener = (bound.fd, path, bound.inode)
        }

        let e = engine!
        try serve(e.dispatcher, listener, ready: ready, killPlugins: { e.killPluginProcesses() })
        // Every connection and thread is gone: the last reference closes the store.
        engine = nil
        logger.notice("stopped; store closed")
    }

    private func serve(_ dispatcher: TwoSpeedRPCDispatcher, _ listener: (fd: CInt, path: String?, inode: ino_t),
                       ready: (() -> Void)?, killPlugins: @escaping @Sendable () -> Int) throws {
        let c = configuration
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, c.eventLoopThreads))
        let pool = NIOThreadPool(numberOfThreads: max(1, c.writeThreads))
        pool.start()
        let readPool = NIOThreadPool(numberOfThreads: max(1, c.readThreads))
        readPool.start()
        let server = ServerContext(dispatcher: dispatcher, pool: pool, readPool: readPool, logger: logger, configuration: c)
        // What a client is told of an unexpected error is only which method failed; the details, escaped,
        // are the operator's.
        let log = logger
        dispatcher.internalErrorLog = { method, detail in
            log.error("internal error: \(detail)", metadata: ["method": "\(ControlEscape.escaped(method))"])
        }
        defer {
            try? pool.syncShutdownGracefully()
            try? readPool.syncShutdownGracefully()
            try? group.syncShutdownGracefully()
        }

        // Connections are accepted by our own thread, which reads the peer's credentials, and then handed
        // to NIO as connected sockets.
        let acceptor = Acceptor(listenFD: listener.fd, logger: logger) { fd, peer in
            let bootstrap = ClientBootstrap(group: group)
                .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .channelInitializer { channel in Daemon.initialize(channel, server, peer) }
            bootstrap.withConnectedSocket(fd).whenFailure { error in
                server.logger.warning("cannot serve a new connection: \(error)", metadata: ["peer": "\(peer)"])
            }
        }
        do {
            try acceptor.start()
        } catch {
            close(listener.fd)
            if let path = listener.path { ListeningSocket.remove(path, inode: listener.inode) }
            throw error
        }
        logger.notice("listening", metadata: [
            "socket": "\(listener.path ?? "fd 3 from systemd")", "store": "\(StoreName.redacted(c.databasePath))",
            "maxMessageBytes": "\(c.maxMessageBytes)", "maxClients": "\(c.maxClients)",
            "maxClientsPerUID": "\(c.maxClientsPerUID)", "messageTimeout": "\(c.messageTimeoutSeconds.map { "\($0) s" } ?? "none")",
        ])
        ready?()

        stopRequested.wait()
        armHardStop(after: c.shutdownTimeoutSeconds + Daemon.hardStopGraceSeconds)
        let reason = stopReason.read { $0 }
        let open = server.connections.count
        logger.notice("stopping: \(reason); finishing the requests of \(open) connection(s)")

        // No new connections; the path is free for the next daemon at once.
        acceptor.stop()
        close(listener.fd)
        if let path = listener.path, let failure = ListeningSocket.remove(path, inode: listener.inode) {
            // Left behind, it is a stale socket the next start must replace; say so now, while it is news.
            logger.warning("cannot remove the socket \(path) (\(failure)); the next start will find it there stale and must be able to remove it")
        }
        // Connections handed to an event loop just before are set up (and registered) by tasks queued
        // there; one more task per loop waits for them, so that the drain below reaches them too.
        for loop in group.makeIterator() { try? loop.submit {}.wait() }

        for channel in server.connections.all {
            channel.triggerUserOutboundEvent(DrainEvent(), promise: nil)
        }
        let deadline = NIODeadline.now() + .seconds(c.shutdownTimeoutSeconds)
        while (server.connections.count > 0 || server.inFlight.read({ $0 }) > 0) && NIODeadline.now() < deadline {
            usleep(5_000)
        }
        let left = server.connections.all
        let running = server.inFlight.read { $0 }
        if !left.isEmpty || running > 0 {
            // A request still running may be waiting on a stuck plugin: its process is killed, so that the
            // call fails at once and the thread pool can stop.
            let killed = killPlugins()
            logger.warning("closing \(left.count) connection(s) and \(running) request(s) still busy after \(c.shutdownTimeoutSeconds) s; \(killed) plugin process(es) killed")
            for channel in left { try? channel.close().wait() }
        }
    }

    /// How long past --shutdown-timeout the process may still take before it exits regardless.
    public static let hardStopGraceSeconds: Int64 = 5

    /// The bound of last resort: once a stop is asked for, the process exits with status 1 `seconds`
    /// later if it has not ended by then (something killing plugins cannot end, such as an in-process
    /// plugin stuck in its own code, holds a thread). Only twospeedd's process; the store's WAL keeps
    /// every acknowledged write.
    private func armHardStop(after seconds: Int64) {
        final class Box { let logger: Logger; let seconds: Int64; init(_ l: Logger, _ s: Int64) { logger = l; seconds = s } }
        let box = Unmanaged.passRetained(Box(logger, seconds)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { arg in
            let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            var left = UInt32(clamping: box.seconds)
            while left > 0 { left = sleep(left) }
            box.logger.critical("still stopping \(box.seconds) s after the stop was asked for; exiting now")
            _exit(1)
        }, box)
        if rc == 0 { pthread_detach(thread) } else { Unmanaged<Box>.fromOpaque(box).release() }
    }

    /// Each connection takes a descriptor, and a refused one keeps it for the linger time: the soft limit
    /// (1024 under systemd by default, below what --max-clients allows) is raised to the hard one, as
    /// systemd advises programs that need many. NIO uses epoll, so descriptors past 1024 are fine.
    static func raiseDescriptorLimit(_ logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        let old = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            logger.info("open files limit raised from \(old) to \(limit.rlim_max)")
        }
    }

    /// Sets up a new connection's pipeline: served, served read-only, or refused.
    static func initialize(_ channel: Channel, _ server: ServerContext, _ peer: PeerCredentials) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture(Result {
            let access = server.configuration.accessPolicy.access(for: peer)
            let pipeline = channel.pipeline.syncOperations
            if case .refused(let reason) = access {
                let id = server.connections.nextRefusedID()
                server.logger.warning("peer refused", metadata: ["conn": "\(id)", "peer": "\(peer)", "reason": "\(reason)"])
                try pipeline.addHandler(RefusalHandler(reply: Replies.refused(peer, reason: reason, allocator: channel.allocator),
                                                       linger: server.lingerTime))
                return
            }
            let c = server.configuration
            let id: Int
            switch server.connections.add(channel, uid: peer.uid, limit: c.maxClients, perUID: c.maxClientsPerUID) {
            case .added(let n):
                id = n
            case .refused(let limit):
                let id = server.connections.nextRefusedID()
                let reply: ByteBuffer
                switch limit {
                case .total:
                    server.logger.warning("too many clients, refusing", metadata: ["conn": "\(id)", "peer": "\(peer)", "limit": "\(c.maxClients)"])
                    reply = Replies.tooManyClients(limit: c.maxClients, allocator: channel.allocator)
                case .perUID:
                    server.logger.warning("too many clients of one uid, refusing", metadata: [
                        "conn": "\(id)", "peer": "\(peer)", "limitPerUID": "\(c.maxClientsPerUID)"])
                    reply = Replies.tooManyClientsOfUID(peer.uid, limit: c.maxClientsPerUID, allocator: channel.allocator)
                }
                try pipeline.addHandler(RefusalHandler(reply: reply, linger: server.lingerTime))
                return
            }
            channel.closeFuture.whenComplete { _ in server.connections.remove(id) }
            // Tests and operators can see a connection is being served before it sends anything.
            server.logger.debug("connection accepted", metadata: ["conn": "\(id)", "peer": "\(peer)", "access": "\(access.name)"])
            if let idle = c.idleTimeoutSeconds, idle > 0 {
                try pipeline.addHandler(IdleStateHandler(allTimeout: .seconds(idle)))
            }
            try pipeline.addHandler(ConnectionHandler(server: server, id: id, peer: peer, access: access))
        })
    }
}

typealias TwoSpeedRPCDispatcher = Dispatcher

/// struct ucred of <sys/socket.h> (which Glibc shows only under _GNU_SOURCE), as SO_PEERCRED fills it.
struct PeerCred: Sendable {
    var pid: pid_t = 0
    var uid: uid_t = 0
    var gid: gid_t = 0
}
