import CJansson
import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedSchema

/// Each validation rule, with the pointer its failure names.
final class ValidationTests: XCTestCase {
    var engine: Engine!
    override func setUpWithError() throws { engine = try Engine(path: nil) }

    /// A small valid portfolio; each test breaks one thing in it.
    let base = """
        {"id":"p","organization":{"name":"Org","industry":"retail","departments":[{"id":"it","name":"IT","kind":"it"}]},
         "journeys":[{"id":"shop","name":"Shop","stages":[{"id":"cart","name":"Cart"},{"id":"pay","name":"Pay"}]}],
         "products":[{"id":"checkout","name":"Checkout","status":"live","stages":["shop/pay"],"owner":"ann","team":"t1",
                      "department":"it","systems":["web"],"okrs":["o1"]}],
         "managers":[{"id":"ann","name":"Ann","measuredOn":["conv"]},{"id":"bob","name":"Bob","mentor":"ann"}],
         "teams":[{"id":"t1","name":"Team","size":5,"manager":"ann"}],
         "systems":[{"id":"web","name":"Web","layer":"front-end","interfaces":[{"to":"erp","kind":"api"}]},
                    {"id":"erp","name":"ERP","layer":"back-end"}],
         "metrics":[{"id":"conv","name":"Conversion","category":"customer-behavior","products":["checkout"],"managers":["ann"]}],
         "okrs":[{"id":"o1","objective":"Grow","departments":["it"],"keyResults":[{"description":"KR","metric":"conv"}]},
                 {"id":"o2","objective":"Child","parent":"o1"}],
         "experiments":[{"id":"e1","product":"checkout","hypothesis":"H","metric":"conv","rollout":[0.1,0.5,1],"stage":0,
                         "control":{"users":100,"conversions":10},"variant":{"users":10,"conversions":2}}]}
        """

    /// Puts `base` with `edit` applied (jansson value surgery) and returns the response.
    func put(_ edit: (JSONRef) -> Void) -> Response {
        let doc = parse(base)
        defer { doc.release() }
        edit(doc)
        return engine.request("portfolio.put", "{\"portfolio\":\(JSONText.dump(doc))}")
    }

    func expect(_ pointer: String, contains reason: String, file: StaticString = #filePath, line: UInt = #line,
                _ edit: (JSONRef) -> Void) {
        let r = put(edit)
        XCTAssertEqual(r.code, -32602, r.text, file: file, line: line)
        XCTAssertTrue(r.pointers.contains(pointer), "\(pointer) not in \(r.pointers)", file: file, line: line)
        let reasons = r.error?["data"]?["errors"]?.elements.filter { $0["pointer"]?.stringValue == pointer }
            .compactMap { $0["reason"]?.stringValue } ?? []
        XCTAssertTrue(reasons.contains { $0.contains(reason) }, "\(reasons) lacks \(reason)", file: file, line: line)
        XCTAssertEqual(engine.request("engine.info").result?["portfolios"]?.intValue, 0, "nothing stored", file: file, line: line)
    }

    func testBaseIsValid() {
        XCTAssertNotNil(put { _ in }.result)
    }

    func testRequiredFields() {
        expect("/portfolio/organization", contains: "required") { json_object_del($0, "organization") }
        expect("/portfolio/products/0/status", contains: "required") { json_object_del($0["products"]![0]!, "status") }
        expect("/portfolio/teams/0/size", contains: "required") { json_object_del($0["teams"]![0]!, "size") }
    }

    func testWrongTypes() {
        expect("/portfolio/products/0/name", contains: "expected string, found integer") { $0["products"]![0]!.set("name", JSONMake.int(5)) }
        expect("/portfolio/teams/0/size", contains: "expected integer, found number") { $0["teams"]![0]!.set("size", JSONMake.double(2.5)) }
        expect("/portfolio/products/0/stages", contains: "expected array, found string") { $0["products"]![0]!.set("stages", JSONMake.string("shop/pay")) }
        expect("/portfolio/teams/0/codevelopment", contains: "expected boolean") { $0["teams"]![0]!.set("codevelopment", JSONMake.string("yes")) }
        expect("/portfolio/products/0/owner", contains: "found null") { $0["products"]![0]!.set("owner", JSONMake.null()) }
    }

