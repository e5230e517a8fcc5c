import CJansson
import XCTest
import TwoSpeedContract
@testable import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedRPC
import TwoSpeedSchema

/// TwoSpeedContract is what the engine and the clients share. These tests hold the engine to it: the
/// method names are the table's, rpc.discover lists the contract's result schemas, and each result
/// type, its schema and the engine's real reply (some built as jansson directly) have the same members.
final class ContractTests: XCTestCase {
    func testMethodNamesAreTheEngineTable() throws {
        let engine = try Engine(path: nil)
        let served = engine.dispatcher.ordered.map(\.name)
        XCTAssertEqual(served.count, Set(served).count, "a method is registered twice")
        XCTAssertEqual(Set(served), Set(MethodName.allCases.map(\.rawValue)),
                       "a method served without a MethodName, or a MethodName no method serves")
    }

    func testResultTypesAgreeWithTheirSchemasAndTheReplies() throws {
        let engine = try Engine(path: nil)
        let put = try reply(engine, .portfolioPut, #"{"portfolio":\#(retailerText)}"#)
        try agree(put, PutResult.self, PutResult.schema, engine, .portfolioPut)
        try agree(try reply(engine, .engineInfo), EngineInfo.self, EngineInfo.schema, engine, .engineInfo)
        try agree(try reply(engine, .portfolioGet, #"{"id":"retailer"}"#), PortfolioRecord.self, PortfolioRecord.schema,
                  engine, .portfolioGet, roundTrip: false)   // Portfolio's own encoding is the model's business
        try agree(try reply(engine, .portfolioList), PortfolioList.self, PortfolioList.schema, engine, .portfolioList)
        try agree(try reply(engine, .entityGet, #"{"portfolio":"retailer","kind":"product","id":"checkout"}"#),
                  EntityResult<Product>.self, ContractSchemas.entityResult, engine, .entityGet, roundTrip: false)
        try agree(try reply(engine, .entityList, #"{"portfolio":"retailer","kind":"product"}"#),
                  EntityListResult<Product>.self, ContractSchemas.entityList, engine, .entityList, roundTrip: false)
        let product = #"{"id":"contract-probe","name":"Probe","status":"rollout"}"#
        let upsert = try reply(engine, .entityUpsert, #"{"portfolio":"retailer","kind":"product","entity":\#(product)}"#)
        try agree(upsert, EntityChange.self, EntityChange.schema, engine, .entityUpsert)
        XCTAssertNotNil(upsert["created"], "an upsert says whether the entity is new")
        let remove = try reply(engine, .entityRemove, #"{"portfolio":"retailer","kind":"product","id":"contract-probe"}"#)
        try agree(remove, EntityChange.self, EntityChange.schema, engine, .entityRemove)
        try agree(try reply(engine, .metricObserve, #"{"portfolio":"retailer","metric":"online-sales","observations":[{"at":"2026-07-01","value":1}]}"#),
                  ObserveResult.self, ObserveResult.schema, engine, .metricObserve)
        try agree(try reply(engine, .portfolioDelete, #"{"id":"retailer"}"#), DeleteResult.self, DeleteResult.schema,
                  engine, .portfolioDelete)
    }

    func testReportAndCollectResultsAgree() throws {
        let engine = try Engine(path: nil, plugins: repoRoot + "/examples/plugins")
        try reply(engine, .portfolioPut, #"{"portfolio":\#(retailerText)}"#).release()
        try agree(try reply(engine, .reportRender, #"{"format":"text","portfolio":"retailer"}"#), Rendered.self, Rendered.schema,
                  engine, .reportRender)
        try agree(try reply(engine, .pluginCollect, #"{"plugin":"csv-metrics","portfolio":"retailer"}"#), CollectResult.self,
                  CollectResult.schema, engine, .pluginCollect)
    }

    /// Each params struct a client encodes has the engine's params, in their order (by-position params
    /// follow it), optional exactly where the param is; and the engine lists the contract's params.
    func testParamStructsAreTheMethodsParams() throws {
        let engine = try Engine(path: nil)
        let portfolio = try JanssonDecoder().decode(Portfolio.self, from: retailerText)
        let obs = [Observation(at: "2026-07-01", value: 1)]
        let cases: [(MethodName, Any, [Param])] = [
            (.portfolioPut, PutParams(portfolio: portfolio), PutParams.params),
            (.portfolioGet, GetParams(id: "a"), GetParams.params),
            (.portfolioDelete, DeleteParams(id: "a"), DeleteParams.params),
            (.entityGet, EntityGetParams(portfolio: "a", kind: .product, id: "b"), EntityGetParams.params),
            (.entityList, EntityListParams(portfolio: "a", kind: .product), EntityListParams.params),
            (.entityUpsert, UpsertParams(portfolio: "a", kind: .product, entity: portfolio.products[0]), UpsertParamList.params),
            (.entityRemove, RemoveParams(portfolio: "a", kind: .product, id: "b"), RemoveParams.params),
            (.metricObserve, ObserveParams(portfolio: "a", metric: "m", observations: obs), ObserveParams.params),
        ]
        XCTAssertEqual(paramIssues(GetParams(id: "a"), DeleteParams.params), ["params [\"id\"], expected [\"id\", \"ifRevision\"]"],
                       "the check catches a missing param")
        for (method, value, params) in cases {
            XCTAssertEqual(paramIssues(value, params), [], method.rawValue)
            let served = try XCTUnwrap(engine.dispatcher.methods[method.rawValue]).params
            XCTAssertEqual(served.map(\.name), params.map(\.name), method.rawValue)
            for (a, b) in zip(served, params) {
                let x = a.schema.jsonSchema(), y = b.schema.jsonSchema()
                XCTAssertTrue(json_equal(x, y) == 1 && a.required == b.required, "\(method.rawValue): \(a.name)")
                x.release(); y.release()
            }
        }
    }

    private func paramIssues(_ value: Any, _ params: [Param]) -> [String] {
        let props = Mirror(reflecting: value).children.compactMap { c in c.label.map { (name: $0, value: c.value) } }
        if props.map(\.name) != params.map(\.name) { return ["params \(props.map(\.name)), expected \(params.map(\.name))"] }
        return zip(props, params).compactMap { prop, param in
            (Swift.type(of: prop.value) is OptionalMember.Type) == param.required ? "\(param.name): optional is not !required" : nil
        }
    }

    /// The check itself must catch what it is there for: a member of the reply that the type lacks,
    /// and a member of the type that the schema lacks.
    func testTheAgreementCheckFailsOnDrift() throws {
        struct Short: Codable { var id: String; var deleted: Bool }
        struct Extra: Codable { var id: String; var deleted: Bool; var reason: String? }
        let full = parse(#"{"id":"a","deleted":true,"extra":1}"#)
        defer { full.release() }
        XCTAssertFalse(issues(full, Short.self, DeleteResult.schema, roundTrip: true).isEmpty)
        let plain = parse(#"{"id":"a","deleted":true}"#)
        defer { plain.release() }
        XCTAssertEqual(issues(plain, Short.self, DeleteResult.schema, roundTrip: true), [])
        XCTAssertFalse(issues(plain, Extra.self, DeleteResult.schema, roundTrip: true).isEmpty)
    }

    // MARK: Helpers

    private func reply(_ engine: Engine, _ method: MethodName, _ params: String? = nil,
                       file: StaticString = #filePath, line: UInt = #line) throws -> JSONRef {
        let r = engine.request(method.rawValue, params)
        let result = try XCTUnwrap(r.result, "\(method.rawValue): \(r.text)", file: file, line: line)
        return result.retained()
    }

    /// The method lists exactly `schema` in rpc.discover, and `result` (released here) agrees with it and with T.
    private func agree<T: Codable>(_ result: JSONRef, _ type: T.Type, _ schema: Schema, _ engine: Engine, _ method: MethodName,
                                   roundTrip: Bool = true, file: StaticString = #filePath, line: UInt = #line) throws {
        defer { result.release() }
        let listed = try XCTUnwrap(engine.dispatcher.methods[method.rawValue], file: file, line: line).result.jsonSchema()
        let own = schema.jsonSchema()
        defer { listed.release(); own.release() }
        XCTAssertTrue(json_equal(listed, own) == 1, "\(method.rawValue) lists a schema other than the contract's", file: file, line: line)
        XCTAssertEqual(issues(result, T.self, schema, roundTrip: roundTrip), [], method.rawValue, file: file, line: line)
    }

    private func agree<T: Decodable>(_ result: JSONRef, _ type: T.Type, _ schema: Schema, _ engine: Engine, _ method: MethodName,
                                     roundTrip: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        defer { result.release() }
        let listed = try XCTUnwrap(engine.dispatcher.methods[method.rawValue], file: file, line: line).result.jsonSchema()
        let own = schema.jsonSchema()
        defer { listed.release(); own.release() }
        XCTAssertTrue(json_equal(listed, own) == 1, "\(method.rawValue) lists a schema other than the contract's", file: file, line: line)
        XCTAssertEqual(decodeIssues(result, T.self, schema), [], method.rawValue, file: file, line: line)
    }

    /// What disagrees between a reply, a Codable type and a schema; empty when they agree.
    private func issues<T: Codable>(_ reply: JSONRef, _ type: T.Type, _ schema: Schema, roundTrip: Bool) -> [String] {
        var out = decodeIssues(reply, T.self, schema)
        guard out.isEmpty, roundTrip, let value = try? JanssonDecoder().decode(T.self, from: reply) else { return out }
        // Decoding ignores members the type lacks: encoding again must give the reply back whole.
        guard let again = try? JanssonEncoder().encode(value) else { return out + ["does not encode"] }
        defer { again.release() }
        if json_equal(again, reply) != 1 {
            out.append("the reply \(JSONText.dump(reply)) comes back as \(JSONText.dump(again))")
        }
        return out
    }

    private func decodeIssues<T: Decodable>(_ reply: JSONRef, _ type: T.Type, _ schema: Schema) -> [String] {
        var out = schema.validate(reply).issues.map { "the reply fails its schema at \($0.pointer): \($0.reason)" }
        do {
            let value = try JanssonDecoder().decode(T.self, from: reply)
            members(value, schema, at: "", into: &out)
        } catch {
            out.append("the reply does not decode as \(T.self): \(error)")
        }
        return out
    }

    /// The type's stored properties are the schema's properties, and the non-optional ones its required
    /// ones; nested contract types and Counts likewise. (Synthesized Codable: property names are keys.)
    private func members(_ value: Any, _ schema: Schema, at path: String, into out: inout [String]) {
        if value is Counts {
            if schema.properties.map(\.name) != Counts.members { out.append("\(path): Counts and its schema differ") }
            return
        }
        let mirror = Mirror(reflecting: value)
        let props = mirror.children.compactMap { c in c.label.map { (name: $0, value: c.value) } }
        let typeNames = Set(props.map(\.name)), schemaNames = Set(schema.properties.map(\.name))
        if typeNames != schemaNames {
            out.append("\(path.isEmpty ? "(root)" : path) \(type(of: value)): only in the type \(typeNames.subtracting(schemaNames).sorted()), "
                       + "only in the schema \(schemaNames.subtracting(typeNames).sorted())")
        }
        for p in props {
            guard let s = schema.properties.first(where: { $0.name == p.name }) else { continue }
            let optional = Swift.type(of: p.value) is OptionalMember.Type
            if optional == s.required {
                out.append("\(path)/\(p.name): \(optional ? "optional in the type, required by the schema" : "required by the type, optional in the schema")")
            }
            var nested: Any? = p.value
            if optional { nested = Mirror(reflecting: p.value).children.first?.value }
            var nestedSchema = s.schema
            if nestedSchema.kind == .array, let items = nestedSchema.items.first, let array = nested as? [Any] {
                nested = array.first
                nestedSchema = items
            }
            if let nested, nestedSchema.kind == .object, !nestedSchema.properties.isEmpty,
               nested is Counts || String(reflecting: Swift.type(of: nested)).hasPrefix("TwoSpeedContract.") {
                members(nested, nestedSchema, at: path + "/" + p.name, into: &out)
            }
        }
    }
}

private protocol OptionalMember {}
extension Optional: OptionalMember {}
