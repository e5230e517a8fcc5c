import TwoSpeedJSON
import TwoSpeedSchema

/// Who is calling, as the transport knows it. The C ABI calls with the default: an embedded engine's
/// host may do everything, and loads whatever plugin it names.
public struct CallContext: Sendable {
    /// The peer may only call methods that change nothing.
    public var readOnly: Bool
    /// The peer may call the administrators' methods (Method.adminOnly: loading and unloading plugins,
    /// which run programs as the engine's own user).
    public var admin: Bool
    /// The folders (real paths) plugin.load may take manifests from; nil: any file the caller names.
    /// twospeedd sets the folders it was started with (--plugins), so that no peer names a program of its own.
    public var pluginFolders: [String]?
    /// Who the peer is, as the transport knows it (twospeed: "uid 1000"); nil when the transport cannot
    /// say (the C ABI's host). Recorded on what a peer does in its own name, such as a dismissal.
    public var peer: String?
    public init(readOnly: Bool = false, admin: Bool = true, pluginFolders: [String]? = nil, peer: String? = nil) {
        self.readOnly = readOnly; self.admin = admin; self.pluginFolders = pluginFolders; self.peer = peer
    }
}

/// One named parameter; its position in the method's list is its position in by-position params.
public struct Param: Sendable {
    public var name: String
    public var schema: Schema
    public var required: Bool
    public var summary: String

    public init(_ name: String, _ schema: Schema, required: Bool = true, _ summary: String) {
        self.name = name; self.schema = schema; self.required = required; self.summary = summary
    }
}

/// A method of the table: its contract (for rpc.discover and validation) and its handler.
public struct Method: Sendable {
    public var name: String
    public var summary: String
    public var params: [Param]
    public var result: Schema
    /// false for methods that change nothing; read-only peers may call only those.
    public var mutates: Bool
    public var errors: [ErrorCode]
    /// May take long even though it only reads: it calls out to plugins, or works through a whole
    /// portfolio. Transports with an event loop run such methods (and every write) off the loop.
    public var blocking = false
    /// Only administrators may call it (CallContext.admin); anyone else gets -32004.
    public var adminOnly = false
    /// Returns a new reference the dispatcher owns.
    public var handler: @Sendable (Params) throws -> JSONRef

    public init(_ name: String, summary: String, params: [Param] = [], result: Schema, mutates: Bool,
                errors: [ErrorCode] = [], handler: @escaping @Sendable (Params) throws -> JSONRef) {
        self.name = name; self.summary = summary; self.params = params; self.result = result
        self.mutates = mutates; self.errors = errors; self.handler = handler
    }

    /// This method, marked as one that may take long.
    public func blockingCalls() -> Method { var m = self; m.blocking = true; return m }

    /// This method, for administrators only.
    public func administrators() -> Method { var m = self; m.adminOnly = true; return m }

    /// A method whose handler returns any Encodable value.
    public static func encoding<R: Encodable & SendableMetatype>(_ name: String, summary: String, params: [Param] = [], result: Schema,
                                              mutates: Bool, errors: [ErrorCode] = [],
                                              _ body: @escaping @Sendable (Params) throws -> R) -> Method {
        Method(name, summary: summary, params: params, result: result, mutates: mutates, errors: errors) { p in
            let r = try body(p)
            do { return try JanssonEncoder().encode(r) } catch {
                throw RPCError(.internalError, pointer: nil, "cannot encode the result: \(error)")
            }
        }
    }
}

/// The params of one call, already validated against the method's schemas. Members are borrowed
/// from the request and valid for the duration of the handler.
public struct Params {
    /// The params by name (by-position params are mapped to names in declaration order).
    public let object: JSONRef
    public let context: CallContext
    let positions: [String: Int]?

    init(object: JSONRef, context: CallContext, positions: [String: Int]?) {
        self.object = object; self.context = context; self.positions = positions
    }

    /// The pointer of a parameter as the caller wrote it: "/name", or "/0" for by-position params.
    public func pointer(_ name: String) -> JSONPointer {
        if let positions, let i = positions[name] { return JSONPointer([String(i)]) }
        return JSONPointer([name])
    }

    public subscript(name: String) -> JSONRef? { object[name] }

    public func decode<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let v = object[name] else {
            throw RPCError(.invalidParams, pointer: pointer(name).description, "required")
        }
        do { return try JanssonDecoder().decode(T.self, from: v) } catch let e as DecodingError {
            throw RPCError.fromDecoding(e, base: pointer(name))
        }
    }

    public func decodeIfPresent<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T? {
        guard object[name] != nil else { return nil }
        return try decode(name, as: type)
    }

    public func string(_ name: String) -> String? { object[name]?.stringValue }
    public func int(_ name: String) -> Int? { object[name]?.intValue.map { Int($0) } }
    public func bool(_ name: String) -> Bool? { object[name]?.boolValue }
}

extension RPCError {
    /// A decoding failure is a params failure at the coding path's pointer.
    public static func fromDecoding(_ e: DecodingError, base: JSONPointer) -> RPCError {
        let path: [CodingKey]
        let reason: String
        switch e {
        case .typeMismatch(_, let c): path = c.codingPath; reason = c.debugDescription
        case .valueNotFound(_, let c): path = c.codingPath; reason = c.debugDescription
        case .keyNotFound(let k, let c): path = c.codingPath + [k]; reason = "required"
        case .dataCorrupted(let c): path = c.codingPath; reason = c.debugDescription
        @unknown default: path = []; reason = "\(e)"
        }
        let ptr = JSONPointer(base.tokens + JSONPointer(codingPath: path).tokens)
        return RPCError(.invalidParams, pointer: ptr.description, reason)
    }
}
