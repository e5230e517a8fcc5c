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
    /// Returns the result, which the reply then holds.
    public var handler: @Sendable (Params) throws -> JSON

    public init(_ name: String, summary: String, params: [Param] = [], result: Schema, mutates: Bool,
                errors: [ErrorCode] = [], handler: @escaping @Sendable (Params) throws -> JSON) {
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
            try Method.encodeResult(try body(p))
        }
    }
}

/// The params of one call, already validated against the method's schemas. Members are borrowed
/// from the request and valid for the duration of the handler. Handlers get their spec's params struct
/// (Method(spec) { (p, call) in ... }); `object` is read only here, to decode that struct.
public struct Params {
    /// The params by name (by-position params are mapped to names in declaration order).
    let object: JSONRef
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

// MARK: Typed methods

/// A method's contract without its handler: what rpc.discover lists and the dispatcher checks, and the
/// types on either side of the wire. `P` is decoded from the params once they pass their schemas (its
/// stored properties are the params, in by-position order: ContractTests holds it to `params`); `R` is
/// what a reply decodes as (ContractTests decodes real replies with it and validates them with `result`).
/// TwoSpeedContract holds one of these per method; the engine registers a handler against each.
public struct MethodSpec<P: Decodable & SendableMetatype, R: Decodable & SendableMetatype>: Sendable {
    public let name: String
    public let summary: String
    public let params: [Param]
    public let result: Schema
    public let mutates: Bool
    public let errors: [ErrorCode]
    public let blocking: Bool
    public let adminOnly: Bool

    public init(_ name: String, summary: String, params: [Param] = [], result: Schema, mutates: Bool, errors: [ErrorCode] = [],
                blocking: Bool = false, adminOnly: Bool = false) {
        self.name = name; self.summary = summary; self.params = params; self.result = result; self.mutates = mutates
        self.errors = errors; self.blocking = blocking; self.adminOnly = adminOnly
    }
}

/// What every spec answers whatever its types: for lists of specs and the tests that hold them to the table.
public protocol AnyMethodSpec: Sendable {
    var name: String { get }
    var summary: String { get }
    var params: [Param] { get }
    var result: Schema { get }
    var mutates: Bool { get }
    var errors: [ErrorCode] { get }
    var blocking: Bool { get }
    var adminOnly: Bool { get }
    var paramsType: Any.Type { get }
    var resultType: Any.Type { get }
    /// Params (an object by name, borrowed) decoded as the spec's params type, as a handler gets them.
    func decodeParams(_ object: JSONRef) throws -> Any
    /// A result (borrowed) decoded as the spec's result type.
    func decodeResult(_ value: JSONRef) throws -> Any
    /// A result decoded as the spec's result type and encoded again (a new reference), or nil when that
    /// type does not encode: what a test compares with the reply to find members the type lacks.
    func reencodeResult(_ value: JSONRef) throws -> JSONRef?
}

extension MethodSpec: AnyMethodSpec {
    public var paramsType: Any.Type { P.self }
    public var resultType: Any.Type { R.self }
    public func decodeParams(_ object: JSONRef) throws -> Any {
        try Params(object: object, context: CallContext(), positions: nil).decodeAll(P.self)
    }
    public func decodeResult(_ value: JSONRef) throws -> Any { try JanssonDecoder().decode(R.self, from: value) }
    public func reencodeResult(_ value: JSONRef) throws -> JSONRef? {
        guard let v = try JanssonDecoder().decode(R.self, from: value) as? any Encodable else { return nil }
        return try JanssonEncoder().encode(v)
    }
}

/// No params.
public struct NoParams: Codable, Sendable, Equatable {
    public init() {}
}

/// What a typed handler knows of its call besides the params: who calls, and where each param was
/// written (for error pointers: "/name", or "/0" for by-position params).
public struct Call: Sendable {
    public let context: CallContext
    let positions: [String: Int]?

    /// The pointer of a parameter as the caller wrote it.
    public func pointer(_ name: String) -> JSONPointer {
        if let positions, let i = positions[name] { return JSONPointer([String(i)]) }
        return JSONPointer([name])
    }
}

/// A param member kept as the caller's JSON (borrowed from the request, valid during the handler), for
/// handlers that store or validate a document as it came: the portfolio of portfolio.put, an entity.
/// A params type holding one conforms to `CarriesRawJSON`.
public struct RawJSON: Decodable, @unchecked Sendable {
    public let ref: JSONRef

    public init(from decoder: Decoder) throws {
        guard let root = RawScope.object?.ref else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "raw JSON outside a params type marked CarriesRawJSON"))
        }
        var v: JSONRef? = root
        for key in decoder.codingPath { v = key.intValue.map { v?[$0] } ?? v?[key.stringValue] }
        guard let v else {
            throw DecodingError.valueNotFound(RawJSON.self, .init(codingPath: decoder.codingPath, debugDescription: "required"))
        }
        ref = v
    }
}

/// Marks a params type with RawJSON members: only those are decoded with the params object at hand.
public protocol CarriesRawJSON {}