    func testWrongTypeInEveryFieldOfAProduct() throws {
        // Every property of the product schema gets a value of a wrong type; each must be reported.
        let schema = ModelSchemas.product
        let r = put { doc in
            let p = doc["products"]![0]!
            for prop in schema.properties {
                p.set(prop.name, prop.schema.kind == .boolean ? JSONMake.int(1) : JSONMake.bool(true))
            }
        }
        XCTAssertEqual(r.code, -32602)
        for prop in schema.properties {
            XCTAssertTrue(r.pointers.contains("/portfolio/products/0/\(prop.name)"), prop.name)
        }
    }

    func testEnumsAndRanges() {
        expect("/portfolio/products/0/status", contains: "must be one of") { $0["products"]![0]!.set("status", JSONMake.string("shipped")) }
        expect("/portfolio/teams/0/size", contains: "at least 1") { $0["teams"]![0]!.set("size", JSONMake.int(0)) }
        expect("/portfolio/products/0/resources", contains: "at least 0") { $0["products"]![0]!.set("resources", JSONMake.int(-3)) }
        expect("/portfolio/experiments/0/rollout/0", contains: "greater than 0") { _ = json_array_set_new($0["experiments"]![0]!["rollout"]!, 0, JSONMake.int(0)) }
        expect("/portfolio/systems/0/delivery/changeFailureRate", contains: "at most 1") {
            $0["systems"]![0]!.set("delivery", JSONMake.object(["changeFailureRate": JSONMake.double(1.5)]))
        }
    }

    func testUnknownFieldsAreRejectedWithAPointer() {
        expect("/portfolio/products/0/colour", contains: "unknown field") { $0["products"]![0]!.set("colour", JSONMake.string("red")) }
        expect("/portfolio/extra", contains: "unknown field") { $0.set("extra", JSONMake.int(1)) }
    }

