// Apart from TwoSpeedClient so that a client of the daemon does not link the engine (SQLite, reports,
// the plugin host); programs that want the engine in their own process link this module too.
@_exported import TwoSpeedClient
import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedStore

/// An engine in this very process, on a store of its own: no daemon, the same dispatcher.
public final class InProcessTransport: JSONValueTransport {
    public let engine: Engine
    public let endpoint: String

    public init(engine: Engine) {
        self.engine = engine
        self.endpoint = "in-process \(engine.storePath)"
    }

    /// Opens the store at `path` (nil or ":memory:" for memory).
    public convenience init(store path: String?) throws {
        do {
            self.init(engine: try Engine(path: path == ":memory:" ? nil : path))
        } catch {
            throw TransportError(.unreachable, endpoint: "in-process \(StoreName.redacted(path ?? ":memory:"))", "cannot open the store: \(error)")
        }
    }

    public func exchange(_ message: String, expectsReply: Bool) throws -> String? {
        engine.call(message)
    }

    public func exchange(value request: JSONView) -> JSON? {
        engine.dispatcher.respond(to: request)
    }
}

extension TwoSpeedClient {
    /// An engine in this process on the store at `path` (nil or ":memory:" for memory).
    public static func inProcess(store path: String?) throws -> TwoSpeedClient {
        TwoSpeedClient(transport: try InProcessTransport(store: path))
    }
}
