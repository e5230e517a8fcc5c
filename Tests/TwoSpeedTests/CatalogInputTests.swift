import CJansson
import Glibc
import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON
@testable import TwoSpeedYAML

/// Input that cannot hurt, and the catalog API's JSON: each hostile file ends in an error document
/// naming its line, within a second and under 100 MB; the documents before it are kept.
final class CatalogInputTests: XCTestCase {
    /// Runs `body`, returning its documents, its time and how much the process's peak resident size grew.
    func measured(_ body: (JSONRef) -> Void) -> (docs: JSONRef, seconds: Double, grewMB: Double) {
        var before = rusage(), after = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &before)
        var t0 = timespec(), t1 = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t0)
        let docs = JSONMake.array()
        body(docs)
        clock_gettime(CLOCK_MONOTONIC, &t1)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &after)
        let seconds = Double(t1.tv_sec - t0.tv_sec) + Double(t1.tv_nsec - t0.tv_nsec) / 1e9
        return (docs, seconds, Double(after.ru_maxrss - before.ru_maxrss) / 1024)
    }

    static let entity = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ok\nspec: {type: service, lifecycle: production, owner: x}\n"

    /// Nine anchors of nine aliases each: 9^9 values if expanded. The line is the alias that passes the limit.
    func testAliasBombIsAnErrorWithItsLine() {
        var lines = [#"a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]"#]
        for i in 1...9 { lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ",") + "]") }
        let text = Self.entity + "---\n" + lines.joined(separator: "\n") + "\n---\n" + Self.entity
        let m = measured { YAMLDocuments.append(text: text, file: "bomb.yaml", into: $0) }
        defer { m.docs.release() }
        XCTAssertEqual(m.docs.count, 2, JSONText.dump(m.docs).prefix(500).description)
        XCTAssertEqual(m.docs[0]?["entity"]?["metadata"]?["name"]?.stringValue, "ok", "the document before it is kept")
        XCTAssertEqual(m.docs[1]?["line"]?.intValue, 12)
        XCTAssertTrue(m.docs[1]?["error"]?.stringValue?.contains("aliases expand this document past 100000 values") ?? false)
        XCTAssertLessThan(m.seconds, 1)
        XCTAssertLessThan(m.grewMB, 100)
    }

    /// The near miss: aliases a catalog really uses (a shared block of tags) read as before.
    func testModestAliasesStillRead() {
        let text = "a: &t [x, y]\nb: *t\nc: {d: *t}\n"
        let docs = JSONMake.array()
        defer { docs.release() }
        YAMLDocuments.append(text: text, file: "f.yaml", into: docs)
        XCTAssertEqual(JSONText.dump(docs[0]!["entity"]!), #"{"a":["x","y"],"b":["x","y"],"c":{"d":["x","y"]}}"#)
    }

    func testDeepNestingIsAnErrorNotAStackOverflow() {
        let flow = "a: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n"
        var block = ""
        for i in 0..<3_000 { block += String(repeating: "  ", count: i) + "k\(i):\n" }
        block += String(repeating: "  ", count: 3_000) + "v\n"
        // With an anchor the file goes the composer's way: still refused before composing.
        let anchored = "x: &a 1\ny: *a\nz: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n"
        let cases: [(String, String, Int)] = [("flow", flow, 1), ("block", block, 257), ("anchored", anchored, 3)]
        for (name, text, line) in cases {
            let m = measured { YAMLDocuments.append(text: Self.entity + "---\n" + text, file: name, into: $0) }
            defer { m.docs.release() }
            XCTAssertEqual(m.docs.count, 2, name)
            XCTAssertEqual(m.docs[1]?["error"]?.stringValue, "YAML: nesting deeper than 256 levels", name)
            XCTAssertEqual(m.docs[1]?["line"]?.intValue.map { Int($0) }, line + 6, name)
            XCTAssertLessThan(m.seconds, 1, name)
            XCTAssertLessThan(m.grewMB, 100, name)
        }
        // The near miss: 200 levels read.
        let ok = JSONMake.array()
        defer { ok.release() }
        YAMLDocuments.append(text: "a: " + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "\n", file: "ok", into: ok)
        XCTAssertNil(ok[0]?["error"])
    }

    func testAFileOverTheSizeLimitIsRefusedWholeWithItsSize() {
        let docs = JSONMake.array()
        defer { docs.release() }
        let text = String(decoding: [UInt8](repeating: 0x23, count: YAMLDocuments.maxFileBytes + 1), as: UTF8.self)
        YAMLDocuments.append(text: text, file: "big.yaml", into: docs)
        XCTAssertEqual(docs.count, 1)
        XCTAssertTrue(docs[0]?["error"]?.stringValue?.contains("over the limit of 67108864 bytes") ?? false)
    }

    // MARK: The catalog API's JSON

    let apiEntity = """
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
         "metadata": {"name": "svc-[1]", "namespace": "default", "uid": "0b1e", "etag": "e1", "description": "a \\"quoted\\" [x], {y}"},
         "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/payments"},
         "relations": [{"type": "ownedBy", "targetRef": "group:default/payments"}]}
        """

    func testEntitiesArrayAndByQueryItemsKeepEachEntitysLine() {
        let pretty = "[\n  " + apiEntity.replacingOccurrences(of: "svc-[1]", with: "svc-001") + ",\n  "
            + apiEntity.replacingOccurrences(of: "svc-[1]", with: "svc-002") + "\n]\n"
        let items = "{\"items\": [\n" + apiEntity.replacingOccurrences(of: "svc-[1]", with: "svc-003") + ",\n"
            + apiEntity.replacingOccurrences(of: "svc-[1]", with: "svc-004") + "\n], \"totalItems\": 2, \"pageInfo\": {\"nextCursor\": \"[{\"}}"
        let cases: [(String, [String], [Int])] = [(pretty, ["svc-001", "svc-002"], [2, 6]), (items, ["svc-003", "svc-004"], [2, 6])]
        for (text, names, lines) in cases {
            let docs = JSONMake.array()
            defer { docs.release() }
            XCTAssertTrue(CatalogJSON.looksLikeJSON(Array(text.utf8)))
            XCTAssertEqual(CatalogJSON.append(bytes: Array(text.utf8), file: "api.json", into: docs), 2)
            XCTAssertEqual(docs.elements.map { $0["entity"]!["metadata"]!["name"]!.stringValue! }, names)
            XCTAssertEqual(docs.elements.map { Int($0["line"]!.intValue!) }, lines, text)
            XCTAssertEqual(docs[0]?["file"]?.stringValue, "api.json")
        }
    }

    func testNotJSONIsOneErrorWithLineAndColumn() {
        let docs = JSONMake.array()
        defer { docs.release() }
        CatalogJSON.append(bytes: Array("[\n {\"kind\": }\n]".utf8), file: "-", into: docs)
        XCTAssertEqual(docs.count, 1)
        XCTAssertEqual(docs[0]?["line"]?.intValue, 2)
        XCTAssertNotNil(docs[0]?["column"])
        XCTAssertTrue(docs[0]?["error"]?.stringValue?.hasPrefix("JSON: ") ?? false)
        let scalar = JSONMake.array()
        defer { scalar.release() }
        CatalogJSON.append(bytes: Array("{\"items\": 3}".utf8), file: "-", into: scalar)
        XCTAssertEqual(scalar[0]?["entity"]?["items"]?.intValue, 3, "an object without an items list is one entity (refused by the import)")
        XCTAssertFalse(CatalogJSON.looksLikeJSON(Array("apiVersion: x\n".utf8)))
    }

    /// The catalog API's entities import as the YAML does: every component, owners unresolved.
    func testTheAPIsJSONImportsLikeYAML() throws {
        var all: [String] = []
        for i in 1...30 { all.append(apiEntity.replacingOccurrences(of: "svc-[1]", with: String(format: "svc-%03d", i))) }
        let docs = JSONMake.array()
        CatalogJSON.append(bytes: Array(("{\"items\": [" + all.joined(separator: ",\n") + "]}").utf8), file: "standard input", into: docs)
        let params = JSONMake.object(["portfolio": JSONMake.string("api"), "documents": docs])
        defer { params.release() }
        let e = try Engine(path: nil)
        let r = try XCTUnwrap(e.request("import.backstage", JSONText.dump(params)).result)
        XCTAssertEqual(r["created"]?["systems"]?.intValue, 30, JSONText.dump(r))
        XCTAssertEqual(r["unresolved"]?.intValue, 30)
        XCTAssertEqual(r["problems"]?[29]?["line"]?.intValue, 1 + 29 * 4, "each entity is four lines")
        XCTAssertEqual(r["problems"]?[29]?["file"]?.stringValue, "standard input")
    }

    /// Nothing but skipped records: no empty portfolio is left behind, and the report says why.
    func testAnImportWhoseEveryRecordIsSkippedCreatesNothing() throws {
        let e = try Engine(path: nil)
        let docs = #"[{"file":"a.yaml","line":1,"entity":{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"a"},"spec":{"type":"service"}}},{"file":"a.yaml","line":9,"error":"YAML: bad"}]"#
        let r = try XCTUnwrap(e.request("import.backstage", #"{"portfolio":"none","documents":\#(docs)}"#).result)
        XCTAssertEqual(r["portfolioCreated"]?.boolValue, false)
        XCTAssertEqual(r["revision"]?.intValue, 0)
        XCTAssertTrue(r["problems"]!.elements.contains { $0["reason"]?.stringValue?.hasPrefix("every record was skipped (2 read)") == true })
        XCTAssertEqual(e.request("portfolio.get", #"{"id":"none"}"#).code, -32000)
        // The near miss: one good record creates it.
        let good = #"[{"entity":{"apiVersion":"backstage.io/v1alpha1","kind":"Group","metadata":{"name":"g"},"spec":{"type":"team"}}}]"#
        XCTAssertEqual(e.request("import.backstage", #"{"portfolio":"none","documents":\#(good)}"#).result?["portfolioCreated"]?.boolValue, true)
    }

    /// The engine takes at most 1,000,000 documents an import (the command line stops at the same
    /// number, naming the file and line); one more is refused whole with the pointer, nothing created.
    func testMoreEntitiesThanAnImportTakesIsRefusedWithItsPointer() throws {
        var text = "{\"portfolio\":\"many\",\"documents\":["
        text.reserveCapacity(3_100_000)
        for i in 0...1_000_000 { text += i == 0 ? "{}" : ",{}" }
        text += "]}"
        let e = try Engine(path: nil)
        let r = e.request("import.backstage", text)
        XCTAssertEqual(r.code, -32602, String(r.text.prefix(300)))
        XCTAssertEqual(r.pointer, "/documents")
        XCTAssertEqual(e.request("portfolio.get", #"{"id":"many"}"#).code, -32000)
    }
}
