import Glibc

/// Everything twospeedd can be told. The defaults are the safe ones: a socket only its owner can open,
/// peers admitted by uid (the daemon's own and root's), 16 MiB messages.
public struct DaemonConfiguration: Sendable {
    /// Where to create the socket. May be nil when the socket comes from systemd (LISTEN_FDS).
    public var socketPath: String?
    /// The permission bits of the socket file created at `socketPath`.
    public var socketMode: mode_t = 0o600
    /// The SQLite store, or ":memory:".
    public var databasePath: String
    /// The permission bits of a new store file (and its -wal and -shm), as the socket's: the owner's alone.
    public var storeMode: mode_t = 0o600
    /// A folder of plugin manifests to load (include/twospeed_plugin.h). Over the socket, plugin.load takes
    /// manifests from this folder only.
    public var pluginsFolder: String? = nil
    /// Peers who may load and unload plugins (a plugin runs as the daemon's user): those with a listed uid,
    /// or a listed primary or supplementary gid, that may also write. Default: the daemon's own uid.
    public var adminUIDs: Set<uid_t> = [getuid()]
    public var adminGIDs: Set<gid_t> = []
    /// Peers whose uid or gid is listed may call every method.
    public var allowedUIDs: Set<uid_t> = [getuid(), 0]
    public var allowedGIDs: Set<gid_t> = []
    /// Peers whose uid or gid is listed may call only methods that change nothing (this wins over the
    /// allow lists).
    public var readOnlyUIDs: Set<uid_t> = []
    public var readOnlyGIDs: Set<gid_t> = []
    /// The largest message accepted, newline excluded. A larger one gets -32003 and the connection closes.
    public var maxMessageBytes: Int = 16 << 20
    /// Connections served at once; the next one gets one error reply and is closed.
    public var maxClients: Int = 1024
    /// Connections one uid may have open at once, so that one user (or one runaway program) cannot take
    /// every slot; the next one gets the same error as over maxClients, saying which limit.
    public var maxClientsPerUID: Int = 256
    /// How long a connection may hold an unfinished message (bytes with no line end yet), from its first
    /// byte; then it gets an error reply and is closed. A client that sends half a line and stalls does
    /// not keep its slot. nil: no limit.
    public var messageTimeoutSeconds: Int64? = 5
    /// A connection with no traffic for this long, and no request in progress, is closed. nil: never.
    public var idleTimeoutSeconds: Int64? = nil
    /// How long a stop waits for requests in flight before closing what is left.
    public var shutdownTimeoutSeconds: Int64 = 10
    /// Event loop threads (accepting, framing, reads) and threads for writes, which wait for the disk.
    public var eventLoopThreads: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    public var writeThreads: Int = 4
    /// Threads for the reads that run off the event loop (whole portfolios, analyses, plugins): apart from
    /// the writes' threads, so that a read never queues behind writes waiting for the disk.
    public var readThreads: Int = 4
    /// Take the listening socket from systemd when LISTEN_PID names this process.
    public var allowSocketActivation: Bool = true

    public init(socketPath: String?, databasePath: String) {
        self.socketPath = socketPath
        self.databasePath = databasePath
    }

    public var accessPolicy: AccessPolicy {
        AccessPolicy(allowedUIDs: allowedUIDs, allowedGIDs: allowedGIDs, readOnlyUIDs: readOnlyUIDs, readOnlyGIDs: readOnlyGIDs,
                     adminUIDs: adminUIDs, adminGIDs: adminGIDs)
    }
}
