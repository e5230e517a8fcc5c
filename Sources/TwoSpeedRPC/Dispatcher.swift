import CJansson
import Glibc
import TwoSpeedJSON
import TwoSpeedSchema

/// JSON-RPC 2.0 (jsonrpc.org/specification) over one method table. Every transport (the C ABI, the
/// socket, out-of-process plugins) hands text or values here and gets the response back; nothing in
/// here throws, traps or blocks on input.
public final class Dispatcher: @unchecked Sendable {
    public let methods: [String: Method]
    /// In declaration order, for rpc.discover.
    public let ordered: [Method]
    /// Requests larger than this get a -32003 error without being parsed.
    public let maxRequestBytes: Int
    private let discovery: DocumentBox

    public static let defaultMaxRequestBytes = 64 << 20

    public init(methods: [Method], info: OpenRPCInfo, maxRequestBytes: Int = Dispatcher.defaultMaxRequestBytes) {
        _ = JSONText.seeded
        // rpc.discover describes this very table, so its handler reads a document built after it.
        let box = DocumentBox()
        var discover = Dispatcher.discoverMethod
        discover.handler = { _ in json_deep_copy(box.document!)! }
        var all = methods
        all.insert(discover, at: 0)
        var table: [String: Method] = [:]
        for m in all { table[m.name] = m }
        self.methods = table
        self.ordered = all
        self.maxRequestBytes = maxRequestBytes
        box.document = OpenRPC.document(methods: all, info: info)
        self.discovery = box
    }

    // MARK: Entry points

    /// A request or batch as text. Returns the response text allocated with jansson's allocator, or
    /// nil when there is nothing to answer (notifications only).
    public func handle(text bytes: UnsafeRawBufferPointer, context: CallContext = CallContext()) -> UnsafeMutablePointer<CChar>? {
        guard let response = handleValue(text: bytes, context: context) else { return nil }
        defer { response.release() }
        return JSONText.dumpC(response) ?? JSONText.dumpC(RPCError(.internalError).responseJSON(id: nil))
    }

    /// A request or batch as text; the response as a new jansson value, or nil for notifications.
    public func handleValue(text bytes: UnsafeRawBufferPointer, context: CallContext = CallContext()) -> JSONRef? {
        if bytes.count > maxRequestBytes {
            var d = ErrorData(pointer: nil, reason: "the request is \(bytes.count) bytes; the limit is \(maxRequestBytes)")
            d.limit = maxRequestBytes
            d.size = bytes.count
            return RPCError(.tooLarge, d).responseJSON(id: nil)
        }
        switch JSONText.parse(bytes) {
        case .failure(let e):
            var d = ErrorData(pointer: nil, reason: e.reason)
            d.line = e.line
            d.column = e.column
            d.position = e.position
            return RPCError(.parseError, d).responseJSON(id: nil)
        case .success(let request):
            defer { request.release() }
            return handle(value: request, context: context)
        }
    }

    /// A parsed request or batch (borrowed). Returns a new reference, or nil for notifications.
    public func handle(value: JSONRef, context: CallContext = CallContext()) -> JSONRef? {
        guard value.isArray else { return handleOne(value, context) }
        let n = value.count
        if n == 0 {
            return RPCError(.invalidRequest, pointer: "", "an empty batch is not a request").responseJSON(id: nil)
        }
        let out = JSONMake.array()
        for i in 0..<n {
            if let r = handleOne(value[i]!, context) { out.append(r) }
        }
        if out.count == 0 {
            out.release()
            return nil
        }
        return out
    }

    // MARK: One request

    private static let members: Set<String> = ["jsonrpc", "method", "params", "id"]

