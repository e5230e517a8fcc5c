import CJansson
import Foundation
import XCTest
import TwoSpeedContract
@testable import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedRPC
import TwoSpeedSchema

/// The typed contract (issue 25): every method is one MethodSpec in TwoSpeedContract, the engine's table
/// is exactly the specs, each spec's params struct is its param list, each result type decodes the
/// engine's real replies (and the spec's schema validates them), and no handler reads a param by name.
final class SpecTests: XCTestCase {
    // MARK: One spec per method, and the table is the specs

    func testEveryMethodNameHasExactlyOneSpec() {
        let names = Contract.all.map(\.name)
        XCTAssertEqual(names.count, Set(names).count, "two specs share a name")
        let all = Set(MethodName.allCases.map(\.rawValue))
        XCTAssertEqual(Set(names), all, "a MethodName without a spec, or a spec without a MethodName")
    }

    func testTheEngineTableIsTheSpecs() throws {
        let engine = try Engine(path: nil)
        let served = engine.dispatcher.ordered
        let specs = Dictionary(uniqueKeysWithValues: Contract.all.map { ($0.name, $0) })
        for m in served {
            guard let spec = specs[m.name] else {
                XCTFail("\(m.name) is served without a spec")
                continue
            }
            XCTAssertEqual(tableIssues(m, spec), [], m.name)
        }
        XCTAssertEqual(Set(served.map(\.name)).intersection(specs.keys).count, specs.count, "a spec the engine does not serve")
    }

    /// The comparison above must catch what it is there for.
    func testTheTableCheckCatchesADifference() throws {
        let engine = try Engine(path: nil)
        var m = try XCTUnwrap(engine.dispatcher.methods["campaign.get"])
        XCTAssertEqual(tableIssues(m, Contract.campaignGet), [])
        m.blocking = false
        m.params.removeLast()
        XCTAssertEqual(tableIssues(m, Contract.campaignGet).count, 2)
    }

    private func tableIssues(_ m: TwoSpeedRPC.Method, _ spec: any AnyMethodSpec) -> [String] {
        var out: [String] = []
        if m.summary != spec.summary { out.append("summary") }
        if m.mutates != spec.mutates || m.blocking != spec.blocking || m.adminOnly != spec.adminOnly { out.append("flags") }
        if m.errors != spec.errors { out.append("errors") }
        if m.params.map(\.name) != spec.params.map(\.name) || m.params.map(\.required) != spec.params.map(\.required)
            || m.params.map(\.summary) != spec.params.map(\.summary)
            || zip(m.params, spec.params).contains(where: { !same($0.schema, $1.schema) }) {
            out.append("params")
        }
        if !same(m.result, spec.result) { out.append("result") }
        return out
    }

    private func same(_ a: Schema, _ b: Schema) -> Bool {
        let x = a.jsonSchema(), y = b.jsonSchema()
        defer { x.release(); y.release() }
        return json_equal(x, y) == 1
    }

    // MARK: Real replies, through every spec

