import TwoSpeedJSON
import TwoSpeedSchema

/// The stable error codes: JSON-RPC 2.0's own, then the project's from -32000 down. Numbers never change.
public enum ErrorCode: Int, Sendable, CaseIterable {
    case parseError = -32700
    case invalidRequest = -32600
    case methodNotFound = -32601
    case invalidParams = -32602
    case internalError = -32603
    /// A portfolio or entity named in the params does not exist.
    case notFound = -32000
    /// The change would leave references dangling (remove of something still referenced).
    case conflict = -32001
    /// The store failed to read or write; nothing was changed.
    case storeError = -32002
    /// The message is larger than the limit.
    case tooLarge = -32003
    /// The caller may not make this change: it may only read and the method changes data, or the method is
    /// for administrators (twospeedd's --admin-uid, --admin-gid) and the caller is not one.
    case readOnly = -32004
    /// `ifRevision` did not match the portfolio's current revision.
    case revisionMismatch = -32005
    /// A plugin failed (crashed, timed out, wrote garbage) or answered with an error; data.plugin names it.
    case pluginError = -32006
    /// Over the socket: the peer's uid and gid are on no allow list; the connection closes.
    case peerRefused = -32010
    /// Over the socket: the daemon serves its maximum of clients already, in all or of this uid; the connection closes.
    case tooManyClients = -32011

    public var message: String {
        switch self {
        case .parseError: return "Parse error"
        case .invalidRequest: return "Invalid Request"
        case .methodNotFound: return "Method not found"
        case .invalidParams: return "Invalid params"
        case .internalError: return "Internal error"
        case .notFound: return "Not found"
        case .conflict: return "Conflict"
        case .storeError: return "Store error"
        case .tooLarge: return "Message too large"
        case .readOnly: return "Read-only"
        case .revisionMismatch: return "Revision mismatch"
        case .pluginError: return "Plugin error"
        case .peerRefused: return "Peer refused"
        case .tooManyClients: return "Too many clients"
        }
    }

    public var meaning: String {
        switch self {
        case .parseError: return "The text is not JSON; data gives the reason, line, column and byte position."
        case .invalidRequest: return "The JSON is not a JSON-RPC 2.0 request; data.pointer names the member."
        case .methodNotFound: return "No such method; rpc.discover lists them."
        case .invalidParams: return "The params fail validation; data.errors lists every failure with its JSON pointer."
        case .internalError: return "The engine failed; nothing was changed."
        case .notFound: return "A portfolio or entity named in the params does not exist; data.pointer names it."
        case .conflict: return "The change would leave references dangling; data.errors lists them."
        case .storeError: return "The store could not read or write; nothing was changed."
        case .tooLarge: return "The message exceeds the size limit in data.limit."
        case .readOnly: return "The caller may only call methods that change nothing, or (twospeedd) the method is for administrators and the caller is not one."
        case .revisionMismatch: return "ifRevision does not match; data.revision is the current one."
        case .pluginError: return "A plugin failed or answered with an error; data.plugin names it, data.reason says what happened."
        case .peerRefused: return "twospeedd: the peer's uid and gid are on no allow list (data.uid, data.gid); the connection closes."
        case .tooManyClients: return "twospeedd: --max-clients connections are open, or --max-clients-per-uid of this uid (data.limit, data.option); the connection closes."
        }
    }
}

/// A plugin's own JSON-RPC error, passed on inside a -32006 error.
public struct PluginErrorObject: Codable, Sendable, Equatable {
    public var code: Int
    public var message: String
    /// The plugin's data member, as JSON text.
    public var data: String?
    public init(code: Int, message: String, data: String?) { self.code = code; self.message = message; self.data = data }
}

/// What went wrong and where. Every field is optional; `pointer` and `reason` name the first failure,
/// `errors` all of them.
public struct ErrorData: Codable, Sendable, Equatable {
    public var pointer: String?
    public var reason: String?
    public var errors: [ValidationIssue]?
    public var truncated: Bool?
    public var method: String?
    public var line: Int?
    public var column: Int?
    public var position: Int?
    public var limit: Int?
    public var size: Int?
    public var revision: Int?
    /// The plugin behind a -32006 error, and what it answered when it answered with an error.
    public var plugin: String?
    public var pluginError: PluginErrorObject?
    /// Which way a wasm plugin failed: trap, fuel, memory, garbage or too-large (include/twospeed_plugin.h).
    public var failure: String?
    /// On a -32002 store error: true when sending the same request again may succeed (a server store's
    /// connection was lost or stayed busy); nothing was written.
    public var retryable: Bool?

    public init(pointer: String? = nil, reason: String? = nil) {
        self.pointer = pointer
        self.reason = reason
    }

    public init(issues: IssueList) {
        pointer = issues.issues.first?.pointer
        reason = issues.issues.first?.reason
        errors = issues.issues
        truncated = issues.truncated ? true : nil
    }
}

public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var data: ErrorData?

    public init(_ code: ErrorCode, _ data: ErrorData? = nil, message: String? = nil) {
        self.code = code.rawValue
        self.message = message ?? code.message
        self.data = data
    }

    public init(_ code: ErrorCode, pointer: String?, _ reason: String) {
        var d = ErrorData(pointer: pointer, reason: reason)
        // -32602 always lists its failures in data.errors, even when there is one.
        if code == .invalidParams { d.errors = [ValidationIssue(pointer: pointer ?? "", reason: reason)] }
        self.init(code, d)
    }

    public static func invalidParams(_ issues: IssueList) -> RPCError {
        RPCError(.invalidParams, ErrorData(issues: issues))
    }

    public var description: String {
        var s = "\(code) \(message)"
        if let r = data?.reason { s += ": " + (data?.pointer.map { "\($0.isEmpty ? "(root)" : $0): " } ?? "") + r }
        return s
    }

    /// The error object of a response, as a new reference the caller owns.
    public func json() -> JSONRef {
        (try? errorObject())?.retainedRef() ?? JSONMake.object()
    }

    /// The error object of a response; throws when memory runs out.
    public func errorObject() throws -> JSON {
        let o = try JSON.object()
        try o.set("code", int: code)
        try o.set("message", string: message)
        if let data { try o.set("data", JSON.encoding(data)) }
        return o
    }
}