    private func handleOne(_ req: JSONRef, _ context: CallContext) -> JSONRef? {
        guard req.isObject else {
            return RPCError(.invalidRequest, pointer: "", "a request is an object, found \(req.kind.schemaName)").responseJSON(id: nil)
        }
        // The id first: every later error echoes it, and an id of the wrong type makes it null.
        let id = req["id"]
        if let id, !(id.isString || id.isNumber || id.kind == .null) {
            return RPCError(.invalidRequest, pointer: "/id", "id must be a string, a number or null, found \(id.kind.schemaName)")
                .responseJSON(id: nil)
        }
        let isNotification = id == nil
        // A request that is not valid JSON-RPC is always answered (with id null when it has none):
        // only a well-formed notification goes unanswered, whatever its outcome.
        func invalid(_ e: RPCError) -> JSONRef? { e.responseJSON(id: id) }
        func fail(_ e: RPCError) -> JSONRef? { isNotification ? nil : e.responseJSON(id: id) }

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
        guard let method = methods[name] else {
            var d = ErrorData(pointer: "/method", reason: "no method \"\(name)\"; rpc.discover lists them")
            d.method = name
            return fail(RPCError(.methodNotFound, d))
        }
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
        do {
            let result = try call(method, params, context)
            if isNotification {
                result.release()
                return nil
            }
            let response = json_object()!
            response.set("jsonrpc", JSONMake.string("2.0"))
            response.set("result", result)
            response.set("id", id!.retained())
            return response
        } catch let e as RPCError {
            return fail(e)
        } catch {
            return fail(RPCError(.internalError, pointer: nil, "\(error)"))
        }
    }

    private func call(_ method: Method, _ given: JSONRef?, _ context: CallContext) throws -> JSONRef {
        var issues = IssueList()
        // By-position params are mapped onto the declared names; pointers keep the caller's positions.
        var positions: [String: Int]? = nil
        let object: JSONRef
        if let given, given.isArray {
            object = JSONMake.object()
            var map: [String: Int] = [:]
            for i in 0..<given.count {
                guard i < method.params.count else {
                    issues.add(JSONPointer([String(i)]), "\(method.name) takes at most \(method.params.count) params")
                    break
                }
                object.set(method.params[i].name, given[i]!.retained())
                map[method.params[i].name] = i
            }
            positions = map
        } else {
            object = given?.retained() ?? JSONMake.object()
        }
        defer { object.release() }
        let p = Params(object: object, context: context, positions: positions)
        for param in method.params {
            if let v = object[param.name] {
                param.schema.validate(v, at: p.pointer(param.name), into: &issues)
            } else if param.required {
                let ptr = positions == nil ? p.pointer(param.name) : JSONPointer([String(method.params.firstIndex { $0.name == param.name }!)])
                issues.add(ptr, "required")
            }
        }
        if positions == nil, object.count > 0 {
            object.forEachMember { key, _ in
                if !method.params.contains(where: { $0.name == key }) {
                    let names = method.params.map(\.name)
                    issues.add(JSONPointer([key]), names.isEmpty ? "\(method.name) takes no params"
                                                                 : "unknown param; expected one of: \(names.joined(separator: ", "))")
                }
            }
        }
        if !issues.isEmpty { throw RPCError.invalidParams(issues) }
        return try method.handler(p)
    }

    // MARK: rpc.discover

    private static let discoverMethod = Method("rpc.discover",
        summary: "The OpenRPC document of this engine: every method with JSON Schemas for its params and result.",
        result: Schema.object("OpenRPC", "An OpenRPC 1.3 document (spec.open-rpc.org).", [:]).openObject(),
        mutates: false) { _ in JSONMake.null() }
}

/// Holds the OpenRPC document. Built once and never changed; each call gets a deep copy, so no jansson
/// value is shared between threads.
final class DocumentBox: @unchecked Sendable {
    var document: JSONRef?
    deinit { document?.release() }
}

extension RPCError {
    /// A whole error response: {"jsonrpc":"2.0","error":{...},"id":...}.
    public func responseJSON(id: JSONRef?) -> JSONRef {
        let r = json_object()!
        r.set("jsonrpc", JSONMake.string("2.0"))
        r.set("error", json())
        r.set("id", id?.retained() ?? JSONMake.null())
        return r
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