/// The params object being decoded, for RawJSON (a decoder does not hand out its JSON).
enum RawScope {
    @TaskLocal static var object: Box?
    final class Box: @unchecked Sendable {
        let ref: JSONRef
        init(_ ref: JSONRef) { self.ref = ref }
    }
}

/// A params type that reads itself from the validated params object without Codable's containers, for
/// the methods callers poll (entity.get, portfolio.get). ContractTests holds each read to the type's
/// Codable decoding, so that the two cannot drift.
public protocol ParamsReadable: SendableMetatype {
    init(reading params: ParamsReader) throws
}

extension ParamsReadable {
    /// Read as `P`, which is Self: a cast between equal types, without boxing the value in an existential.
    static func read<P>(_ r: ParamsReader, as type: P.Type) throws -> P { try Self(reading: r) as! P }
}

/// The validated params object of one call, read member by member by a ParamsReadable type.
public struct ParamsReader {
    let object: JSONRef

    public init(_ object: JSONRef) { self.object = object }

    /// A required string; the schema has checked it, so absence is a params error, never a default.
    public func string(_ key: String) throws -> String {
        guard let s = object[key]?.stringValue else { throw RPCError(.invalidParams, pointer: JSONPointer([key]).description, "required") }
        return s
    }

    /// A required string naming a term of `T`.
    public func term<T: RawRepresentable>(_ key: String, as type: T.Type = T.self) throws -> T where T.RawValue == String {
        guard let t = T(rawValue: try string(key)) else { throw RPCError(.invalidParams, pointer: JSONPointer([key]).description, "unknown term") }
        return t
    }
}

/// How a params type is decoded, found once per method rather than per call (a conformance check
/// costs a look-up).
enum ParamsShape: @unchecked Sendable {  // holds only a metatype
    case empty, raw, plain, readable(any ParamsReadable.Type)
    init<P>(_ type: P.Type) {
        if P.self == NoParams.self { self = .empty }
        else if P.self is CarriesRawJSON.Type { self = .raw }
        else if let r = P.self as? ParamsReadable.Type { self = .readable(r) }
        else { self = .plain }
    }
}

extension Params {
    /// The whole params object decoded as `P`; a failure is -32602 at the caller's pointer.
    func decodeAll<P: Decodable>(_ type: P.Type, _ shape: ParamsShape? = nil) throws -> P {
        let shape = shape ?? ParamsShape(P.self)
        if case .empty = shape { return NoParams() as! P }
        do {
            if case .readable(let readable) = shape {
                do { return try readable.read(ParamsReader(object), as: P.self) } catch let e as RPCError {
                    // A by-position caller's pointer names the position.
                    guard let positions, let name = e.data?.pointer.map({ String($0.dropFirst()) }), let i = positions[name] else { throw e }
                    throw RPCError(.invalidParams, pointer: "/\(i)", e.data?.reason ?? "invalid")
                }
            }
            if case .raw = shape {
                return try RawScope.$object.withValue(RawScope.Box(object)) { try JanssonDecoder().decode(P.self, from: object) }
            }
            return try JanssonDecoder().decode(P.self, from: object)
        } catch let e as DecodingError {
            // The first token is a param's name; by-position params keep the caller's index instead.
            let mapped = RPCError.fromDecoding(e, base: JSONPointer([]))
            guard let positions, let ptr = mapped.data?.pointer else { throw mapped }
            var tokens = Array(ptr.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init))
            if let first = tokens.first, let i = positions[first] { tokens[0] = String(i) }
            var d = mapped.data!
            d.pointer = "/" + tokens.joined(separator: "/")
            throw RPCError(.invalidParams, d)
        }
    }

    var call: Call { Call(context: context, positions: positions) }
}

extension Method {
    /// A method from its spec whose handler returns the spec's result type, encoded here.
    public init<P, R: Encodable>(_ spec: MethodSpec<P, R>, _ body: @escaping @Sendable (P, Call) throws -> R) {
        self.init(spec, raw: { p, call in
            try Method.encodeResult(try body(p, call))
        })
    }

    /// A handler's Encodable result as JSON. Memory running out stays "out of memory" (the dispatcher's
    /// answer for it); any other encoding failure is an internal error.
    static func encodeResult<R: Encodable>(_ r: R) throws -> JSON {
        do { return try JSON.encoding(r) } catch JSONError.noMemory { throw JSONError.noMemory } catch {
            throw RPCError(.internalError, pointer: nil, "cannot encode the result: \(error)")
        }
    }

    /// A method from its spec whose handler builds its result as JSON itself, for results on hot paths;
    /// ContractTests decodes its real replies as the spec's result type.
    public init<P, R>(_ spec: MethodSpec<P, R>, raw body: @escaping @Sendable (P, Call) throws -> JSON) {
        let shape = ParamsShape(P.self)
        self.init(spec.name, summary: spec.summary, params: spec.params, result: spec.result, mutates: spec.mutates,
                  errors: spec.errors) { params in try body(try params.decodeAll(P.self, shape), params.call) }
        blocking = spec.blocking
        adminOnly = spec.adminOnly
    }
}
