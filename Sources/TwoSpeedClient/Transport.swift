import TwoSpeedJSON

/// How a client's messages reach an engine. Two ship: `UnixSocketTransport` (twospeedd), here, and
/// `InProcessTransport` (an engine in this process), in TwoSpeedClientInProcess; the client and the
/// twospeed command work the same over either.
public protocol RPCTransport: AnyObject, Sendable {
    /// Where the messages go, for error messages: "unix:/run/twospeed.sock", "in-process :memory:".
    var endpoint: String { get }

    /// Sends one JSON-RPC 2.0 message (compact JSON text, without a line end) and returns the reply's
    /// text, or nil when there is none: `expectsReply` is false for a notification or a batch of them.
    func exchange(_ message: String, expectsReply: Bool) throws -> String?
}

/// A transport that can hand the request over as a jansson value, skipping the text both ways: an
/// engine in this process (what twospeed_call_json does for C). A catalog import of 10,000 components
/// spends a third of its time writing and reading that text otherwise.
public protocol JSONValueTransport: RPCTransport {
    /// The response to `request` (borrowed), or nil for a notification.
    func exchange(value request: JSONView) -> JSON?
}

/// The engine could not be reached, or the connection to it broke.
public struct TransportError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// Nothing answers at the endpoint (no socket, connection refused, no permission, a store that
        /// cannot be opened).
        case unreachable
        /// The connection closed or failed before the reply came.
        case disconnected
        /// The reply is not JSON-RPC.
        case malformedReply
    }

    public var kind: Kind
    public var endpoint: String
    public var reason: String

    public init(_ kind: Kind, endpoint: String, _ reason: String) {
        self.kind = kind; self.endpoint = endpoint; self.reason = reason
    }

    public var description: String {
        switch kind {
        case .unreachable: return "cannot reach \(endpoint): \(reason)"
        case .disconnected: return "connection to \(endpoint) lost: \(reason)"
        case .malformedReply: return "bad reply from \(endpoint): \(reason)"
        }
    }
}
