import Glibc
import Synchronization
import TwoSpeedJSON
import TwoSpeedSchema

/// JSON-RPC 2.0 (jsonrpc.org/specification) over one method table. Every transport (the C ABI, the
/// socket, out-of-process plugins) hands text or values here and gets the response back; nothing in
/// here throws, traps or blocks on input.
public final class Dispatcher: @unchecked Sendable {
    public let methods: [String: Method]
    /// The same table as looked up per call: one reference count per look-up, where a `Method` copies
    /// (and counts) each of its members.
    private let entries: [String: Entry]
    /// In declaration order, for rpc.discover.
    public let ordered: [Method]
    /// Requests larger than this get a -32003 error without being parsed.
    public let maxRequestBytes: Int
    private let discovery: DocumentBox

    public static let defaultMaxRequestBytes = 64 << 20

    /// Where the details of an unexpected error go (twospeedd: its log); the reply itself says only
    /// which method failed, so that no Swift error's text reaches a client. Set before serving.
    public nonisolated(unsafe) var internalErrorLog: (@Sendable (_ method: String, _ detail: String) -> Void)? = nil

    /// `sharedDocument`: dispatchers given the same name share one OpenRPC document, built by the first of
    /// them; the caller promises that their methods and info describe alike (an engine's table is fixed).
    /// Building it is most of an engine's start (45,000 values); it is never changed once built.
    public init(methods: [Method], info: OpenRPCInfo, maxRequestBytes: Int = Dispatcher.defaultMaxRequestBytes,
                sharedDocument: String? = nil) {
        _ = JSONText.seeded
        // rpc.discover describes this very table, so its handler reads a document built after it.
        let box = DocumentBox()
        var discover = Dispatcher.discoverMethod
        // Unowned: the box's build holds this very table (the dispatcher owns the box and outlives its calls).
        discover.handler = { [unowned box] _ in try box.document().copy() }
        var all = methods
        all.insert(discover, at: 0)
        var table: [String: Method] = [:]
        for m in all { table[m.name] = m }
        self.methods = table
        self.entries = table.mapValues(Entry.init)
        self.ordered = all
        self.maxRequestBytes = maxRequestBytes
        box.build = { Dispatcher.document(sharedDocument) { JSON(adopting: OpenRPC.document(methods: all, info: info)) } }
        _ = try? box.document()
        self.discovery = box
    }

    private static let sharedDocuments = Mutex<[String: JSON]>([:])

    /// The document, or nil when its build met a failed allocation: jansson's builders leave placeholders
    /// then, so such a document is never kept, neither for this dispatcher nor for the others of its name.
    private static func document(_ name: String?, _ build: () -> JSON) -> JSON? {
        func whole() -> JSON? {
            let failures = JSONAllocation.failures
            let d = build()
            return JSONAllocation.failures == failures ? d : nil
        }
        guard let name else { return whole() }
        return sharedDocuments.withLock { documents in
            if let d = documents[name] { return d }
            let d = whole()
            documents[name] = d
            return d
        }
    }

    /// The reply when memory ran out even for an error reply: text that needs no jansson value.
    public static let outOfMemoryText = #"{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error","data":{"reason":"out of memory"}},"id":null}"#

    /// What a request that met a failed allocation answers; a write committed before it is said so.
    static func outOfMemory(committed: Bool = JSONAllocation.committedInRequest) -> RPCError {
        RPCError(.internalError, pointer: nil, committed
                 ? "out of memory after the change was committed: read it back before sending it again"
                 : "out of memory; nothing was changed")
    }

    // MARK: Entry points

    /// A request or batch as text. Returns the response text allocated with jansson's allocator, or
    /// nil when there is nothing to answer (notifications only) or memory ran out even for the
    /// "out of memory" reply.
    public func handle(text bytes: UnsafeRawBufferPointer, context: CallContext = CallContext()) -> UnsafeMutablePointer<CChar>? {
        func written(_ text: UnsafeMutablePointer<CChar>?) -> UnsafeMutablePointer<CChar>? {
            text ?? JSONText.copyC(Dispatcher.outOfMemoryText)
        }
        switch parse(bytes) {
        case .reply(let r): return written(JSONText.dumpC(r.ref))
        case .request(let request):
            // A result's reply is written around it, with no envelope object; the id it echoes is borrowed
            // from the request, alive until then.
            return withExtendedLifetime(request) {
                switch reply(to: request.view, context: context) {
                case .none: return nil
                case .response(let r): return written(JSONText.dumpC(r.ref))
                case .result(let result, let id, _): return written(JSONText.resultResponseC(result.ref, id: id?.ref))
                }
            }
        }
    }

