import ArgumentParser
import Dispatch
import Glibc
import Logging
import TwoSpeedDaemon
import TwoSpeedEngine
import TwoSpeedStore

/// twospeedd: the options, the log, the signals; the server itself is TwoSpeedDaemon.
@main
struct TwoSpeedD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "twospeedd",
        abstract: "Serves a TwoSpeed store to many clients over a Unix-domain socket.",
        discussion: """
            Wire protocol: JSON-RPC 2.0, one compact JSON message per line in both directions, replies in \
            request order; any number of requests per connection, pipelined or not.

            Peers are checked by the kernel's credentials (SO_PEERCRED, SO_PEERGROUPS): a peer is served when \
            its uid, primary gid or one of its supplementary gids is on an --allow-* or --read-only-* list, \
            and is read-only (methods that change nothing) when it matches a --read-only-* entry. With no --allow-uid, the daemon's own uid and \
            root are allowed. A refused peer gets one error reply (-32010) and the connection closes.

            Plugins run as the daemon's user, so loading one is an administrator's act: plugin.load and \
            plugin.unload answer -32004 to any peer that is not on an --admin-uid or --admin-gid list (default: \
            the daemon's own uid) or may not write, and plugin.load takes only manifests inside the --plugins \
            folder (symlinks resolved: one that leads out is refused; with no --plugins, none). A manifest is \
            read only if it is a regular file of at most 1 MiB, and an error never quotes its text.

            No one uid can take every slot: past --max-clients connections in all, or --max-clients-per-uid \
            of one uid, a new connection gets one error reply (-32011, data.option names the limit) and is \
            closed; a connection that holds the start of a message with no line end for --message-timeout \
            seconds gets -32600 and is closed.

            SIGTERM and SIGINT stop the daemon: it stops accepting, removes the socket, answers the \
            requests already received, closes the connections and the store. Under systemd socket \
            activation (LISTEN_PID, LISTEN_FDS) the socket is fd 3 and --socket, --socket-mode are ignored.

            Logs go to stderr: one line per connection and one per error.

            Exit status: 0 stopped by SIGTERM or SIGINT after a clean shutdown; 1 cannot start (the socket is \
            held by a live daemon or cannot be created, the store or the plugin folder cannot be opened); \
            64 wrong usage (EX_USAGE: an unknown option, a bad value). Under systemd, \
            RestartPreventExitStatus=64 keeps a unit with wrong options from restarting in a loop.

            Shell completion: `twospeedd --generate-completion-script bash|zsh|fish`.
            """,
        version: Engine.version)

    @Option(help: ArgumentHelp("The socket to create; a stale one is replaced, a live one is an error.", valueName: "path"))
    var socket: String?

    @Option(help: ArgumentHelp("The store: an SQLite file (created if missing), :memory:, or a PostgreSQL URI (postgresql://...; "
                               + "the password from ~/.pgpass or PGPASSWORD, never in the URI).", valueName: "store"))
    var db: String

    @Option(help: ArgumentHelp("A folder of plugin manifests to load (folder/*/plugin.json and folder/*.json); over the socket, "
                               + "plugin.load takes manifests from this folder only.", valueName: "dir"))
    var plugins: String?

    @Option(name: .customLong("admin-uid"), help: ArgumentHelp(
        "A uid (number or user name) that may load and unload plugins, if it may also write; repeatable. Default: the daemon's own uid.",
        valueName: "uid"))
    var adminUID: [String] = []

    @Option(name: .customLong("admin-gid"), help: ArgumentHelp(
        "A gid, primary or supplementary, that may load and unload plugins, if it may also write; repeatable.", valueName: "gid"))
    var adminGID: [String] = []

    @Option(name: .customLong("socket-mode"), help: ArgumentHelp("Permission bits of the socket file, in octal.", valueName: "mode"))
    var socketMode: String = "0600"

    @Option(name: .customLong("store-mode"), help: ArgumentHelp(
        "Permission bits of a new store file and its -wal and -shm files, in octal (an existing store keeps its own).",
        valueName: "mode"))
    var storeMode: String = "0600"

    @Option(name: .customLong("allow-uid"), help: ArgumentHelp(
        "A uid (number or user name) that may call every method; repeatable. Default: the daemon's own uid and root.",
        valueName: "uid"))
    var allowUID: [String] = []

    @Option(name: .customLong("allow-gid"), help: ArgumentHelp(
        "A gid (number or group name), primary or supplementary, that may call every method; repeatable.", valueName: "gid"))
    var allowGID: [String] = []

    @Option(name: .customLong("read-only-uid"), help: ArgumentHelp(
        "A uid that may connect but only call methods that change nothing; repeatable.", valueName: "uid"))
    var readOnlyUID: [String] = []

    @Option(name: .customLong("read-only-gid"), help: ArgumentHelp(
        "A gid, primary or supplementary, that may connect but only call methods that change nothing; repeatable.", valueName: "gid"))
    var readOnlyGID: [String] = []

    @Option(name: .customLong("max-message-bytes"), help: ArgumentHelp(
        "The largest message accepted; a longer line gets error -32003 and the connection closes.", valueName: "bytes"))
    var maxMessageBytes: Int = 16 << 20

    @Option(name: .customLong("max-clients"), help: ArgumentHelp(
        "Connections served at once; one more gets error -32011 and is closed.", valueName: "n"))
    var maxClients: Int = 1024

    @Option(name: .customLong("max-clients-per-uid"), help: ArgumentHelp(
        "Connections one uid may have open at once; one more gets error -32011 and is closed.", valueName: "n"))
    var maxClientsPerUID: Int = 256

    @Option(name: .customLong("message-timeout"), help: ArgumentHelp(
        "Close a connection that holds an unfinished message (no line end) this many seconds after its first byte, "
        + "with error -32600 (0: never).", valueName: "seconds"))
    var messageTimeout: Int64 = 5

    @Option(name: .customLong("idle-timeout"), help: ArgumentHelp(
        "Close a connection with no traffic for this many seconds (0: never).", valueName: "seconds"))
    var idleTimeout: Int64 = 0

    @Option(name: .customLong("shutdown-timeout"), help: ArgumentHelp(
        "On SIGTERM, how long to wait for requests in flight before closing; then plugin processes are killed (a request "
        + "waiting on one fails), and if anything still holds the process 5 s later it exits with status 1.", valueName: "seconds"))
    var shutdownTimeout: Int64 = 10

    @Option(help: ArgumentHelp("Event loop threads (default: one per core).", valueName: "n"))
    var threads: Int?

    @Option(name: .customLong("log-level"), help: ArgumentHelp(
        "trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of: trace, debug, info, notice, warning, error, critical")
        }
        guard parseFileMode(socketMode) != nil else { throw ValidationError("--socket-mode must be octal, at most 0777: \(socketMode)") }
        guard parseFileMode(storeMode) != nil else { throw ValidationError("--store-mode must be octal, at most 0777: \(storeMode)") }
        // A password on the command line is shown to every user by ps.
        if StoreName.hasPassword(db) { throw ValidationError(StoreName.passwordOnCommandLine) }
        guard maxMessageBytes >= 64 else { throw ValidationError("--max-message-bytes must be at least 64") }
        guard maxClients >= 1 else { throw ValidationError("--max-clients must be at least 1") }
        guard maxClientsPerUID >= 1 else { throw ValidationError("--max-clients-per-uid must be at least 1") }
        guard idleTimeout >= 0, shutdownTimeout >= 0, messageTimeout >= 0 else { throw ValidationError("timeouts are seconds, 0 or more") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        for u in allowUID + readOnlyUID + adminUID where Principal.uid(u) == nil { throw ValidationError("no such user: \(u)") }
        for g in allowGID + readOnlyGID + adminGID where Principal.gid(g) == nil { throw ValidationError("no such group: \(g)") }
    }

    func run() throws {
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "twospeedd")

        var c = DaemonConfiguration(socketPath: socket, databasePath: db)
        c.pluginsFolder = plugins
        c.socketMode = parseFileMode(socketMode)!
        c.storeMode = parseFileMode(storeMode)!
        if !allowUID.isEmpty { c.allowedUIDs = Set(allowUID.compactMap(Principal.uid)) }
        c.allowedGIDs = Set(allowGID.compactMap(Principal.gid))
        c.readOnlyUIDs = Set(readOnlyUID.compactMap(Principal.uid))
        c.readOnlyGIDs = Set(readOnlyGID.compactMap(Principal.gid))
        if !adminUID.isEmpty { c.adminUIDs = Set(adminUID.compactMap(Principal.uid)) }
        c.adminGIDs = Set(adminGID.compactMap(Principal.gid))
        c.maxMessageBytes = maxMessageBytes
        c.maxClients = maxClients
        c.maxClientsPerUID = maxClientsPerUID
        c.idleTimeoutSeconds = idleTimeout > 0 ? idleTimeout : nil
        c.messageTimeoutSeconds = messageTimeout > 0 ? messageTimeout : nil
        c.shutdownTimeoutSeconds = shutdownTimeout
        if let threads { c.eventLoopThreads = threads }

        let daemon = Daemon(configuration: c, logger: logger)
        // Signals are taken by a dispatch source, not a handler: the stop runs on an ordinary thread.
        var sources: [DispatchSourceSignal] = []
        for (sig, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { daemon.stop(name) }
            source.resume()
            sources.append(source)
        }
        do {
            try daemon.run()
        } catch let e as DaemonError {
            logger.critical("cannot start: \(e.description)")
            throw ExitCode(1)
        }
        withExtendedLifetime(sources) {}
    }
}
