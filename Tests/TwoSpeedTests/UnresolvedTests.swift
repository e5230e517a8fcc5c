import CJansson
import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedSchema
@testable import TwoSpeedYAML

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

/// Catalogs as companies have them: components in repositories, groups and users in an org provider.
final class UnresolvedImportTests: XCTestCase {
    func documents(yaml: String, file: String) -> String {
        let a = JSONMake.array()
        defer { a.release() }
        YAMLDocuments.append(text: yaml, file: file, into: a)
        return JSONText.dump(a)
    }

    func component(_ name: String, owner: String, extra: String = "") -> String {
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: \(name)
        spec:
          type: service
          lifecycle: production
          owner: \(owner)\(extra)
        """
    }

    let org = """
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata: {name: retail}
        spec: {type: business-unit, children: [payments]}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata: {name: payments}
        spec: {type: team, parent: retail, children: []}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata: {name: ann}
        spec: {memberOf: [payments]}
        """

    func unresolved(_ e: Engine, _ pid: String) -> [String] {
        e.request("portfolio.get", #"{"id":"\#(pid)"}"#).result?["portfolio"]?["unresolved"]?.elements.map {
            "\($0["kind"]!.stringValue!) \($0["id"]!.stringValue!) \($0["field"]!.stringValue!) \($0["ref"]!.stringValue!) \($0["source"]?.stringValue ?? "-")"
        } ?? ["no portfolio"]
    }

    func system(_ e: Engine, _ pid: String, _ id: String) -> JSONRef? {
        e.request("entity.get", #"{"portfolio":"\#(pid)","kind":"system","id":"\#(id)"}"#).result?["entity"]
    }

    /// Every valid component arrives although no owner is in the import; each owner is a note with
    /// file and line and an unresolved reference; a broken component beside them is still skipped.
    func testComponentsAloneAllArriveAndAGroupsImportResolvesThem() throws {
        let dir = temporaryDirectory()
        let e = try Engine(path: dir + "/store.db")
        var yaml = (0..<24).map { component(String(format: "svc-%03d", $0), owner: $0 % 2 == 0 ? "payments" : "user:ann",
                                            extra: $0 == 3 ? "\n  dependsOn: [component:svc-000, resource:ledger-db]" : "") }
        yaml.append(component("broken", owner: "\"\""))
        let docs = documents(yaml: yaml.joined(separator: "\n---\n"), file: "repos/catalog-info.yaml")
        let r = try XCTUnwrap(e.request("import.backstage", #"{"portfolio":"co","documents":\#(docs)}"#).result)
        XCTAssertEqual(r["created"]?["systems"]?.intValue, 24, JSONText.dump(r))
        XCTAssertEqual(r["skipped"]?.intValue, 1, "the component with an empty owner")
        XCTAssertEqual(r["unresolved"]?.intValue, 25)
        let notes = r["problems"]!.elements.filter { $0["reason"]?.stringValue?.hasPrefix("unresolved reference") == true }
        XCTAssertEqual(notes.count, 25)
        XCTAssertTrue(notes.allSatisfy { $0["skipped"]?.boolValue == false && $0["file"]?.stringValue == "repos/catalog-info.yaml" && $0["line"] != nil })
        let u = unresolved(e, "co")
        XCTAssertEqual(u.count, 25)
        XCTAssertTrue(u.contains("system svc-000 owner group:default/payments repos/catalog-info.yaml:8"), "\(u.prefix(3))")
        XCTAssertTrue(u.contains("system svc-001 owner user:default/ann repos/catalog-info.yaml:17"), "\(u.prefix(3))")
        XCTAssertTrue(u.contains("system svc-003 interfaces resource:default/ledger-db repos/catalog-info.yaml:36"), "\(u)")
        XCTAssertNil(system(e, "co", "svc-000")?["owner"])
        XCTAssertEqual(system(e, "co", "svc-003")?["interfaces"]?.count, 1, "the interface to svc-000 is kept")

        // The store keeps them: a new engine on the same file reads the same list.
        let reopened = try Engine(path: dir + "/store.db")
        XCTAssertEqual(unresolved(reopened, "co"), u)

        // The org provider's export arrives: every owner resolves, departments and managers are set,
        // and the list keeps only the database nobody imported.
        let orgDocs = documents(yaml: org, file: "org.yaml")
        let r2 = try XCTUnwrap(reopened.request("import.backstage", #"{"portfolio":"co","documents":\#(orgDocs)}"#).result)
        XCTAssertEqual(r2["updated"]?["systems"]?.intValue, 24, JSONText.dump(r2))
        XCTAssertEqual(r2["unresolved"]?.intValue, 1)
        XCTAssertEqual(unresolved(reopened, "co"), ["system svc-003 interfaces resource:default/ledger-db repos/catalog-info.yaml:36"])
        XCTAssertEqual(system(reopened, "co", "svc-000")?["department"]?.stringValue, "retail")
        XCTAssertEqual(system(reopened, "co", "svc-001")?["owner"]?.stringValue, "ann")
        XCTAssertEqual(system(reopened, "co", "svc-001")?["department"]?.stringValue, "retail")
        XCTAssertEqual(unresolved(try Engine(path: dir + "/store.db"), "co").count, 1, "stored")

        // The database arrives: svc-003 gains its interface; nothing is left unresolved.
        let db = documents(yaml: """
            apiVersion: backstage.io/v1alpha1
            kind: Resource
            metadata: {name: ledger-db}
            spec: {type: database, owner: payments}
            """, file: "db.yaml")
        let r3 = try XCTUnwrap(reopened.request("import.backstage", #"{"portfolio":"co","documents":\#(db)}"#).result)
        XCTAssertEqual(r3["unresolved"]?.intValue, 0, JSONText.dump(r3))
        XCTAssertEqual(Set(system(reopened, "co", "svc-003")?["interfaces"]?.elements.map { $0["to"]!.stringValue! } ?? []),
                       ["svc-000", "ledger-db"])
        XCTAssertEqual(unresolved(try Engine(path: dir + "/store.db"), "co"), [])
    }

    /// Re-importing a component replaces its unresolved references; removing it drops them in memory
    /// and in the store; setting the field by hand resolves it.
    func testReimportRemoveAndUpsertKeepTheListTrue() throws {
        let dir = temporaryDirectory()
        let e = try Engine(path: dir + "/store.db")
        let one = documents(yaml: component("a", owner: "payments") + "\n---\n" + component("b", owner: "ops"), file: "c.yaml")
        XCTAssertNotNil(e.request("import.backstage", #"{"portfolio":"p","documents":\#(one)}"#).result)
        XCTAssertEqual(unresolved(e, "p").count, 2)
        let again = documents(yaml: component("a", owner: "user:ann") + "\n---\n" + component("b", owner: "ops"), file: "c.yaml")
        let r = try XCTUnwrap(e.request("import.backstage", #"{"portfolio":"p","documents":\#(again)}"#).result)
        XCTAssertEqual(r["revision"]?.intValue, 2, "only the list changed, and that is a change")
        XCTAssertEqual(unresolved(e, "p"), ["system a owner user:default/ann c.yaml:8", "system b owner group:default/ops c.yaml:17"])
        XCTAssertNotNil(e.request("entity.remove", #"{"portfolio":"p","kind":"system","id":"b"}"#).result)
        XCTAssertEqual(unresolved(e, "p"), ["system a owner user:default/ann c.yaml:8"])
        XCTAssertEqual(unresolved(try Engine(path: dir + "/store.db"), "p"), ["system a owner user:default/ann c.yaml:8"])
        XCTAssertNotNil(e.request("entity.upsert", #"{"portfolio":"p","kind":"manager","entity":{"id":"ann","name":"Ann"}}"#).result)
        XCTAssertNotNil(e.request("entity.upsert", #"{"portfolio":"p","kind":"system","entity":{"id":"a","name":"a","layer":"back-end","owner":"ann"}}"#).result)
        XCTAssertEqual(unresolved(e, "p"), [])
        XCTAssertEqual(unresolved(try Engine(path: dir + "/store.db"), "p"), [])
    }
}