    func testFormats() {
        expect("/portfolio/id", contains: "not an identifier") { $0.set("id", JSONMake.string("has space")) }
        expect("/portfolio/id", contains: "not an identifier") { $0.set("id", JSONMake.string("nul\u{0}byte")) }
        expect("/portfolio/products/0/stages/0", contains: "not a stage reference") { $0["products"]![0]!.set("stages", JSONMake.strings(["pay"])) }
        expect("/portfolio/products/0/launched", contains: "not a date") { $0["products"]![0]!.set("launched", JSONMake.string("2026-02-30")) }
        expect("/portfolio/metrics/0/observations/0/at", contains: "RFC 3339") {
            $0["metrics"]![0]!.set("observations", parse(#"[{"at":"yesterday","value":1}]"#))
        }
        expect("/portfolio/organization/name", contains: "must not be empty") { $0["organization"]!.set("name", JSONMake.string("")) }
        expect("/portfolio/products/0/problem", contains: "longer than") {
            $0["products"]![0]!.set("problem", JSONMake.string(String(repeating: "x", count: 70_000)))
        }
        XCTAssertNotNil(put { $0["metrics"]![0]!.set("observations", parse(#"[{"at":"2026-11-24T10:00:00+01:00","value":1},{"at":"2026-11-24","value":2}]"#)) }.result)
    }

    func testUniqueIds() {
        expect("/portfolio/managers/1/id", contains: "duplicate id \"ann\"") { $0["managers"]![1]!.set("id", JSONMake.string("ann")) }
        expect("/portfolio/journeys/0/stages/1/id", contains: "duplicate stage id") { $0["journeys"]![0]!["stages"]![1]!.set("id", JSONMake.string("cart")) }
        expect("/portfolio/products/0/systems/1", contains: "duplicate") { $0["products"]![0]!.set("systems", JSONMake.strings(["web", "web"])) }
    }

    func testReferencesMustResolve() {
        expect("/portfolio/products/0/owner", contains: "no manager") { $0["products"]![0]!.set("owner", JSONMake.string("zed")) }
        expect("/portfolio/products/0/team", contains: "no team") { $0["products"]![0]!.set("team", JSONMake.string("zed")) }
        expect("/portfolio/products/0/stages/0", contains: "has no stage") { $0["products"]![0]!.set("stages", JSONMake.strings(["shop/nope"])) }
        expect("/portfolio/products/0/stages/0", contains: "no journey") { $0["products"]![0]!.set("stages", JSONMake.strings(["nope/pay"])) }
        expect("/portfolio/products/0/systems/0", contains: "no system") { $0["products"]![0]!.set("systems", JSONMake.strings(["zed"])) }
        expect("/portfolio/products/0/okrs/0", contains: "no OKR") { $0["products"]![0]!.set("okrs", JSONMake.strings(["zed"])) }
        expect("/portfolio/products/0/department", contains: "no department") { $0["products"]![0]!.set("department", JSONMake.string("zed")) }
        expect("/portfolio/systems/0/interfaces/0/to", contains: "no system") { $0["systems"]![0]!["interfaces"]![0]!.set("to", JSONMake.string("zed")) }
        expect("/portfolio/systems/0/interfaces/0/to", contains: "itself") { $0["systems"]![0]!["interfaces"]![0]!.set("to", JSONMake.string("web")) }
        expect("/portfolio/managers/1/mentor", contains: "no manager") { $0["managers"]![1]!.set("mentor", JSONMake.string("zed")) }
        expect("/portfolio/managers/0/mentor", contains: "themselves") { $0["managers"]![0]!.set("mentor", JSONMake.string("ann")) }
        expect("/portfolio/managers/0/measuredOn/0", contains: "no metric") { $0["managers"]![0]!.set("measuredOn", JSONMake.strings(["zed"])) }
        expect("/portfolio/metrics/0/products/0", contains: "no product") { $0["metrics"]![0]!.set("products", JSONMake.strings(["zed"])) }
        expect("/portfolio/okrs/0/keyResults/0/metric", contains: "no metric") { $0["okrs"]![0]!["keyResults"]![0]!.set("metric", JSONMake.string("zed")) }
        expect("/portfolio/okrs/1/parent", contains: "no OKR") { $0["okrs"]![1]!.set("parent", JSONMake.string("zed")) }
        expect("/portfolio/okrs/0/parent", contains: "cycle") { $0["okrs"]![0]!.set("parent", JSONMake.string("o2")) }
        expect("/portfolio/experiments/0/product", contains: "no product") { $0["experiments"]![0]!.set("product", JSONMake.string("zed")) }
    }

    func testExperimentInvariants() {
        expect("/portfolio/experiments/0/stage", contains: "past the last") { $0["experiments"]![0]!.set("stage", JSONMake.int(3)) }
        expect("/portfolio/experiments/0/rollout/1", contains: "increase") { $0["experiments"]![0]!.set("rollout", parse("[0.5,0.1]")) }
        expect("/portfolio/experiments/0/variant/conversions", contains: "exceed") {
            $0["experiments"]![0]!.set("variant", parse(#"{"users":10,"conversions":11}"#))
        }
    }

    func testAllFailuresOfADocumentAreReported() {
        let r = put { doc in
            doc["products"]![0]!.set("status", JSONMake.string("bogus"))
            doc["teams"]![0]!.set("size", JSONMake.int(-1))
            doc["managers"]![0]!.set("hobby", JSONMake.string("golf"))
        }
        XCTAssertEqual(Set(r.pointers), ["/portfolio/products/0/status", "/portfolio/teams/0/size", "/portfolio/managers/0/hobby"])
        XCTAssertEqual(r.pointer, r.pointers.first)
    }

    func testIssueListIsCapped() {
        let r = put { doc in
            let many = JSONMake.array()
            for i in 0..<1000 { many.append(JSONMake.object(["id": JSONMake.string("m\(i)")])) }
            doc.set("managers", many)
        }
        XCTAssertEqual(r.code, -32602)
        XCTAssertEqual(r.pointers.count, IssueList.defaultCap)
        XCTAssertEqual(r.error?["data"]?["truncated"]?.boolValue, true)
    }

    /// The schemas and the Swift types describe the same fields: a fully populated value of each type
    /// encodes to exactly the schema's properties and validates against it.
    func testSchemasMatchTheModel() throws {
        let full = parse(retailerText)
        defer { full.release() }
        let portfolio = try JanssonDecoder().decode(Portfolio.self, from: full)
        let encoded = try JanssonEncoder().encode(portfolio)
        defer { encoded.release() }
        let issues = ModelSchemas.portfolio.validate(encoded)
        XCTAssertTrue(issues.isEmpty, "\(issues.issues)")
        // Every property any schema names appears somewhere in the retailer, so none is dead.
        func collect(_ v: JSONRef, _ into: inout Set<String>) {
            v.forEachMember { k, m in into.insert(k); collect(m, &into) }
            for e in v.elements { collect(e, &into) }
        }
        var seen = Set<String>()
        collect(encoded, &seen)
        for kind in EntityKind.allCases {
            for p in ModelSchemas.entity(kind).properties {
                XCTAssertTrue(seen.contains(p.name), "\(kind).\(p.name) never appears in the retailer example")
            }
        }
    }
}
