import CJansson
import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedSchema
@testable import TwoSpeedYAML

/// import.backstage and import.csv against catalogs and spreadsheets written for them.
final class ImportTests: XCTestCase {
    /// The documents of catalog files as the CLI sends them, as JSON text.
    func documents(_ files: [String]) -> String {
        let a = JSONMake.array()
        defer { a.release() }
        for f in files { YAMLDocuments.append(text: readFile(repoRoot + "/" + f), file: f, into: a) }
        return JSONText.dump(a)
    }

    func documents(yaml: String, file: String = "inline.yaml") -> String {
        let a = JSONMake.array()
        defer { a.release() }
        YAMLDocuments.append(text: yaml, file: file, into: a)
        return JSONText.dump(a)
    }

    let example = ["examples/backstage/org.yaml", "examples/backstage/systems.yaml"]

    func entity(_ e: Engine, _ pid: String, _ kind: String, _ id: String) -> JSONRef? {
        e.request("entity.get", #"{"portfolio":"\#(pid)","kind":"\#(kind)","id":"\#(id)"}"#).result?["entity"]
    }

    func interfaces(_ e: Engine, _ id: String) -> Set<String> {
        Set(entity(e, "shop", "system", id)?["interfaces"]?.elements.map {
            "\($0["to"]!.stringValue!) \($0["kind"]!.stringValue!)"
        } ?? [])
    }

    /// The one reader (libyaml's events) gives the documents Yams' composed nodes give, byte for byte
    /// (YamsComposedOracle): every kind of scalar Yams types, keys that need escaping in a pointer,
    /// nesting past the depth lines are kept to, anchors and aliases at every depth lines are kept to
    /// (in lists and mappings, nested, as keys), and errors with Yams' words and marks.
    func testTheReaderMatchesYamsComposing() {
        var texts: [(String, String)] = []
        for f in ["Tests/Fixtures/backstage-broken/catalog.yaml", "Tests/Fixtures/backstage-broken/bad.yaml"] + example {
            texts.append((f, readFile(repoRoot + "/" + f)))
        }
        let scalars = ["yes", "Yes", "NO", "on", "Off", "true", "False", "null", "NULL", "~", "", "y", "n", "nulls", "yesno",
                       "0", "-0", "+12", "012", "0o17", "0x1F", "0b101", "1_000", "1:30", "190:20:30", "1.5", "1e3", "1.5e+3",
                       ".inf", "-.Inf", ".nan", ".5", "3.", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "<<", "=",
                       "Component", "group:default/team-a", "a b c", "tab\there", "'quoted yes'", "\"double 12\"",
                       "!!str 12", "!!int \"12\"", "!!float 1", "!!bool yes", "! 12", "!custom x", "Ünïcödé", "--x",
                       "99999999999999999999", "0x", "1__2", "Yes please", "ON_CALL", "Null0", "[]", "{}"]
        var y = ""
        for (i, v) in scalars.enumerated() { y += "k\(i): \(v)\n" }
        y += "list: [\(scalars.filter { !$0.contains(",") && !$0.hasPrefix("[") && !$0.hasPrefix("{") && !$0.hasPrefix("!") && !$0.isEmpty }.joined(separator: ", "))]\n"
        y += "block: |\n  line one\n  yes\nfolded: >\n  12\n  13\n"
        y += "\"a/b~c\": {\"x/y\": [1, {deep: {deeper: [yes, {deepest: 1}]}}]}\n"
        y += "12: twelve\nnull: key\n\"\": empty key\n? complex\n: value\n"
        texts.append(("scalars.yaml", y))
        texts.append(("multi.yaml", "---\na: 1\n---\n---\n- x\n- - y\n  - z\n...\n---\nplain\n"))
        texts.append(("nested.yaml", "apiVersion: v1\nkind: Component\nmetadata:\n  name: n\n  annotations:\n    a/b: c\n  tags: [a, b]\n"
                        + "spec:\n  owner: o\n  dependsOn:\n    - x\n    - component:y\n  profile:\n    deep:\n      deeper: [1, 2]\n"))
        texts.append(("anchors.yaml", "a: &x {b: 1}\nc: *x\n"))
        texts.append(("anchors-deep.yaml", "apiVersion: v1\nkind: Component\nmetadata:\n  tags: &t\n    - a\n    - {b: [1, 2]}\n"
                        + "  annotations: &n {x: 1, y: &s yes}\nspec:\n  owner: *s\n  dependsOn:\n    - *t\n    - &i item\n    - *n\n"
                        + "  deep:\n    deeper: *t\n    list: [*n, *i]\nroot: *n\n"))
        texts.append(("anchors-nested.yaml", "a: &outer\n  b: &inner [1, 2]\n  c: *inner\nd: *outer\ne: [*outer, *inner]\n"))
        texts.append(("anchor-keys.yaml", "&k key: 1\n*k : 2\n? &m {x: 1}\n: 3\nv: *k\nw: *m\n"))
        texts.append(("anchor-root.yaml", "--- &r\na: 1\n---\nb: 2\n"))
        texts.append(("anchor-redefined.yaml", "a: &x 1\nb: *x\nc: &x 2\nd: *x\n"))
        texts.append(("alias-own.yaml", "a: &x [1, *x]\n"))
        texts.append(("control.yaml", "a: 1\n---\nb: \u{1}\n"))
        texts.append(("alias-late.yaml", "a: 1\n---\nb: *nope\n"))
        texts.append(("undefined.yaml", "a: *nothing\n"))
        texts.append(("bad.yaml", "a: 1\n---\nb: [1, 2\n"))
        texts.append(("tabs.yaml", "a:\n\tb: 1\n"))
        texts.append(("mapkey.yaml", "? [a, b]\n: 1\n"))
        texts.append(("empty.yaml", ""))
        texts.append(("comment.yaml", "# nothing\n"))
        texts.append(("bom.yaml", "\u{feff}a: 1\n"))
        for (file, text) in texts {
            let fast = JSONMake.array(), composed = JSONMake.array()
            defer { fast.release(); composed.release() }
            let n = YAMLDocuments.append(text: text, file: file, into: fast)
            let m = YamsComposedOracle.append(text: text, file: file, into: composed)
            XCTAssertEqual(n, m, file)
            XCTAssertEqual(JSONText.dump(fast), JSONText.dump(composed), file)
        }
        // The near miss of the anchors: an alias placed below the depth lines are kept to (/b/c/d/e) gives
        // none; placed where they are (/f), it gives the anchored node's lines, as its composed node did.
        let docs = JSONMake.array()
        defer { docs.release() }
        YAMLDocuments.append(text: "a: &t [x, y]\nb: {c: {d: {e: *t}}}\nf: *t\n", file: "f", into: docs)
        XCTAssertEqual(JSONText.dump(docs[0]!["lines"]!), #"{"":1,"/a":1,"/a/0":1,"/a/1":1,"/b":2,"/b/c":2,"/f":1,"/f/0":1,"/f/1":1}"#)
    }

    func testEveryMappingRuleOfTheExampleCatalog() throws {
        let e = try Engine(path: nil)
        let r = e.request("import.backstage", #"{"portfolio":"shop","organization":"Shop","documents":\#(documents(example))}"#)
        let res = try XCTUnwrap(r.result, r.text)
        XCTAssertEqual(res["created"]?["departments"]?.intValue, 3)
        XCTAssertEqual(res["created"]?["teams"]?.intValue, 3)
        XCTAssertEqual(res["created"]?["managers"]?.intValue, 3)
        // Seven systems: every component but the library, and the resource.
        XCTAssertEqual(res["created"]?["systems"]?.intValue, 7)
        XCTAssertEqual(res["skipped"]?.intValue, 0)
        // The Location is reported and skipped, with its file and line.
        XCTAssertEqual(res["unmapped"]?.intValue, 1)
        let loc = try XCTUnwrap(res["problems"]?.elements.first { $0["unmapped"]?.boolValue == true })
        XCTAssertEqual(loc["file"]?.stringValue, "examples/backstage/systems.yaml")
        XCTAssertEqual(loc["line"]?.intValue, 148)
        XCTAssertEqual(loc["reason"]?.stringValue?.contains("Location"), true)

        // Domain → a division; a business unit with children → a division; an annotation names the kind.
        XCTAssertEqual(entity(e, "shop", "department", "commerce")?["kind"]?.stringValue, "division")
        XCTAssertEqual(entity(e, "shop", "department", "digital")?["name"]?.stringValue, "Digital")
        XCTAssertEqual(entity(e, "shop", "department", "it-operations")?["kind"]?.stringValue, "it")
        // Teams: department from parent (bare, kind:namespace/name) or from the parent's children.
        XCTAssertEqual(entity(e, "shop", "team", "web-team")?["department"]?.stringValue, "digital")
        XCTAssertEqual(entity(e, "shop", "team", "payments-team")?["department"]?.stringValue, "digital")
        XCTAssertEqual(entity(e, "shop", "team", "platform-team")?["department"]?.stringValue, "it-operations")
        // Size from members and memberOf both.
        XCTAssertEqual(entity(e, "shop", "team", "web-team")?["size"]?.intValue, 2)
        XCTAssertEqual(entity(e, "shop", "team", "payments-team")?["size"]?.intValue, 1)
        // Users → managers, named by their profile, in the department of their first group.
        XCTAssertEqual(entity(e, "shop", "manager", "ana")?["name"]?.stringValue, "Ana Lima")
        XCTAssertEqual(entity(e, "shop", "manager", "ben")?["department"]?.stringValue, "digital")
        XCTAssertEqual(entity(e, "shop", "manager", "carla")?["department"]?.stringValue, "it-operations")

        // Layers by the default rules.
        XCTAssertEqual(entity(e, "shop", "system", "web-shop")?["layer"]?.stringValue, "front-end")
        XCTAssertEqual(entity(e, "shop", "system", "mobile-app")?["layer"]?.stringValue, "front-end")
        XCTAssertEqual(entity(e, "shop", "system", "shop-bff")?["layer"]?.stringValue, "back-end")
        XCTAssertEqual(entity(e, "shop", "system", "kube-platform")?["layer"]?.stringValue, "platform")
        XCTAssertEqual(entity(e, "shop", "system", "product-db")?["layer"]?.stringValue, "back-end")
        XCTAssertNil(entity(e, "shop", "system", "ui-kit"))
        // lifecycle → status; a resource has none.
        XCTAssertEqual(entity(e, "shop", "system", "payment-service")?["status"]?.stringValue, "experimental")
        XCTAssertEqual(entity(e, "shop", "system", "order-router")?["status"]?.stringValue, "deprecated")
        XCTAssertNil(entity(e, "shop", "system", "product-db")?["status"])
        // Owner: a user is the owning manager; a group gives the department.
        XCTAssertEqual(entity(e, "shop", "system", "payment-service")?["owner"]?.stringValue, "carla")
        XCTAssertNil(entity(e, "shop", "system", "web-shop")?["owner"])
        XCTAssertEqual(entity(e, "shop", "system", "web-shop")?["department"]?.stringValue, "digital")
        // APIs: consumer → provider through an API; AsyncAPI is an event. dependsOn: a resource or a
        // component of another system is a direct coupling; one of the same system is not.
        XCTAssertEqual(interfaces(e, "web-shop"), ["payment-service api", "shop-bff api"])
        XCTAssertEqual(interfaces(e, "payment-service"), ["order-router event"])
        XCTAssertEqual(interfaces(e, "shop-bff"), ["product-db direct"])
        XCTAssertEqual(interfaces(e, "mobile-app"), ["shop-bff api", "payment-service direct"])

        // The assessment runs on what was imported.
        XCTAssertNotNil(e.request("assessment.run", #"{"portfolio":"shop"}"#).result)
    }

    func testRulesOverrideTheDefaults() throws {
        let e = try Engine(path: nil)
        let rules = #"[{"kind":"component","type":"service","system":"payments","layer":"platform"},{"name":"ui-*","layer":"front-end"}]"#
        let r = e.request("import.backstage", #"{"portfolio":"shop","documents":\#(documents(example)),"rules":\#(rules)}"#)
        XCTAssertNotNil(r.result, r.text)
        XCTAssertEqual(entity(e, "shop", "system", "payment-service")?["layer"]?.stringValue, "platform")
        XCTAssertEqual(entity(e, "shop", "system", "order-router")?["layer"]?.stringValue, "platform")
        XCTAssertEqual(entity(e, "shop", "system", "shop-bff")?["layer"]?.stringValue, "back-end")
        XCTAssertEqual(entity(e, "shop", "system", "ui-kit")?["layer"]?.stringValue, "front-end")
        // A rule with a layer that is none of them is refused with its pointer.
        let bad = e.request("import.backstage", #"{"portfolio":"shop","documents":[],"rules":[{"layer":"middle"}]}"#)
        XCTAssertEqual(bad.code, -32602)
        XCTAssertEqual(bad.pointers, ["/rules/0/layer"])
    }

    func testReimportUpdatesInPlaceAndPrunesOnlyWhenAsked() throws {
        let e = try Engine(path: nil)
        let docs = documents(example)
        XCTAssertNotNil(e.request("import.backstage", #"{"portfolio":"shop","documents":\#(docs)}"#).result)
        // Facts the catalog does not hold, entered by hand, survive a re-import.
        var sys = JSONText.dump(try XCTUnwrap(entity(e, "shop", "system", "shop-bff")))
        sys = String(sys.dropLast()) + #","architecture":"microservices","delivery":{"deploysPerMonth":30}}"#
        XCTAssertNotNil(e.request("entity.upsert", #"{"portfolio":"shop","kind":"system","entity":\#(sys)}"#).result)
        let again = try XCTUnwrap(e.request("import.backstage", #"{"portfolio":"shop","documents":\#(docs)}"#).result)
        XCTAssertEqual(again["unchanged"]?["systems"]?.intValue, 7)
        XCTAssertEqual(again["created"]?.count, 0)
        XCTAssertEqual(again["updated"]?.count, 0)
        // Nothing changed: the revision stays.
        XCTAssertEqual(again["revision"]?.intValue, 2)
        XCTAssertEqual(entity(e, "shop", "system", "shop-bff")?["delivery"]?["deploysPerMonth"]?.intValue, 30)

        // A catalog without kube-platform and with a renamed component: updated, nothing removed.
        let changed = readFile(repoRoot + "/examples/backstage/systems.yaml")
            .replacingFirst("  name: shop-bff\n", with: "  name: shop-bff\n  title: Shop BFF\n")
            .replacingFirst("  name: kube-platform\n", with: "  name: kube-platform-gone\n")
        var all = documents(["examples/backstage/org.yaml"])
        let more = documents(yaml: changed, file: "systems.yaml")
        all = String(all.dropLast()) + "," + String(more.dropFirst())
        let upd = try XCTUnwrap(e.request("import.backstage", #"{"portfolio":"shop","documents":\#(all)}"#).result)
        XCTAssertEqual(upd["updated"]?["systems"]?.intValue, 1)
        XCTAssertEqual(upd["created"]?["systems"]?.intValue, 1)
        XCTAssertEqual(upd["removed"]?.count, 0)
        XCTAssertNotNil(entity(e, "shop", "system", "kube-platform"))
        XCTAssertEqual(entity(e, "shop", "system", "shop-bff")?["name"]?.stringValue, "Shop BFF")
        XCTAssertEqual(entity(e, "shop", "system", "shop-bff")?["architecture"]?.stringValue, "microservices")

        // A product written by hand uses kube-platform: prune removes what the catalog does not name,
        // except what something else still references.
        XCTAssertNotNil(e.request("entity.upsert", #"{"portfolio":"shop","kind":"product","entity":{"id":"p","name":"P","status":"live","systems":["kube-platform"]}}"#).result)
        let pruned = try XCTUnwrap(e.request("import.backstage", #"{"portfolio":"shop","documents":\#(all),"prune":true}"#).result)
        XCTAssertEqual(pruned["removed"]?.count, 0, JSONText.dump(pruned))
        XCTAssertNotNil(entity(e, "shop", "system", "kube-platform"))
        XCTAssertTrue(pruned["problems"]!.elements.contains { $0["reason"]?.stringValue?.contains("not removed") == true })
        XCTAssertNotNil(e.request("entity.remove", #"{"portfolio":"shop","kind":"product","id":"p"}"#).result)
        let pruned2 = try XCTUnwrap(e.request("import.backstage", #"{"portfolio":"shop","documents":\#(all),"prune":true}"#).result)
        XCTAssertEqual(pruned2["removed"]?["systems"]?.intValue, 1)
        XCTAssertNil(entity(e, "shop", "system", "kube-platform"))
    }

    /// Backstage keeps an entity whose relations point at entities it does not have, and so does the
    /// import: a reference outside the catalog is a note and an unresolved reference, never a skip.
    func testBrokenCatalogReportsEveryProblemWithFileAndLineAndSkipsOnlyBadRecords() throws {
        let e = try Engine(path: nil)
        let docs = documents(["Tests/Fixtures/backstage-broken/bad.yaml", "Tests/Fixtures/backstage-broken/catalog.yaml"])
        let res = try XCTUnwrap(e.request("import.backstage", #"{"portfolio":"b","documents":\#(docs)}"#).result)
        var found: [String: (Int, String, String)] = [:]
        for p in res["problems"]!.elements {
            found[p["reason"]!.stringValue!] = (Int(p["line"]!.intValue!), p["file"]!.stringValue!, p["pointer"]!.stringValue!)
        }
        func has(_ text: String, line: Int, file: String, pointer: String? = nil, _ l: UInt = #line) {
            guard let hit = found.first(where: { $0.key.contains(text) }) else { return XCTFail("no problem with \(text): \(found.keys)", line: l) }
            XCTAssertEqual(hit.value.0, line, text, line: l)
            XCTAssertTrue(hit.value.1.hasSuffix(file), line: l)
            if let pointer { XCTAssertEqual(hit.value.2, pointer, line: l) }
        }
        // bad.yaml: the document before the error is read; the error has its line.
        has("YAML", line: 15, file: "bad.yaml")
        has("spec.owner is required", line: 23, file: "catalog.yaml", pointer: "/documents/4/entity/spec/owner")
        has("unresolved reference: resource:default/missing-db", line: 36, file: "catalog.yaml", pointer: "/documents/5/entity/spec/dependsOn/1")
        has("which was skipped: kept as an unresolved reference", line: 46, file: "catalog.yaml", pointer: "/documents/6/entity/spec/dependsOn/0")
        has("kind Template is not mapped", line: 49, file: "catalog.yaml")
        XCTAssertEqual(res["skipped"]?.intValue, 2, "the YAML error and the component without an owner")
        XCTAssertEqual(res["created"]?["systems"]?.intValue, 4)
        XCTAssertNotNil(entity(e, "b", "system", "good-service"))
        XCTAssertNotNil(entity(e, "b", "system", "before-the-error"))
        // Kept: its interface to the good service, and the missing database as an unresolved reference.
        XCTAssertEqual(entity(e, "b", "system", "dangling")?["interfaces"]?.elements.map { $0["to"]!.stringValue! }, ["good-service"])
        XCTAssertNotNil(entity(e, "b", "system", "depends-on-skipped"))
        XCTAssertEqual(res["unresolved"]?.intValue, 2)
        let unresolved = e.request("portfolio.get", #"{"id":"b"}"#).result?["portfolio"]?["unresolved"]?.elements.map {
            "\($0["id"]!.stringValue!) \($0["field"]!.stringValue!) \($0["ref"]!.stringValue!) \($0["source"]!.stringValue!.split(separator: "/").last!)"
        }
        XCTAssertEqual(unresolved, ["dangling interfaces resource:default/missing-db catalog.yaml:36",
                                    "depends-on-skipped interfaces component:default/no-owner catalog.yaml:46"])

        // atomic: all or nothing; the portfolio is not even created.
        let e2 = try Engine(path: nil)
        let r = e2.request("import.backstage", #"{"portfolio":"b","documents":\#(docs),"atomic":true}"#)
        XCTAssertEqual(r.code, -32602)
        XCTAssertEqual(r.pointers.count, 2)
        XCTAssertTrue(r.pointers.contains("/documents/4/entity/spec/owner"))
        XCTAssertTrue(r.pointers.contains("/documents/1"), "the YAML error: \(r.pointers)")
        XCTAssertEqual(e2.request("portfolio.get", #"{"id":"b"}"#).code, -32000)
    }

    func testReferencesInEveryFormAndNamespaces() throws {
        let yaml = """
            apiVersion: backstage.io/v1alpha1
            kind: Group
            metadata: {name: core, namespace: ops}
            spec: {type: team, children: []}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata: {name: a, namespace: ops}
            spec: {type: service, lifecycle: production, owner: core, dependsOn: ["resource:db", "component:default/b"]}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: Resource
            metadata: {name: db, namespace: ops}
            spec: {type: database, owner: "group:ops/core"}
            ---
            apiVersion: backstage.io/v1beta1
            kind: Component
            metadata: {name: b}
            spec: {type: service, lifecycle: production, owner: "ops/core"}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata: {name: c}
            spec: {type: service, lifecycle: production, owner: core}
            """
        let e = try Engine(path: nil)
        let res = try XCTUnwrap(e.request("import.backstage", #"{"portfolio":"n","documents":\#(documents(yaml: yaml))}"#).result)
        // Ids outside the default namespace carry it; a bare reference is in the writer's namespace,
        // so "core" from the default namespace is not the team ops:core: c is kept, its owner unresolved.
        XCTAssertNotNil(entity(e, "n", "team", "ops:core"))
        XCTAssertEqual(Set(entity(e, "n", "system", "ops:a")?["interfaces"]?.elements.map { $0["to"]!.stringValue! } ?? []), ["ops:db", "b"])
        XCTAssertNotNil(entity(e, "n", "system", "b"))
        XCTAssertNotNil(entity(e, "n", "system", "c"))
        XCTAssertNil(entity(e, "n", "system", "c")?["department"])
        XCTAssertEqual(res["skipped"]?.intValue, 0)
        XCTAssertEqual(res["problems"]?[0]?["line"]?.intValue, 24)
        XCTAssertEqual(res["problems"]?[0]?["skipped"]?.boolValue, false)
        let u = e.request("portfolio.get", #"{"id":"n"}"#).result?["portfolio"]?["unresolved"]
        XCTAssertEqual(u.map { JSONText.dump($0) }, #"[{"kind":"system","id":"c","field":"owner","ref":"group:default/core","source":"inline.yaml:24"}]"#)
    }

    func testBadParamsGetPointers() throws {
        let e = try Engine(path: nil)
        XCTAssertEqual(e.request("import.backstage", #"{"portfolio":"x","documents":{}}"#).pointers, ["/documents"])
        XCTAssertEqual(e.request("import.backstage", #"{"portfolio":"x","documents":[{"entity":3}]}"#).pointers, ["/documents/0/entity"])
        // A document that is not a Backstage entity is a problem, not a failure.
        let r = try XCTUnwrap(e.request("import.backstage", #"{"portfolio":"x","documents":[{"entity":{"kind":"Component"}}]}"#).result)
        XCTAssertEqual(r["problems"]?[0]?["pointer"]?.stringValue, "/documents/0/entity/apiVersion")
        // Lines that are not numbers are not used: the problem takes the document's line.
        let l = try XCTUnwrap(e.request("import.backstage", #"{"portfolio":"x","documents":[{"line":7,"lines":{"/kind":"x"},"entity":{"kind":"Component"}}]}"#).result)
        XCTAssertEqual(l["problems"]?[0]?["line"]?.intValue, 7)
        XCTAssertEqual(e.request("import.backstage", #"{"portfolio":"x","documents":[{"lines":[]}]}"#).pointers, ["/documents/0/lines"])
    }

    // MARK: CSV

    func testCSVFromExcel() throws {
        let e = try Engine(path: nil)
        XCTAssertNotNil(e.request("portfolio.put", #"{"portfolio":\#(retailerText)}"#).result)
        // A UTF-8 BOM, semicolons, CRLF, a quoted field with a separator and a line break, a decimal comma.
        let csv = "\u{FEFF}id;name;status;systems;rice.reach;rice.impact;rice.confidence;rice.effort;problem\r\n"
            + "new-one;New one;idea;web-checkout;1000;2;0,8;3;\"Pay; fast\r\nand easy\"\r\n"
            + "bad-status;Bad;bogus;;;;;;\r\n"
            + "bad-system;Bad;idea;ghost;;;;;\r\n"
            + "bad-number;Bad;idea;;lots;;;;\r\n"
        let params = JSONMake.object(["portfolio": JSONMake.string("retailer"), "kind": JSONMake.string("product"),
                                      "text": JSONMake.string(csv), "file": JSONMake.string("p.csv")])
        defer { params.release() }
        let r = e.request("import.csv", JSONText.dump(params))
        let res = try XCTUnwrap(r.result, r.text)
        XCTAssertEqual(res["created"]?["products"]?.intValue, 1)
        XCTAssertEqual(res["skipped"]?.intValue, 3)
        let p = try XCTUnwrap(entity(e, "retailer", "product", "new-one"))
        XCTAssertEqual(p["problem"]?.stringValue, "Pay; fast\r\nand easy")
        XCTAssertEqual(p["rice"]?["confidence"]?.doubleValue, 0.8)
        XCTAssertEqual(p["systems"]?.elements.map { $0.stringValue! }, ["web-checkout"])
        let problems = res["problems"]!.elements.map { ($0["row"]!.intValue!, $0["column"]!.intValue!, $0["field"]!.stringValue!) }
        XCTAssertEqual(problems.map { "\($0.0) \($0.1) \($0.2)" }.sorted(), ["3 3 status", "4 4 systems", "5 5 rice.reach"])
        // The line of row 4 is 5: row 2's quoted field spans two lines.
        XCTAssertEqual(res["problems"]!.elements.first { $0["row"]?.intValue == 4 }?["line"]?.intValue, 5)
    }

    func testCSVUpdatesOnlyItsColumnsAndChecksItsHeader() throws {
        let e = try Engine(path: nil)
        XCTAssertNotNil(e.request("portfolio.put", #"{"portfolio":\#(retailerText)}"#).result)
        let before = try XCTUnwrap(entity(e, "retailer", "system", "web-checkout"))
        let delivery = JSONText.dump(before["delivery"]!)
        let r = e.request("import.csv", #"{"portfolio":"retailer","kind":"system","text":"id,name,layer,interfaces\nweb-checkout,Web checkout 2,front-end,\"[{\"\"to\"\":\"\"payment-api\"\",\"\"kind\"\":\"\"event\"\"}]\"\n"}"#)
        let res = try XCTUnwrap(r.result, r.text)
        XCTAssertEqual(res["updated"]?["systems"]?.intValue, 1)
        let after = try XCTUnwrap(entity(e, "retailer", "system", "web-checkout"))
        XCTAssertEqual(after["name"]?.stringValue, "Web checkout 2")
        XCTAssertEqual(after["interfaces"]?[0]?["kind"]?.stringValue, "event")
        XCTAssertEqual(JSONText.dump(after["delivery"]!), delivery)

        let unknown = e.request("import.csv", #"{"portfolio":"retailer","kind":"system","text":"id,colour\nx,red\n"}"#)
        XCTAssertEqual(unknown.code, -32602)
        XCTAssertEqual(unknown.error?["data"]?["reason"]?.stringValue?.contains("row 1, column 2 (\"colour\")"), true)
        let noID = e.request("import.csv", #"{"portfolio":"retailer","kind":"team","text":"name,size\nA,3\n"}"#)
        XCTAssertEqual(noID.code, -32602)
        let quote = e.request("import.csv", #"{"portfolio":"retailer","kind":"team","text":"id,name,size\nt,\"open,3\n"}"#)
        XCTAssertEqual(quote.code, -32602)
        XCTAssertEqual(quote.pointer, "/text")
        // atomic: a refused row refuses the whole file.
        let atomic = e.request("import.csv", #"{"portfolio":"retailer","kind":"team","atomic":true,"text":"id,name,size\nok,OK,3\nbad,Bad,0\n"}"#)
        XCTAssertEqual(atomic.code, -32602)
        XCTAssertNil(entity(e, "retailer", "team", "ok"))
    }

    func testCSVParserEdgeCases() throws {
        let t = try CSVReader.records("a\tb\n\"x\"\"y\"\t\n\n", separator: nil)
        XCTAssertEqual(t.map(\.fields), [["a", "b"], ["x\"y", ""]])
        XCTAssertEqual(CSVReader.detectSeparator(Array("a;b,c;d\n".utf8)), UInt8(ascii: ";"))
        XCTAssertThrowsError(try CSVReader.records("a,b\nx\"y,2\n", separator: nil))
    }

    // MARK: Schema file and $schema

    func testDocumentsMayCarrySchemaAndComments() throws {
        let e = try Engine(path: nil)
        let doc = #"{"$schema":"https://example.com/portfolio.schema.json","$comment":["next: add journeys"],"id":"p","organization":{"name":"P"}}"#
        XCTAssertNotNil(e.request("portfolio.put", #"{"portfolio":\#(doc)}"#).result)
        XCTAssertEqual(e.request("portfolio.put", #"{"portfolio":{"$comment":3,"id":"p","organization":{"name":"P"}}}"#).code, -32602)
    }

    /// schema/portfolio.schema.json is what the engine validates with; `make schema` writes it again.
    func testSchemaFileMatchesTheEngine() throws {
        let generated = try portfolioSchemaDocument()
        let path = repoRoot + "/schema/portfolio.schema.json"
        let text = generated.text(pretty: true) + "\n"
        if getenv("TWOSPEED_WRITE_SCHEMA") != nil {
            let f = fopen(path, "wb")!
            fputs(text, f)
            fclose(f)
        }
        XCTAssertEqual(readFile(path), text, "schema/portfolio.schema.json is stale: run make schema")
    }
}
