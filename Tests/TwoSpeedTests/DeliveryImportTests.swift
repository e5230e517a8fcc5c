import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON

/// The one CSV reader and the JSON Lines reader as they stream, and delivery.import (issues 21, 25).
final class DeliveryImportTests: XCTestCase {
    // MARK: Readers, fed in pieces

    /// Every record of `text` fed `piece` bytes at a time.
    func csv(_ text: String, piece: Int, separator: UInt8? = nil) throws -> [[String]] {
        var r = CSVReader(separator: separator)
        var out: [[String]] = []
        let bytes = Array(text.utf8)
        var i = 0
        try bytes.withUnsafeBytes { b in
            while i < b.count {
                let j = min(b.count, i + piece)
                try r.feed(UnsafeRawBufferPointer(rebasing: b[i..<j])) { line, fields in out.append(["\(line)"] + fields) }
                i = j
            }
        }
        try r.finish { line, fields in out.append(["\(line)"] + fields) }
        return out
    }

    func testCSVReadsTheSameInAnyPieces() throws {
        // A BOM, semicolons, CRLF, a doubled quote, a quoted line break, a blank line, no final line break.
        let text = "\u{FEFF}id;name;note\r\na;\"x\"\"y\";\"two\r\nlines\"\r\n\r\nb;plain;\"\"\r\nc;last;end"
        let whole = try csv(text, piece: 1 << 20)
        XCTAssertEqual(whole, [["1", "id", "name", "note"], ["2", "a", "x\"y", "two\r\nlines"], ["5", "b", "plain", ""], ["6", "c", "last", "end"]])
        for piece in [1, 2, 3, 5, 7] {
            XCTAssertEqual(try csv(text, piece: piece), whole, "pieces of \(piece) bytes")
        }
    }

    func testCSVSeparatorIsTheHeadersMostFrequent() throws {
        XCTAssertEqual(try csv("a\tb\tc\n1\t2,5\t3\n", piece: 2), [["1", "a", "b", "c"], ["2", "1", "2,5", "3"]])
        XCTAssertEqual(try csv("a,b\n1;2,3\n", piece: 1), [["1", "a", "b"], ["2", "1;2", "3"]])
        XCTAssertEqual(try csv("a;b\n1,5;2\n", piece: 1, separator: UInt8(ascii: ",")), [["1", "a;b"], ["2", "1", "5;2"]])
        // A byte-order mark arriving a byte at a time is still no text.
        XCTAssertEqual(try csv("\u{FEFF}a;b\n1;2\n", piece: 1, separator: UInt8(ascii: ";")), [["1", "a", "b"], ["2", "1", "2"]])
    }

    func testCSVFailuresNameLineAndColumn() {
        XCTAssertThrowsError(try csv("a,b\n1,x\"y\n", piece: 1)) { e in
            XCTAssertEqual(e as? CSVReader.Failure, CSVReader.Failure(line: 2, column: 2, reason: "a quote inside an unquoted field"))
        }
        XCTAssertThrowsError(try csv("a,b\n1,2\n3,\"open\nstill open\n", piece: 4)) { e in
            XCTAssertEqual(e as? CSVReader.Failure, CSVReader.Failure(line: 3, column: 2, reason: "a quoted field is not closed"))
        }
    }

    func testAQuoteNeverClosedDoesNotHoldTheRestOfTheFile() {
        var r = CSVReader()
        let piece = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        XCTAssertThrowsError(try {
            try Array("a,b\n1,\"".utf8).withUnsafeBytes { try r.feed($0) { _, _ in } }
            for _ in 0..<32 { try piece.withUnsafeBytes { try r.feed($0) { _, _ in } } }
        }()) { e in
            XCTAssertEqual(e as? CSVReader.Failure, CSVReader.Failure(line: 2, column: 2, reason: "a field longer than 16 MiB (a quote not closed?)"))
        }
    }

    func testJSONLinesInPieces() throws {
        let text = "\u{FEFF}{\"a\":1}\r\n\n  \n{\"b\":\n[1,2]\n{\"c\":\"long line\"}"
        for piece in [1, 3, 1 << 20] {
            var r = JSONLinesReader()
            var got: [String] = []
            let add: (Int, JSONLinesReader.Item) -> Void = { line, item in
                switch item {
                case .value(let v, _): got.append("\(line):\(v.text())")
                case .failure(let column, let reason): got.append("\(line):\(column != nil):\(reason.hasPrefix("not JSON") ? "not JSON" : reason)")
                }
            }
            let bytes = Array(text.utf8)
            var i = 0
            try bytes.withUnsafeBytes { b in
                while i < b.count { let j = min(b.count, i + piece); try r.feed(UnsafeRawBufferPointer(rebasing: b[i..<j]), add); i = j }
            }
            try r.finish(add)
            XCTAssertEqual(got, ["1:{\"a\":1}", "4:true:not JSON", "5:[1,2]", "6:{\"c\":\"long line\"}"], "pieces of \(piece)")
        }
    }

