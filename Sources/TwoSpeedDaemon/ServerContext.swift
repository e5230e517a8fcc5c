import Logging
import NIOCore
import NIOPosix
import Glibc
import TwoSpeedJSON
import TwoSpeedRPC
import TwoSpeedSync

/// What every connection of one daemon shares.
final class ServerContext: Sendable {
    let dispatcher: Dispatcher
    /// Requests with a write.
    let pool: NIOThreadPool
    /// Requests that only read but take long (blocking methods): never queued behind writes.
    let readPool: NIOThreadPool
    let logger: Logger
    let configuration: DaemonConfiguration
    let connections = ConnectionRegistry()
    /// Requests on the thread pool, counted until their outcome is back on the event loop: the stop waits
    /// for these too, as a request whose client has gone still holds a pool thread (a plugin call, say).
    let inFlight = Locked(0)
    /// How long a closing connection keeps reading (and dropping) what its peer still sends after the
    /// last reply, so that the peer reads that reply rather than a reset.
    let lingerTime: TimeAmount = .seconds(2)
    /// The real paths of the plugin folders: the only place plugin.load takes manifests from over the socket
    /// (empty with no --plugins: nothing can be loaded).
    let pluginFolders: [String]

    init(dispatcher: Dispatcher, pool: NIOThreadPool, readPool: NIOThreadPool, logger: Logger, configuration: DaemonConfiguration) {
        self.dispatcher = dispatcher
        self.pool = pool
        self.readPool = readPool
        self.logger = logger
        self.configuration = configuration
        self.pluginFolders = configuration.pluginsFolder.flatMap(ServerContext.realPath).map { [$0] } ?? []
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// What a connection's peer may do, as the dispatcher sees it.
    func callContext(_ peer: PeerCredentials, _ access: Access) -> CallContext {
        CallContext(readOnly: access == .readOnly, admin: configuration.accessPolicy.isAdmin(peer), pluginFolders: pluginFolders,
                    peer: "uid \(peer.uid)")
    }

    enum Place { case loop, reads, writes }

    /// Where a request runs. Methods that change nothing run on the event loop (they only read memory);
    /// a request with a write, which waits for the disk, runs on the writes' thread pool, and one with a
    /// method marked blocking that writes nothing (plugins, whole-portfolio analyses) on the reads' pool,
    /// so the loop goes on serving the other connections and a read never waits for a pool thread busy
    /// with a write. A read-only peer's writes are refused at once and need no pool.
    func place(_ request: JSONView, readOnly: Bool) -> Place {
        if request.isArray {
            var place = Place.loop
            for i in 0..<request.count {
                switch offLoop(request[i]!, readOnly: readOnly) {
                case .writes: return .writes
                case .reads: place = .reads
                case .loop: break
                }
            }
            return place
        }
        return offLoop(request, readOnly: readOnly)
    }

    private func offLoop(_ request: JSONView, readOnly: Bool) -> Place {
        guard request.isObject, let name = request["method"]?.stringValue, let m = dispatcher.methods[name] else { return .loop }
        if m.mutates && !readOnly { return .writes }
        return m.blocking ? .reads : .loop
    }
}

/// The open connections, for --max-clients, --max-clients-per-uid and for the drain at shutdown.
final class ConnectionRegistry: Sendable {
    enum Limit: Sendable { case total, perUID }
    enum Admission: Sendable, Equatable { case added(Int), refused(Limit) }

    private struct State {
        var nextID = 1
        var open: [Int: (channel: Channel, uid: uid_t)] = [:]
        var perUID: [uid_t: Int] = [:]
    }
    private let state = Locked(State())

    /// Registers a channel unless `limit` are open, or `perUID` of this uid; returns its id.
    func add(_ channel: Channel, uid: uid_t, limit: Int, perUID: Int) -> Admission {
        state.write { s in
            guard s.open.count < limit else { return .refused(.total) }
            guard s.perUID[uid, default: 0] < perUID else { return .refused(.perUID) }
            let id = s.nextID
            s.nextID += 1
            s.open[id] = (channel, uid)
            s.perUID[uid, default: 0] += 1
            return .added(id)
        }
    }

    /// Unregisters a channel; a second call for the same id does nothing.
    func remove(_ id: Int) {
        state.write { s in
            guard let gone = s.open.removeValue(forKey: id) else { return }
            let left = s.perUID[gone.uid, default: 1] - 1
            s.perUID[gone.uid] = left > 0 ? left : nil
        }
    }

    var all: [Channel] { state.read { $0.open.values.map(\.channel) } }
    var count: Int { state.read { $0.open.count } }

    /// A number for connections that are refused (they are never registered).
    func nextRefusedID() -> Int {
        state.write { s in
            let id = s.nextID
            s.nextID += 1
            return id
        }
    }
}

/// Sent to every connection when the daemon stops: finish what was received, then close.
struct DrainEvent: Sendable {}

/// A jansson value handed to the thread pool; only one thread touches it at a time.
struct Transfer<Value>: @unchecked Sendable {
    let value: Value
}
