import CJansson
import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedSchema

/// The portfolio's unresolved references: links its sources make to entities it does not hold.
final class UnresolvedModelTests: XCTestCase {
    let doc = """
        {"id":"p","organization":{"name":"Org"},
         "systems":[{"id":"web","name":"Web","layer":"front-end"},{"id":"erp","name":"ERP","layer":"back-end","owner":"ann"}],
         "managers":[{"id":"ann","name":"Ann"}],
         "unresolved":[{"kind":"system","id":"web","field":"owner","ref":"group:default/payments",
                        "source":"repos/web/catalog-info.yaml:9"}]}
        """

    func decode(_ text: String) throws -> Portfolio {
        let v = parse(text)
        defer { v.release() }
        return try JanssonDecoder().decode(Portfolio.self, from: v)
    }

    func issues(_ p: Portfolio) -> [ValidationIssue] {
        var list = IssueList(cap: Int.max)
        p.checkReferences(into: &list)
        return list.issues
    }

    func testDecodesEncodesAndValidates() throws {
        let p = try decode(doc)
        XCTAssertEqual(p.unresolved, [UnresolvedReference(kind: "system", id: "web", field: "owner", ref: "group:default/payments",
                                                          source: "repos/web/catalog-info.yaml:9")])
        XCTAssertNil(p.systems[0].owner, "the referring field stays unset")
        XCTAssertTrue(issues(p).isEmpty, "\(issues(p))")
        let json = try JanssonEncoder().encode(p)
        defer { json.release() }
        XCTAssertEqual(json["unresolved"]?[0]?["ref"]?.stringValue, "group:default/payments")
        XCTAssertTrue(ModelSchemas.portfolio.validate(json).isEmpty)
        XCTAssertEqual(try JanssonDecoder().decode(Portfolio.self, from: json), p)
    }

    func testOptionalInInputDefaultEmpty() throws {
        let p = try decode(#"{"id":"p","organization":{"name":"Org"}}"#)
        XCTAssertEqual(p.unresolved, [])
        XCTAssertEqual(Portfolio(id: "q", organization: Organization(name: "Q")).unresolved, [])
    }

    func testSchemaRefusesMalformedEntries() {
        let v = parse(#"{"id":"p","organization":{"name":"Org"},"unresolved":[{"kind":"widget","id":"web","field":"owner"},{"kind":"system","id":"web","field":"owner","ref":"x","colour":1}]}"#)
        defer { v.release() }
        let pointers = Set(ModelSchemas.portfolio.validate(v).issues.map(\.pointer))
        XCTAssertTrue(pointers.contains("/unresolved/0/kind"), "\(pointers)")
        XCTAssertTrue(pointers.contains("/unresolved/0/ref"), "\(pointers)")
        XCTAssertTrue(pointers.contains("/unresolved/1/colour"), "\(pointers)")
    }

    func testReferenceChecks() throws {
        var p = try decode(doc)
        p.unresolved.append(UnresolvedReference(kind: "system", id: "nope", field: "owner", ref: "group:x"))
        p.unresolved.append(UnresolvedReference(kind: "system", id: "web", field: "owner", ref: "group:default/payments",
                                                source: "elsewhere.yaml:1"))
        p.unresolved.append(UnresolvedReference(kind: "system", id: "erp", field: "owner", ref: "user:default/ann"))
        p.unresolved.append(UnresolvedReference(kind: "gadget", id: "erp", field: "owner", ref: "user:default/ann"))
        let found = issues(p)
        func reason(_ pointer: String) -> String? { found.first { $0.pointer == pointer }?.reason }
        XCTAssertEqual(reason("/unresolved/1/id"), "no system with id \"nope\"")
        XCTAssertEqual(reason("/unresolved/2"), "the same unresolved reference twice (first at /unresolved/0)")
        XCTAssertTrue(reason("/unresolved/3/field")?.contains("resolved or unresolved, not both") ?? false, "\(found)")
        XCTAssertEqual(reason("/unresolved/4/kind"), "no entity kind \"gadget\"")
        XCTAssertEqual(found.count, 4, "\(found)")
    }

    func testRemovingAnEntityForgetsItsUnresolvedReferences() throws {
        var p = try decode(doc)
        XCTAssertEqual(p.unresolved(of: .system, id: "web").count, 1)
        XCTAssertTrue(p.remove(.system, id: "web"))
        XCTAssertEqual(p.unresolved, [])
        XCTAssertTrue(issues(p).isEmpty)
    }

    func testPutRefusesAnUnresolvedReferenceToNothing() throws {
        let engine = try Engine(path: nil)
        let bad = doc.replacingOccurrences(of: #""id":"web","field""#, with: #""id":"gone","field""#)
        let r = engine.request("portfolio.put", "{\"portfolio\":\(bad)}")
        XCTAssertEqual(r.code, -32602, r.text)
        XCTAssertTrue(r.pointers.contains("/portfolio/unresolved/0/id"), "\(r.pointers)")
    }
}
