import Synchronization
// The result types and error codes are the contract's: whoever imports the client has them.
@_exported import TwoSpeedContract
import TwoSpeedJSON
import TwoSpeedModel

/// The reference client: every method by name (`call`), and typed calls for the main ones. Requests are
/// encoded and replies decoded with jansson; an error reply is thrown as `RPCCallError`, a transport
/// failure as `TransportError`.
///
///     let client = try TwoSpeedClient(socketPath: "/run/twospeed/twospeed.sock")
///     print(try client.info().version)
///     let put = try client.putPortfolio(portfolio)
///     _ = try client.observe("nps", in: put.id, [Observation(at: "2026-07-01", value: 41)])
public final class TwoSpeedClient: Sendable {
    public let transport: any RPCTransport
    private let lastID = Atomic<Int>(0)

    public init(transport: any RPCTransport) {
        self.transport = transport
    }

    /// Connects to twospeedd.
    public convenience init(socketPath: String, timeoutSeconds: Double? = nil) throws {
        self.init(transport: try UnixSocketTransport(path: socketPath, timeoutSeconds: timeoutSeconds))
    }

    // MARK: Any method

    /// Calls `method` with params given as a jansson value (borrowed; an object or an array, or nil for
    /// none) and returns the result, which the caller owns (released when it goes).
    public func callJSON(_ method: String, params: JSONView? = nil) throws -> JSON {
        let id = lastID.add(1, ordering: .relaxed).newValue
        let response: JSON
        do {
            let request = try JSON.object()
            try request.set("jsonrpc", string: "2.0")
            try request.set("method", string: method)
            if let params { try request.set("params", params) }
            try request.set("id", int: id)
            if let direct = transport as? JSONValueTransport {
                guard let r = withExtendedLifetime(request, { direct.exchange(value: request.view) }) else {
                    throw TransportError(.malformedReply, endpoint: transport.endpoint, "no reply to a request")
                }
                response = r
            } else {
                guard let reply = try transport.exchange(request.text(), expectsReply: true) else {
                    throw TransportError(.malformedReply, endpoint: transport.endpoint, "no reply to a request")
                }
                switch try JSON.parse(reply) {
                case .success(let v): response = v
                case .failure(let e):
                    throw TransportError(.malformedReply, endpoint: transport.endpoint, "the reply is not JSON: \(e.reason)")
                }
            }
        }
        guard response.isObject else {
            throw TransportError(.malformedReply, endpoint: transport.endpoint, "the reply is not a JSON-RPC response object")
        }
        if let error = response["error"], error.isObject {
            throw RPCCallError(error: error)
        }
        guard let result = response["result"] else {
            throw TransportError(.malformedReply, endpoint: transport.endpoint, "the reply has neither result nor error")
        }
        if let rid = response["id"], rid.intValue != Int64(id) {
            throw TransportError(.malformedReply, endpoint: transport.endpoint, "the reply answers another request (id \(rid.text()))")
        }
        return result.owned()
    }

    /// The same with owned params.
    public func callJSON(_ method: String, params: JSON) throws -> JSON {
        try callJSON(method, params: params.view)
    }

    /// The result as a new reference the caller must release: the old interface, for callers not yet
    /// moved to the owning one.
    @available(*, deprecated, message: "use callJSON(_:params:) with a JSONView or JSON, which returns an owning JSON")
    public func callJSON(_ method: String, params: JSONRef) throws -> JSONRef {
        try callJSON(method, params: JSONView(params)).retainedRef()
    }

    /// Calls `method` with params given as JSON text (nil for none) and returns the result as compact
    /// JSON text. Params that are not JSON throw `InvalidJSONError` before anything is sent.
    public func call(_ method: String, paramsJSON: String?) throws -> String {
        var params: JSON? = nil
        if let paramsJSON {
            switch try JSON.parse(paramsJSON) {
            case .success(let v): params = v
            case .failure(let e):
                throw InvalidJSONError(what: "the params", reason: e.reason, line: e.line, column: e.column)
            }
        }
        return try withExtendedLifetime(params) { try callJSON(method, params: params?.view).text() }
    }

    /// Calls `method` with Encodable params and decodes the result.
    public func call<P: Encodable, R: Decodable>(_ method: String, params: P, as type: R.Type = R.self) throws -> R {
        try decode(callJSON(method, params: JSON.encoding(params)), as: R.self)
    }

    /// Calls `method` without params and decodes the result.
    public func call<R: Decodable>(_ method: String, as type: R.Type = R.self) throws -> R {
        try decode(callJSON(method), as: R.self)
    }