    /// A request or batch as text; the response as a new jansson value, or nil for notifications.
    @available(*, deprecated, message: "use respond(text:context:), which returns an owning JSON")
    public func handleValue(text bytes: UnsafeRawBufferPointer, context: CallContext = CallContext()) -> JSONRef? {
        respond(text: bytes, context: context)?.retainedRef()
    }

    /// A request or batch as text; the response, or nil for notifications. An allocation that fails
    /// anywhere on the way gives a -32603 "out of memory" reply (JSONAllocation tells it apart).
    public func respond(text bytes: UnsafeRawBufferPointer, context: CallContext = CallContext()) -> JSON? {
        switch parse(bytes) {
        case .reply(let r): return r
        case .request(let request): return withExtendedLifetime(request) { respond(to: request.view, context: context) }
        }
    }

    /// A request's text parsed, or the error reply when it cannot be.
    private enum Parsed { case request(JSON), reply(JSON) }

    private func parse(_ bytes: UnsafeRawBufferPointer) -> Parsed {
        if bytes.count > maxRequestBytes {
            var d = ErrorData(pointer: nil, reason: "the request is \(bytes.count) bytes; the limit is \(maxRequestBytes)")
            d.limit = maxRequestBytes
            d.size = bytes.count
            return .reply(RPCError(.tooLarge, d).response(id: nil))
        }
        do {
            switch try JSON.parse(bytes) {
            case .failure(let e):
                var d = ErrorData(pointer: nil, reason: e.reason)
                d.line = e.line
                d.column = e.column
                d.position = e.position
                return .reply(RPCError(.parseError, d).response(id: nil))
            case .success(let r): return .request(r)
            }
        } catch {
            return .reply(Dispatcher.outOfMemory().response(id: nil))
        }
    }

    /// A parsed request or batch (borrowed). Returns a new reference, or nil for notifications.
    @available(*, deprecated, message: "use respond(to:context:), which returns an owning JSON")
    public func handle(value: JSONRef, context: CallContext = CallContext()) -> JSONRef? {
        respond(to: JSONView(value), context: context)?.retainedRef()
    }

    /// How a request is answered, for a transport that writes the reply itself: nothing (notifications),
    /// a whole reply (errors, batches), or a result to write as {"jsonrpc":"2.0","result":...,"id":...}
    /// (JSONText.dumpResult) with the id borrowed from the request, without building that object, and
    /// whether a write committed (what an out of memory while writing it would have to say).
    public enum Reply {
        case none
        case response(JSON)
        case result(JSON, id: JSONView?, committed: Bool)
    }

    /// A parsed request or batch (borrowed), answered as a `Reply`.
    public func reply(to value: JSONView, context: CallContext = CallContext()) -> Reply {
        if value.isArray { return respond(to: value, context: context).map(Reply.response) ?? .none }
        return answer(value, context)
    }

    /// A parsed request or batch (borrowed); the response, or nil for notifications.
    public func respond(to value: JSONView, context: CallContext = CallContext()) -> JSON? {
        guard value.isArray else { return handleOne(value, context) }
        let n = value.count
        if n == 0 {
            return RPCError(.invalidRequest, pointer: "", "an empty batch is not a request").response(id: nil)
        }
        var replies: [JSON] = []
        for i in 0..<n {
            if let r = handleOne(value[i]!, context) { replies.append(r) }
        }
        if replies.isEmpty { return nil }
        do {
            let out = try JSON.array()
            for r in replies { try out.append(r) }
            return out
        } catch {
            // The batch's requests ran (and may have written); only their replies are lost.
            return RPCError(.internalError, pointer: nil, "out of memory while gathering the batch's replies: its requests ran; "
                            + "read back what they change before sending them again").response(id: nil)
        }
    }

    // MARK: One request

    private static let members: Set<String> = ["jsonrpc", "method", "params", "id"]

    private func handleOne(_ req: JSONView, _ context: CallContext) -> JSON? {
        switch answer(req, context) {
        case .none: return nil
        case .response(let r): return r
        case .result(let result, let id, let committed):
            do { return try JSON.rpcResponse("result", result, id: id) } catch {
                return Dispatcher.outOfMemory(committed: committed).response(id: id)
            }
        }
    }