    // MARK: delivery.import

    func loaded() throws -> Engine {
        let engine = try Engine(path: nil)
        let r = engine.request("portfolio.put", "{\"portfolio\":\(retailerText)}")
        XCTAssertEqual(r.result?["revision"]?.intValue, 1, r.text)
        return engine
    }

    func importing(_ e: Engine, _ kind: String, _ format: String, _ text: String, atomic: Bool = false, file: String? = "log") -> Response {
        let params = JSONMake.object(["portfolio": JSONMake.string("retailer"), "kind": JSONMake.string(kind), "format": JSONMake.string(format),
                                      "text": JSONMake.string(text), "atomic": JSONMake.bool(atomic)])
        if let file { params.set("file", JSONMake.string(file)) }
        defer { params.release() }
        return e.request("delivery.import", JSONText.dump(params))
    }

    func webCheckout(_ e: Engine) -> JSONRef? {
        let r = e.request("delivery.metrics", #"{"portfolio":"retailer","system":"web-checkout","until":"2026-04-01T00:00:00Z","days":30}"#)
        return r.result?["windows"]?.elements.first?["systems"]?.elements.first
    }

    func testCSVDeploymentsRecordTheirGoodRowsAndNameEachBadOne() throws {
        let e = try loaded()
        let text = """
            id;system;time;failed;changes\r
            d1;web-checkout;2026-03-10T12:00:00Z;no;c1@2026-03-10T10:00:00Z;c2@2026-03-09T12:00:00Z\r
            d2;nowhere;2026-03-11T12:00:00Z;;\r
            d3;web-checkout;2026-03-12T00:00:00Z;maybe;\r
            d4;web-checkout;2026-03-12;perhaps;c9-no-time\r
            d5;web-checkout;not-a-time;;\r
            """
        // The separator is ;, so the changes cell is split on ; too: a CSV of ; quotes its changes.
        let quoted = text.replacingOccurrences(of: "c1@2026-03-10T10:00:00Z;c2@2026-03-09T12:00:00Z",
                                               with: "\"c1@2026-03-10T10:00:00Z;c2@2026-03-09T12:00:00Z\"")
        let r = importing(e, "deployments", "csv", quoted, file: "deploys.csv")
        XCTAssertEqual(r.result?["deployments"]?["created"]?.intValue, 1, r.text)
        XCTAssertEqual(r.result?["deployments"]?["skipped"]?.intValue, 4, r.text)
        XCTAssertEqual(r.result?["records"]?.intValue, 5, r.text)
        let problems = r.result?["problems"]?.elements.map {
            "\($0["file"]?.stringValue ?? ""):\($0["line"]?.intValue ?? 0):\($0["column"]?.intValue ?? 0):\($0["member"]?.stringValue ?? "")"
        }
        // Row 5 has two bad cells: two problems, one record skipped.
        XCTAssertEqual(problems, ["deploys.csv:3:2:system", "deploys.csv:4:4:failed", "deploys.csv:5:4:failed", "deploys.csv:5:5:changes",
                                  "deploys.csv:6:3:time"], r.text)
        XCTAssertEqual(r.result?["problemCount"]?.intValue, 5, r.text)
        XCTAssertEqual(Set(r.result?["problems"]?.elements.compactMap { $0["pointer"]?.stringValue } ?? []), ["/text"])
        let web = try XCTUnwrap(webCheckout(e))
        XCTAssertEqual(web["leadTimeHours"]?.doubleValue, 13, "leads of 2 h and 24 h, as delivery.record would give")
    }

    func testJSONLinesIncidentsGiveTheSameFiguresAsDeliveryRecord() throws {
        let e = try loaded()
        _ = importing(e, "deployments", "jsonl", #"{"id":"d1","system":"web-checkout","time":"2026-03-10T12:00:00Z"}"#)
        let r = importing(e, "incidents", "jsonl", """
            {"id":"i1","system":"web-checkout","started":"2026-03-10T13:00:00Z","resolved":"2026-03-10T17:00:00Z","cause":"d1"}
            {"id":"i2","system":"web-checkout","started":"2026-03-12T01:00:00Z"
            [1]
            {"id":"i3","system":"web-checkout","started":"2026-03-12T01:00:00Z","resolved":"2026-03-12T00:00:00Z"}
            """)
        XCTAssertEqual(r.result?["incidents"]?["created"]?.intValue, 1, r.text)
        XCTAssertEqual(r.result?["incidents"]?["skipped"]?.intValue, 3, r.text)
        let lines = r.result?["problems"]?.elements.map { "\($0["line"]?.intValue ?? 0) \($0["reason"]?.stringValue?.prefix(8) ?? "")" }
        XCTAssertEqual(lines, ["2 not JSON", "3 expected", "4 resolved"], r.text)
        let web = try XCTUnwrap(webCheckout(e))
        XCTAssertEqual(web["recoveryHours"]?.doubleValue, 4)
        XCTAssertEqual(web["changeFailureRate"]?.doubleValue, 1)
    }

    func testALogNamingNoneOfThePortfoliosSystemsIsAnErrorAndRecordsNothing() throws {
        let e = try loaded()
        let r = importing(e, "deployments", "csv", "id,system,time\nm1,mobile-app,2026-03-10T12:00:00Z\nm2,shop-bff,2026-03-10T12:00:00Z\n",
                          file: "shop.csv")
        XCTAssertEqual(r.code, -32602, r.text)
        XCTAssertEqual(r.error?["message"]?.stringValue, "none of the 2 record(s) of shop.csv could be recorded; nothing recorded")
        let errors = r.error?["data"]?["errors"]?.elements ?? []
        XCTAssertEqual(errors.map { $0["pointer"]?.stringValue }, ["/text", "/text"])
        XCTAssertEqual(errors.first?["reason"]?.stringValue, "shop.csv:2:2: system: the portfolio has no system \"mobile-app\"")
        let m = e.request("delivery.metrics", #"{"portfolio":"retailer","until":"2026-04-01T00:00:00Z"}"#)
        XCTAssertEqual(m.result?["windows"]?.elements.first?["systems"]?.elements.count, 0, m.text)
        // The near miss: one good record among them is a result, the others reported.
        let ok = importing(e, "deployments", "csv", "id,system,time\nm1,mobile-app,2026-03-10T12:00:00Z\nw1,web-checkout,2026-03-10T12:00:00Z\n")
        XCTAssertEqual(ok.result?["deployments"]?["created"]?.intValue, 1, ok.text)
        XCTAssertEqual(ok.result?["problemCount"]?.intValue, 1, ok.text)
        // An empty log (a header alone) records nothing and is no error.
        XCTAssertEqual(importing(e, "deployments", "csv", "id,system,time\n").result?["records"]?.intValue, 0)
    }

    func testAtomicRefusesTheWholeLogNamingEachLine() throws {
        let e = try loaded()
        let r = importing(e, "incidents", "csv", "id,system,started\ni1,web-checkout,2026-03-10T13:00:00Z\ni2,nowhere,2026-03-10T13:00:00Z\n",
                          atomic: true, file: "inc.csv")
        XCTAssertEqual(r.code, -32602, r.text)
        XCTAssertEqual(r.error?["data"]?["errors"]?.elements.first?["reason"]?.stringValue,
                       "inc.csv:3:2: system: the portfolio has no system \"nowhere\"", r.text)
        XCTAssertEqual(webCheckout(e)?["incidents"]?.intValue ?? 0, 0)
        let bad = importing(e, "incidents", "csv", "id,system,started\ni1,web-checkout,yesterday\n", atomic: true, file: "inc.csv")
        XCTAssertEqual(bad.error?["data"]?["errors"]?.elements.first?["reason"]?.stringValue,
                       "inc.csv:2:3: started: not an RFC 3339 date-time or date: \"yesterday\"", bad.text)
    }

    func testABadFileIsAnErrorWithAPointerIntoTheParams() throws {
        let e = try loaded()
        let header = importing(e, "deployments", "csv", "id,system,when\n", file: "d.csv")
        XCTAssertEqual(header.code, -32602)
        XCTAssertEqual(header.error?["data"]?["pointer"]?.stringValue, "/text")
        XCTAssertEqual(header.error?["data"]?["reason"]?.stringValue, "d.csv:1:3: unknown column \"when\"; deployments take id, system, time, failed, changes")
        let quote = importing(e, "deployments", "csv", "id,system,time\n\"d1,web-checkout,2026-03-10\n", file: nil)
        XCTAssertEqual(quote.error?["data"]?["reason"]?.stringValue, "text:2:1: a quoted field is not closed", quote.text)
        let nowhere = e.request("delivery.import", #"{"portfolio":"nope","kind":"deployments","format":"csv","text":""}"#)
        XCTAssertEqual(nowhere.error?["data"]?["pointer"]?.stringValue, "/portfolio", nowhere.text)
        let kind = e.request("delivery.import", #"{"portfolio":"retailer","kind":"changes","format":"csv","text":""}"#)
        XCTAssertEqual(kind.error?["data"]?["pointer"]?.stringValue, "/kind", kind.text)
    }
}