    /// Every spec is called on a real engine (SQLite in memory, the example plugins): its params decode as
    /// its params struct, whose properties are its param list in order (optional exactly where the param
    /// is); its reply passes its result schema and decodes as its result type.
    func testEverySpecDecodesItsRealParamsAndReplies() throws {
        let engine = try Engine(path: nil, plugins: repoRoot + "/examples/plugins")
        var checked: Set<String> = []
        @discardableResult
        func real(_ method: MethodName, _ params: String? = nil, line: UInt = #line) -> JSONRef? {
            guard let spec = Contract.all.first(where: { $0.name == method.rawValue }) else {
                XCTFail("no spec for \(method.rawValue)", line: line)
                return nil
            }
            checked.insert(spec.name)
            let object = parse(params ?? "{}")
            defer { object.release() }
            do {
                let decoded = try spec.decodeParams(object)
                XCTAssertEqual(paramIssues(decoded, spec.params), [], "\(spec.name) params", line: line)
            } catch {
                XCTFail("\(spec.name): the params do not decode as \(spec.paramsType): \(error)", line: line)
            }
            let r = engine.request(spec.name, params)
            guard let result = r.result else {
                XCTFail("\(spec.name): \(r.text)", line: line)
                return nil
            }
            let issues = spec.result.validate(result).issues
            XCTAssertEqual(issues, [], "\(spec.name): the reply fails the spec's schema", line: line)
            do {
                _ = try spec.decodeResult(result)
                // Decoding ignores members the type lacks: encoded again, the reply must come back whole.
                if let again = try spec.reencodeResult(result) {
                    defer { again.release() }
                    if json_equal(again, result) != 1 {
                        XCTFail("\(spec.name): the reply \(JSONText.dump(result).prefix(3000)) comes back as \(JSONText.dump(again).prefix(3000))", line: line)
                    }
                }
            } catch {
                XCTFail("\(spec.name): the reply does not decode as \(spec.resultType): \(error)", line: line)
            }
            return result
        }
        real(.discover)
        real(.engineInfo)
        real(.portfolioPut, #"{"portfolio":\#(retailerText)}"#)
        real(.portfolioGet, #"{"id":"retailer"}"#)
        real(.portfolioList)
        real(.entityGet, #"{"portfolio":"retailer","kind":"product","id":"checkout"}"#)
        real(.entityList, #"{"portfolio":"retailer","kind":"system"}"#)
        real(.entityUpsert, #"{"portfolio":"retailer","kind":"product","entity":{"id":"probe","name":"Probe","status":"rollout"},"ifRevision":1}"#)
        real(.entityRemove, #"{"portfolio":"retailer","kind":"product","id":"probe"}"#)
        real(.metricObserve, #"{"portfolio":"retailer","metric":"online-sales","observations":[{"at":"2026-07-01","value":1}]}"#)
        real(.deliveryRecord, #"{"portfolio":"retailer","deployments":[{"id":"d1","system":"web-checkout","time":"2026-06-01T10:00:00Z"}],"incidents":[{"id":"i1","system":"web-checkout","started":"2026-06-02T10:00:00Z","resolved":"2026-06-02T12:00:00Z"}],"atomic":true}"#)
        real(.deliveryMetrics, #"{"portfolio":"retailer","system":"web-checkout","until":"2026-07-01T00:00:00Z","days":30,"windows":2}"#)
        let run = real(.assessmentRun, #"{"portfolio":"retailer","asOf":"2026-06-30","prioritization":"rice","keep":true}"#)
        let key = run?["recommendations"]?[0]?["key"]?.stringValue ?? "none"
        real(.assessmentRun, #"{"portfolio":"retailer"}"#)
        real(.assessmentGet, #"{"portfolio":"retailer","run":1}"#)
        real(.assessmentHistory, #"{"portfolio":"retailer","compare":[1,2]}"#)
        let model = readFile(repoRoot + "/examples/models/dora-2024.json")
        real(.assessmentModelPut, #"{"model":\#(model)}"#)
        real(.assessmentModelList)
        real(.assessmentModelGet, #"{"id":"dora-2024"}"#)
        real(.assessmentModelDelete, #"{"id":"dora-2024"}"#)
        for m in [MethodName.analysisCoverage, .analysisSpeed, .analysisOkrs, .analysisAccountability, .analysisPitfalls] {
            real(m, #"{"portfolio":"retailer"}"#)
        }
        real(.analysisPrioritize, #"{"portfolio":"retailer","method":"wsjf"}"#)
        real(.experimentEvaluate, #"{"control":{"users":1000,"conversions":100},"variant":{"users":1000,"conversions":130},"direction":"higher"}"#)
        real(.reportRender, #"{"format":"markdown","portfolio":"retailer","width":80}"#)
        real(.pluginList)
        real(.pluginUnload, #"{"name":"team-size-check"}"#)
        real(.pluginLoad, #"{"manifest":"\#(repoRoot)/examples/plugins/team-size-check/plugin.json"}"#)
        real(.pluginCall, #"{"plugin":"csv-metrics","method":"plugin.ping","params":{"n":1}}"#)
        real(.pluginCheck, #"{"plugin":"unowned-systems","portfolio":"retailer"}"#)
        real(.pluginCollect, #"{"plugin":"csv-metrics","portfolio":"retailer","since":"2026-01-01"}"#)
        real(.recommendationHistory, #"{"portfolio":"retailer"}"#)
        real(.recommendationDismiss, #"{"portfolio":"retailer","key":"\#(key)","reason":"later"}"#)
        real(.recommendationReopen, #"{"portfolio":"retailer","key":"\#(key)"}"#)
        real(.recommendationOutcomes, #"{"portfolio":"retailer"}"#)
        real(.campaignPut, #"{"portfolio":"retailer","campaign":\#(AdviceTests.campaign)}"#)
        real(.campaignGet, #"{"portfolio":"retailer","id":"integrate"}"#)
        real(.campaignList, #"{"portfolio":"retailer"}"#)
        real(.campaignDelete, #"{"portfolio":"retailer","id":"integrate","ifRevision":1}"#)
        // The imports, each with a record it skips, so that their problems go through the result types too.
        real(.deliveryImport, #"{"portfolio":"retailer","kind":"deployments","format":"jsonl","file":"d.jsonl","text":"{\"id\":\"d2\",\"system\":\"web-checkout\",\"time\":\"2026-06-03T10:00:00Z\"}\n{\"id\":\"d3\"}\n"}"#)
        real(.deliveryImport, #"{"portfolio":"retailer","format":"fourkeys","system":"web-checkout","tables":[{"file":"deployments.csv","text":"deploy_id,time_created,changes\nd9,2026-06-04 10:00:00 UTC,\"[\"\"c1\"\"]\"\n"}]}"#)
        real(.importCSV, #"{"portfolio":"retailer","kind":"team","file":"teams.csv","text":"id,name\nprobe-team,Probe\n,Empty\n","atomic":false}"#)
        real(.importBackstage, #"{"portfolio":"catalog","organization":"Catalog","documents":[{"file":"c.yaml","line":1,"entity":{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"shop-web"},"spec":{"type":"website","lifecycle":"production","owner":"team-a"}}},{"file":"c.yaml","line":9,"error":"bad YAML"}],"rules":[{"type":"website","layer":"front-end"}],"prune":true}"#)
        real(.portfolioDelete, #"{"id":"retailer"}"#)
        XCTAssertEqual(Set(Contract.all.map(\.name)).subtracting(checked), [], "specs never called on a real engine")
    }

    /// The struct's stored properties, in order, are the params; optional exactly where not required.
    private func paramIssues(_ value: Any, _ params: [Param]) -> [String] {
        let props = Mirror(reflecting: value).children.compactMap { c in c.label.map { (name: $0, value: c.value) } }
        if props.map(\.name) != params.map(\.name) { return ["properties \(props.map(\.name)), params \(params.map(\.name))"] }
        return zip(props, params).compactMap { prop, param in
            (Swift.type(of: prop.value) is OptionalValue.Type) == param.required ? "\(param.name): optional is not !required" : nil
        }
    }

    func testTheParamCheckCatchesOrderAndOptionality() {
        struct Swapped: Decodable { var kind: String; var portfolio: String }
        struct Loose: Decodable { var portfolio: String? }
        XCTAssertEqual(paramIssues(Swapped(kind: "a", portfolio: "b"), Contract.analysisCoverage.params + [Param("kind", .string(), "k")]).count, 1)
        XCTAssertEqual(paramIssues(Loose(portfolio: "a"), Contract.analysisCoverage.params), ["portfolio: optional is not !required"])
        XCTAssertEqual(paramIssues(PortfolioParams(portfolio: "a"), Contract.analysisCoverage.params), [])
    }

    /// delivery.import's spec names the engine's delivery kinds and log formats as strings (the contract
    /// cannot see the engine's enums): they must stay the enums' cases, plus fourkeys.
    func testDeliveryImportsListsAreTheEnginesEnums() {
        XCTAssertEqual(Contract.deliveryImportKinds, DeliveryKind.allCases.map(\.rawValue))
        XCTAssertEqual(Contract.deliveryImportFormats, DeliveryLogReader.Format.allCases.map(\.rawValue) + ["fourkeys"])
    }

    // MARK: Params that read themselves

    /// The hand-written reads of the polled methods' params give what Codable gives, and a missing member
    /// is a params error at its pointer (never a default such as "").
    func testReadableParamsReadAsTheirCodableDecoding() throws {
        func same<T: Decodable & Equatable & ParamsReadable>(_ type: T.Type, _ text: String, line: UInt = #line) throws -> String {
            let o = parse(text)
            defer { o.release() }
            XCTAssertEqual(try T(reading: ParamsReader(o)), try JanssonDecoder().decode(T.self, from: o), line: line)
            return String(describing: T.self)
        }
        let tested: Set<String> = [
            try same(GetParams.self, #"{"id":"retailer"}"#),
            try same(EntityGetParams.self, #"{"portfolio":"retailer","kind":"product","id":"checkout"}"#),
            try same(EntityListParams.self, #"{"portfolio":"retailer","kind":"team"}"#),
        ]
        let readable = Set(Contract.all.filter { $0.paramsType is ParamsReadable.Type }.map { String(describing: $0.paramsType) })
        XCTAssertEqual(readable, tested, "a ParamsReadable type without a comparison here")
        let partial = parse(#"{"portfolio":"retailer","id":"checkout"}"#)
        defer { partial.release() }
        XCTAssertThrowsError(try EntityGetParams(reading: ParamsReader(partial))) { e in
            XCTAssertEqual((e as? RPCError)?.code, ErrorCode.invalidParams.rawValue)
            XCTAssertEqual((e as? RPCError)?.data?.pointer, "/kind")
        }
        // Through the engine by position, an error names the caller's position.
        let engine = try Engine(path: nil)
        _ = engine.request("portfolio.put", #"{"portfolio":\#(retailerText)}"#)
        XCTAssertEqual(engine.request("entity.get", #"["retailer","product","nope"]"#).pointer, "/2")
        XCTAssertEqual(engine.request("entity.get", #"["retailer","product","checkout"]"#).result?["entity"]?["id"]?.stringValue, "checkout")
    }

    // MARK: Decoding failures of typed params

    /// What the schema lets through but the struct refuses is -32602 at the caller's pointer: "/name" by
    /// name, "/0" by position, never a trap or an internal error.
    func testADecodingFailureIsInvalidParamsAtTheCallersPointer() throws {
        struct Counted: Decodable { var n: Int; var tag: String? }
        let spec = MethodSpec<Counted, NoParams>("test.count", summary: "t",
                                                 params: [Param("n", .anyValue, "any"), Param("tag", .anyValue, required: false, "any")],
                                                 result: .object(required: [], [:]), mutates: false)
        let d = Dispatcher(methods: [Method(spec) { p, _ in XCTAssertEqual(p.n, 3); return NoParams() }],
                           info: OpenRPCInfo(title: "t", version: "0", description: "t"))
        func call(_ params: String) -> JSONRef {
            var text = #"{"jsonrpc":"2.0","method":"test.count","params":\#(params),"id":1}"#
            return text.withUTF8 { d.handleValue(text: UnsafeRawBufferPointer($0))! }
        }
        for (params, pointer) in [(#"{"n":"three"}"#, "/n"), (#"["three"]"#, "/0"), (#"[3, 4]"#, "/1"), (#"{"n":3,"tag":[1]}"#, "/tag")] {
            let r = call(params)
            XCTAssertEqual(r["error"]?["code"]?.intValue, -32602, params)
            XCTAssertEqual(r["error"]?["data"]?["pointer"]?.stringValue, pointer, params)
            r.release()
        }
        let good = call(#"[3]"#)
        XCTAssertNotNil(good["result"], JSONText.dump(good))
        good.release()
    }

    // MARK: No handler reads a param by name

    func testNoHandlerReadsAParamByName() throws {
        let folder = repoRoot + "/Sources/TwoSpeedEngine"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".swift") }.sorted()
        XCTAssertGreaterThan(files.count, 10)
        var paths = files.map { folder + "/" + $0 }
        paths.append(repoRoot + "/Sources/TwoSpeedCLI/InProcessAssessment.swift")
        for path in paths {
            let name = (path as NSString).lastPathComponent
            XCTAssertEqual(SpecTests.byNameReads(readFile(path)), [], "\(name) reads params by name; give the method a spec and a typed handler")
        }
    }

    /// Params has no by-name accessors any more (its object is TwoSpeedRPC's own, to decode the spec's
    /// struct): no file brings back an SPI opt-in for them.
    func testNoFileOptsIntoByNameAccessors() throws {
        var opted: [String] = []
        let root = repoRoot + "/Sources"
        let walker = try XCTUnwrap(FileManager.default.enumerator(atPath: root))
        while let rel = walker.nextObject() as? String {
            guard rel.hasSuffix(".swift") else { continue }
            if readFile(root + "/" + rel).contains("@_spi(ByName)") { opted.append(rel) }
        }
        XCTAssertEqual(opted, [])
    }

    func testTheScanFindsByNameReads() {
        XCTAssertEqual(SpecTests.byNameReads(#"let id = p.string("id") ?? """#), [#"p.string("id""#])
        XCTAssertEqual(SpecTests.byNameReads(#"func x(_ p: Params) throws -> JSONRef {"#), ["_ p: Params)"])
        XCTAssertEqual(SpecTests.byNameReads(#"let d = p["deployments"]"#), [#"p["deployments""#])
        XCTAssertEqual(SpecTests.byNameReads(#"let m: [Int] = try params.decodeIfPresent("compare")"#), [#"params.decodeIfPresent("compare""#])
        XCTAssertEqual(SpecTests.byNameReads(#"let c = p.object["confidence"]?.doubleValue"#), [#"p.object["confidence""#])
        XCTAssertEqual(SpecTests.byNameReads(#"let id = p.id; let at = call.pointer("id")"#), [])
    }

    /// By-name reads of a Params value: accessor calls with a string literal, and handlers taking Params.
    static func byNameReads(_ text: String) -> [String] {
        let patterns = [#"\b\w+\.(string|int|bool|decode|decodeIfPresent)\("[^"]*""#, #"\b\w+(\.object)?\["[^"]*""#,
                        #"_ \w+: Params\)"#]
        var out: [String] = []
        for pattern in patterns {
            let re = try! NSRegularExpression(pattern: pattern)
            for m in re.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let s = String(text[Range(m.range, in: text)!])
                // JSON members of jansson values (json["id"]) are not params.
                if pattern.contains("object") && !(s.hasPrefix("p[") || s.hasPrefix("p.object[") || s.hasPrefix("params[")) { continue }
                if pattern.contains("decode") && !(s.hasPrefix("p.") || s.hasPrefix("params.")) { continue }
                out.append(s)
            }
        }
        return out
    }
}

private protocol OptionalValue {}
extension Optional: OptionalValue {}