    /// How one request is answered: nothing (a notification), a whole reply (an error), or its result.
    private func answer(_ req: JSONView, _ context: CallContext) -> Reply {
        guard req.isObject else {
            return .response(RPCError(.invalidRequest, pointer: "", "a request is an object, found \(req.kind.schemaName)").response(id: nil))
        }
        // The id first: every later error echoes it, and an id of the wrong type makes it null.
        let id = req["id"]
        if let id, !(id.isString || id.isNumber || id.kind == .null) {
            return .response(RPCError(.invalidRequest, pointer: "/id", "id must be a string, a number or null, found \(id.kind.schemaName)")
                .response(id: nil))
        }
        let isNotification = id == nil
        // A request that is not valid JSON-RPC is always answered (with id null when it has none):
        // only a well-formed notification goes unanswered, whatever its outcome.
        func invalid(_ e: RPCError) -> Reply { .response(e.response(id: id)) }
        func fail(_ e: RPCError) -> Reply { isNotification ? .none : .response(e.response(id: id)) }

        guard let version = req["jsonrpc"] else {
            return invalid(RPCError(.invalidRequest, pointer: "/jsonrpc", "required: \"2.0\""))
        }
        guard version.stringValue == "2.0" else {
            return invalid(RPCError(.invalidRequest, pointer: "/jsonrpc", "must be \"2.0\""))
        }
        guard let methodValue = req["method"] else {
            return invalid(RPCError(.invalidRequest, pointer: "/method", "required"))
        }
        guard let name = methodValue.stringValue else {
            return invalid(RPCError(.invalidRequest, pointer: "/method", "must be a string, found \(methodValue.kind.schemaName)"))
        }
        let params = req["params"]
        if let params, !(params.isObject || params.isArray) {
            return invalid(RPCError(.invalidRequest, pointer: "/params", "must be an object or an array, found \(params.kind.schemaName)"))
        }
        if req.count > 2 + (params == nil ? 0 : 1) + (id == nil ? 0 : 1) {
            for key in req.keys where !Dispatcher.members.contains(key) {
                return invalid(RPCError(.invalidRequest, pointer: JSONPointer([key]).description,
                                     "unknown member; a request has jsonrpc, method, params and id"))
            }
        }
        guard let entry = entries[name] else {
            var d = ErrorData(pointer: "/method", reason: "no method \"\(name)\"; rpc.discover lists them")
            d.method = name
            return fail(RPCError(.methodNotFound, d))
        }
        let method = entry.method
        if method.mutates && context.readOnly {
            var d = ErrorData(pointer: "/method", reason: "\(name) changes data and this caller may only read")
            d.method = name
            return fail(RPCError(.readOnly, d))
        }
        if method.adminOnly && !context.admin {
            var d = ErrorData(pointer: "/method", reason: "\(name) is for the daemon's administrators (--admin-uid, --admin-gid) and this caller is not one")
            d.method = name
            return fail(RPCError(.readOnly, d))
        }
        // Builders that cannot throw count a failed allocation instead (JSONAllocation): a result built
        // while one failed may be missing members, so it is never sent.
        let failuresBefore = JSONAllocation.failures
        let outer = JSONAllocation.beginRequest()
        defer { JSONAllocation.endRequest(outer) }
        do {
            let result = try call(entry, params, context)
            if JSONAllocation.failures != failuresBefore { return fail(Dispatcher.outOfMemory()) }
            if isNotification { return .none }
            return .result(result, id: id, committed: JSONAllocation.committedInRequest)
        } catch let e as RPCError {
            if JSONAllocation.failures != failuresBefore { return fail(Dispatcher.outOfMemory()) }
            return fail(e)
        } catch JSONError.noMemory {
            return fail(Dispatcher.outOfMemory())
        } catch {
            if JSONAllocation.failures != failuresBefore { return fail(Dispatcher.outOfMemory()) }
            // The error's own text may name files, SQL or internals: it goes to the log, escaped, and
            // the client learns which method failed.
            internalErrorLog?(name, ControlEscape.escaped(String(describing: error)))
            var d = ErrorData(pointer: nil, reason: "\(name) failed unexpectedly; nothing was changed, and the engine's log has the details")
            d.method = name
            return fail(RPCError(.internalError, d))
        }
    }