    /// Sends a notification: no reply comes, whatever the outcome.
    public func notify(_ method: String, params: JSONView? = nil) throws {
        let request = try JSON.object()
        try request.set("jsonrpc", string: "2.0")
        try request.set("method", string: method)
        if let params { try request.set("params", params) }
        _ = try transport.exchange(request.text(), expectsReply: false)
    }

    @available(*, deprecated, message: "use notify(_:params:) with a JSONView")
    public func notify(_ method: String, params: JSONRef) throws { try notify(method, params: JSONView(params)) }

    private func decode<R: Decodable>(_ result: JSON, as type: R.Type) throws -> R {
        do { return try result.decode(R.self) } catch {
            throw TransportError(.malformedReply, endpoint: transport.endpoint, "the result does not decode as \(R.self): \(error)")
        }
    }

    // MARK: Typed calls

    /// engine.info: version, store, counts.
    public func info() throws -> EngineInfo { try call(MethodName.engineInfo.rawValue) }

    /// portfolio.put: stores a whole portfolio, replacing one with the same id.
    public func putPortfolio(_ portfolio: Portfolio, ifRevision: Int? = nil) throws -> PutResult {
        try call(MethodName.portfolioPut.rawValue, params: PutParams(portfolio: portfolio, ifRevision: ifRevision))
    }

    /// portfolio.put with the document as JSON (borrowed), exactly as read: the engine validates it and
    /// names every failure with its pointer.
    public func putPortfolio(document: JSONView, ifRevision: Int? = nil) throws -> PutResult {
        let params = try JSON.object()
        try params.set("portfolio", document)
        if let ifRevision { try params.set("ifRevision", int: ifRevision) }
        return try decode(callJSON(MethodName.portfolioPut.rawValue, params: params), as: PutResult.self)
    }

    public func putPortfolio(document: JSON, ifRevision: Int? = nil) throws -> PutResult {
        try putPortfolio(document: document.view, ifRevision: ifRevision)
    }

    @available(*, deprecated, message: "use putPortfolio(document:) with a JSONView or JSON")
    public func putPortfolio(document: JSONRef, ifRevision: Int? = nil) throws -> PutResult {
        try putPortfolio(document: JSONView(document), ifRevision: ifRevision)
    }

    /// portfolio.get: the whole portfolio with its revision.
    public func portfolio(_ id: String) throws -> PortfolioRecord {
        try call(MethodName.portfolioGet.rawValue, params: GetParams(id: id))
    }

    /// portfolio.list: every portfolio, summarized.
    public func portfolios() throws -> [PortfolioSummary] {
        let r: PortfolioList = try call(MethodName.portfolioList.rawValue)
        return r.portfolios
    }

    /// portfolio.delete.
    public func deletePortfolio(_ id: String, ifRevision: Int? = nil) throws -> DeleteResult {
        try call(MethodName.portfolioDelete.rawValue, params: DeleteParams(id: id, ifRevision: ifRevision))
    }

    /// entity.get: one entity, decoded as `type` (Product, Metric, ... or any Decodable).
    public func entity<E: Decodable>(_ kind: EntityKind, id: String, in portfolio: String, as type: E.Type = E.self) throws -> E {
        let r: EntityResult<E> = try call(MethodName.entityGet.rawValue, params: EntityGetParams(portfolio: portfolio, kind: kind, id: id))
        return r.entity
    }

    /// entity.list: every entity of a kind.
    public func entities<E: Decodable>(_ kind: EntityKind, in portfolio: String, as type: E.Type = E.self) throws -> [E] {
        let r: EntityListResult<E> = try call(MethodName.entityList.rawValue, params: EntityListParams(portfolio: portfolio, kind: kind))
        return r.entities
    }

    /// entity.upsert: adds the entity or replaces the one with its id.
    public func upsert<E: Encodable>(_ kind: EntityKind, _ entity: E, in portfolio: String, ifRevision: Int? = nil) throws -> EntityChange {
        try call(MethodName.entityUpsert.rawValue, params: UpsertParams(portfolio: portfolio, kind: kind, entity: entity, ifRevision: ifRevision))
    }

    /// entity.remove: refused (-32001) while something references it.
    public func removeEntity(_ kind: EntityKind, id: String, in portfolio: String, ifRevision: Int? = nil) throws -> EntityChange {
        try call(MethodName.entityRemove.rawValue, params: RemoveParams(portfolio: portfolio, kind: kind, id: id, ifRevision: ifRevision))
    }

    /// metric.observe: appends observations to a metric.
    public func observe(_ metric: String, in portfolio: String, _ observations: [Observation], ifRevision: Int? = nil) throws -> ObserveResult {
        try call(MethodName.metricObserve.rawValue, params: ObserveParams(portfolio: portfolio, metric: metric, observations: observations, ifRevision: ifRevision))
    }
}
