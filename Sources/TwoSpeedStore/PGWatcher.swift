import Glibc
import TwoSpeedSync

/// Listens on the store's channel on a connection and thread of its own, and reports each notice: a
/// portfolio id, or nil when anything may have changed (a model was written, or the listening
/// connection was lost and made again, so notices may have been missed in between).
final class PGWatcher: @unchecked Sendable {
    private let pq: LibPQ
    private let uri: String
    private let shown: String
    private let onChange: @Sendable (String?, Int?) -> Void
    private let stopped = Locked(false)
    /// How long a wait on the socket lasts before the stop flag is looked at again.
    static let pollMilliseconds: Int32 = 200

    init(_ pq: LibPQ, uri: String, shown: String, onChange: @escaping @Sendable (String?, Int?) -> Void) {
        self.pq = pq; self.uri = uri; self.shown = shown; self.onChange = onChange
    }

    func stop() { stopped.write { $0 = true } }

    /// Connects and listens before returning (so that every change committed after `start` returns is
    /// reported), then runs on its own thread. A first connection that fails is retried there, and its
    /// success reported as nil.
    func start() {
        let first = listen()
        let box = Unmanaged.passRetained(Start(self, first)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { arg in
            let s = Unmanaged<Start>.fromOpaque(arg!).takeRetainedValue()
            s.watcher.run(s.connection)
            return nil
        }, box)
        if rc == 0 { pthread_detach(thread) } else { Unmanaged<Start>.fromOpaque(box).release() }
    }

    private final class Start {
        let watcher: PGWatcher
        let connection: PGConnection?
        init(_ w: PGWatcher, _ c: PGConnection?) { watcher = w; connection = c }
    }

    private func listen() -> PGConnection? {
        guard let c = try? PGConnection(pq, uri: uri, shown: shown) else { return nil }
        do { try c.exec("LISTEN \(PostgresStore.channel)") } catch { return nil }
        return c
    }

    private func run(_ first: PGConnection?) {
        var conn = first
        var lost = first == nil
        while !stopped.read({ $0 }) {
            guard let c = conn, !c.isBroken else {
                conn = nil
                lost = true
                if let c = listen() { conn = c; continue }
                usleep(250_000)
                continue
            }
            if lost { lost = false; onChange(nil, nil) }
            var fds = pollfd(fd: pq.socket(c.conn), events: Int16(POLLIN), revents: 0)
            let n = poll(&fds, 1, PGWatcher.pollMilliseconds)
            if n < 0 && errno != EINTR { conn = nil; continue }
            if n > 0 && pq.consumeInput(c.conn) == 0 { conn = nil; continue }
            while let note = pq.notifies(c.conn) {
                // struct pgNotify { char *relname; int be_pid; char *extra; ... }: extra after the pointer and
                // the int, at the pointer alignment.
                let extra = note.load(fromByteOffset: 2 * MemoryLayout<UnsafeRawPointer>.stride, as: UnsafePointer<CChar>?.self)
                let payload = extra.map { String(cString: $0) } ?? ""
                pq.freemem(note)
                // "REVISION ID" ("- ID" for a deletion), or "" when anything may have changed.
                if payload.isEmpty { onChange(nil, nil); continue }
                guard let space = payload.firstIndex(of: " ") else { onChange(payload, nil); continue }
                onChange(String(payload[payload.index(after: space)...]), Int(payload[..<space]))
            }
        }
    }
}

extension PostgresStore {
    /// Reports every change another process (or this one) commits: `onChange` gets the portfolio id and
    /// its new revision (nil when deleted), or a nil id when anything may have changed. Notices arrive after the writer's commit, typically within
    /// milliseconds; the listening connection is made again by itself when lost, and that is reported
    /// as nil. Returns once listening. Calls come on the watcher's own thread, one at a time.
    public func watch(_ onChange: @escaping @Sendable (String?, Int?) -> Void) {
        let w = PGWatcher(pq, uri: uri, shown: path, onChange: onChange)
        watchers.write { $0.append(w) }
        w.start()
    }
}