    private func call(_ entry: Entry, _ given: JSONView?, _ context: CallContext) throws -> JSON {
        let method = entry.method
        var issues = IssueList()
        // By-position params are mapped onto the declared names; pointers keep the caller's positions.
        var positions: [String: Int]? = nil
        // Named params are read where they are, in the request (alive for the call); only by-position
        // params need an object of their own. No params read the shared empty object.
        let object: JSONView
        var built: JSON? = nil
        if let given, given.isArray {
            let o = try JSON.object()
            var map: [String: Int] = [:]
            for i in 0..<given.count {
                guard i < method.params.count else {
                    issues.add(JSONPointer([String(i)]), "\(method.name) takes at most \(method.params.count) params")
                    break
                }
                try o.set(method.params[i].name, given[i]!)
                map[method.params[i].name] = i
            }
            positions = map
            built = o
            object = o.view
        } else if let given {
            object = given
        } else if let none = Dispatcher.noParams {
            object = none.view
        } else {
            let o = try JSON.object()
            built = o
            object = o.view
        }
        let p = Params(object: object.ref, context: context, positions: positions)
        // The declared params found: when they are all the members, none is unknown.
        var found = 0
        for (i, param) in method.params.enumerated() {
            let at = positions == nil ? entry.named[i] : entry.positional[i]
            if let v = object[param.name] {
                found += 1
                param.schema.validate(v.ref, at: at, into: &issues)
            } else if param.required {
                issues.add(at, "required")
            }
        }
        if positions == nil, object.count > found {
            object.forEachMember { key, _ in
                if !method.params.contains(where: { $0.name == key }) {
                    let names = method.params.map(\.name)
                    issues.add(JSONPointer([key]), names.isEmpty ? "\(method.name) takes no params"
                                                                 : "unknown param; expected one of: \(names.joined(separator: ", "))")
                }
            }
        }
        if !issues.isEmpty { throw RPCError.invalidParams(issues) }
        return try withExtendedLifetime(built) { try method.handler(p) }
    }

    /// The params of a call that gives none: an empty object made once and never changed (handlers
    /// only read their params), so that such a call allocates no object of its own. nil only if memory
    /// ran out when it was made (that call then answers "out of memory"); each call then makes its own.
    static let noParams: JSON? = try? JSON.object()

    /// A method with what each call needs of it worked out once.
    final class Entry: Sendable {
        let method: Method
        /// Each param's pointer as the caller wrote it: by name ("/portfolio") and by position ("/0").
        let named: [JSONPointer]
        let positional: [JSONPointer]
        init(_ method: Method) {
            self.method = method
            named = method.params.map { JSONPointer([$0.name]) }
            positional = method.params.indices.map { JSONPointer([String($0)]) }
        }
    }

    // MARK: rpc.discover

    private static let discoverMethod = Method("rpc.discover",
        summary: "The OpenRPC document of this engine: every method with JSON Schemas for its params and result.",
        result: Schema.object("OpenRPC", "An OpenRPC 1.3 document (spec.open-rpc.org).", [:]).openObject(),
        mutates: false) { _ in JSON.null }
}

/// Holds the OpenRPC document. Built once and never changed; each call gets a deep copy, so no jansson
/// value is shared between threads. A build that met a failed allocation (at the dispatcher's start) is
/// tried again by the next rpc.discover, whose reply says out of memory if it fails again.
final class DocumentBox: @unchecked Sendable {
    /// Set once, before the dispatcher serves.
    var build: () -> JSON? = { nil }
    private let built = Mutex<JSON?>(nil)

    func document() throws -> JSON {
        try built.withLock { d in
            if let d { return d }
            guard let made = build() else { throw JSONError.noMemory }
            d = made
            return made
        }
    }
}

extension RPCError {
    /// A whole error response: {"jsonrpc":"2.0","error":{...},"id":...}; when memory runs out, the
    /// shortest answer that can still be built.
    public func response(id: JSONView?) -> JSON {
        do {
            return try JSON.rpcResponse("error", errorObject(), id: id)
        } catch {
            // Built from a JSON literal jansson parses into few allocations; nil only if even that fails.
            if case .success(let r)? = try? JSON.parse(Dispatcher.outOfMemoryText) { return r }
            return JSON.null
        }
    }

    /// A whole error response as a new reference the caller owns.
    @available(*, deprecated, message: "use response(id:), which returns an owning JSON")
    public func responseJSON(id: JSONRef?) -> JSONRef {
        response(id: id.map(JSONView.init)).retainedRef()
    }
}

extension Schema {
    /// An object that allows any members (only for results the engine itself builds).
    public func openObject() -> Schema {
        var s = self
        s.mapValues = [.anyValue]
        return s
    }
}
