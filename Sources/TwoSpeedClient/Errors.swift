import TwoSpeedContract
import TwoSpeedJSON

/// A JSON-RPC error reply: the error object's code, message and data.
public struct RPCCallError: Error, CustomStringConvertible, Sendable {
    public let code: Int
    public let message: String
    /// The data member decoded; nil when there is none or it is not the engine's shape.
    public let data: ErrorData?
    /// The data member as compact JSON text, whatever it holds.
    public let dataJSON: String?
    /// The whole error object as compact JSON text.
    public let errorJSON: String

    /// Reads an error object (borrowed).
    @available(*, deprecated, message: "use init(error:) with a JSONView")
    public init(errorObject e: JSONRef) { self.init(error: JSONView(e)) }

    /// Reads an error object (borrowed).
    public init(error e: JSONView) {
        code = e["code"]?.intValue.map { Int($0) } ?? ErrorCode.internalError.rawValue
        message = e["message"]?.stringValue ?? "(no message)"
        if let d = e["data"] {
            data = try? d.decode(ErrorData.self)
            dataJSON = d.text()
        } else {
            data = nil
            dataJSON = nil
        }
        errorJSON = e.text()
    }

    /// The engine's code, when it is one.
    public var errorCode: ErrorCode? { ErrorCode(rawValue: code) }

    public var description: String {
        var s = "\(code) \(message)"
        if let reason = data?.reason {
            if let p = data?.pointer { s += " at \(p.isEmpty ? "(root)" : p)" }
            s += ": \(reason)"
        }
        return s
    }
}

/// Text given as JSON that is not JSON (params or a file, before anything is sent).
public struct InvalidJSONError: Error, CustomStringConvertible, Sendable {
    public var what: String
    public var reason: String
    public var line: Int
    public var column: Int

    public init(what: String, reason: String, line: Int, column: Int) {
        self.what = what; self.reason = reason; self.line = line; self.column = column
    }

    public var description: String { "\(what) is not JSON (line \(line), column \(column)): \(reason)" }
}
