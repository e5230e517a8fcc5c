import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedRPC

/// The examples of the JSON-RPC 2.0 specification, section 7, adapted to the engine's methods:
/// subtract → portfolio.get, sum → entity.get, notify_hello/update → metric.observe, get_data → engine.info.
final class DispatcherTests: XCTestCase {
    var engine: Engine!

    override func setUpWithError() throws {
        engine = try Engine(path: nil)
        let r = engine.request("portfolio.put", "{\"portfolio\":\(retailerText)}")
        XCTAssertNotNil(r.result, r.text)
    }

    func call(_ text: String) -> Response? { engine.call(text).map(Response.init) }

    func testPositionalParameters() throws {
        let r = try XCTUnwrap(call(#"{"jsonrpc": "2.0", "method": "portfolio.get", "params": ["retailer"], "id": 1}"#))
        XCTAssertEqual(r.result?["portfolio"]?["id"]?.stringValue, "retailer")
        XCTAssertEqual(r.id?.intValue, 1)
        let e = try XCTUnwrap(call(#"{"jsonrpc": "2.0", "method": "entity.get", "params": ["retailer", "product", "checkout"], "id": 2}"#))
        XCTAssertEqual(e.result?["entity"]?["name"]?.stringValue, "Online checkout")
        // A wrong positional param is reported at its position.
        let bad = try XCTUnwrap(call(#"{"jsonrpc": "2.0", "method": "entity.get", "params": ["retailer", "gadget", "checkout"], "id": 3}"#))
        XCTAssertEqual(bad.code, -32602)
        XCTAssertEqual(bad.pointer, "/1")
        let extra = try XCTUnwrap(call(#"{"jsonrpc": "2.0", "method": "portfolio.get", "params": ["retailer", 1], "id": 4}"#))
        XCTAssertEqual(extra.code, -32602)
        XCTAssertEqual(extra.pointer, "/1")
        let missing = try XCTUnwrap(call(#"{"jsonrpc": "2.0", "method": "entity.get", "params": ["retailer"], "id": 5}"#))
        XCTAssertEqual(missing.pointers, ["/1", "/2"])
    }

    func testNamedParameters() throws {
        let r = try XCTUnwrap(call(#"{"jsonrpc": "2.0", "method": "portfolio.get", "params": {"id": "retailer"}, "id": 3}"#))
        XCTAssertEqual(r.result?["revision"]?.intValue, 1)
        XCTAssertEqual(r.id?.intValue, 3)
    }

    func testNotificationIsAnsweredWithNothingButRuns() throws {
        XCTAssertNil(call(#"{"jsonrpc": "2.0", "method": "metric.observe", "params": {"portfolio": "retailer", "metric": "nps", "observations": [{"at": "2026-11-01", "value": 26}]}}"#))
        let m = try XCTUnwrap(call(#"{"jsonrpc":"2.0","method":"entity.get","params":{"portfolio":"retailer","kind":"metric","id":"nps"},"id":1}"#))
        XCTAssertEqual(m.result?["entity"]?["observations"]?.count, 2)
        // Errors in notifications are not answered either.
        XCTAssertNil(call(#"{"jsonrpc": "2.0", "method": "foobar"}"#))
        XCTAssertNil(call(#"{"jsonrpc": "2.0", "method": "portfolio.get", "params": {"id": 7}}"#))
    }

    func testNonExistentMethod() throws {
        let r = try XCTUnwrap(call(#"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#))
        XCTAssertEqual(r.code, -32601)
        XCTAssertEqual(r.error?["message"]?.stringValue, "Method not found")
        XCTAssertEqual(r.id?.stringValue, "1")
    }

    func testInvalidJSON() throws {
        let r = try XCTUnwrap(call(#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#))
        XCTAssertEqual(r.code, -32700)
        XCTAssertEqual(r.error?["message"]?.stringValue, "Parse error")
        XCTAssertEqual(r.id?.kind, .null)
        XCTAssertNotNil(r.error?["data"]?["position"])
    }

    func testInvalidRequestObject() throws {
        let r = try XCTUnwrap(call(#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#))
        XCTAssertEqual(r.code, -32600)
        XCTAssertEqual(r.id?.kind, .null)
        XCTAssertEqual(r.pointer, "/method")
    }

    func testBatchWithInvalidJSON() throws {
        let r = try XCTUnwrap(call("""
            [{"jsonrpc": "2.0", "method": "entity.get", "params": ["retailer", "product", "checkout"], "id": "1"},
             {"jsonrpc": "2.0", "method"]
            """))
        XCTAssertEqual(r.json.kind, .object, "one error, not a batch")
        XCTAssertEqual(r.code, -32700)
    }

    func testEmptyBatch() throws {
        let r = try XCTUnwrap(call("[]"))
        XCTAssertEqual(r.json.kind, .object)
        XCTAssertEqual(r.code, -32600)
        XCTAssertEqual(r.id?.kind, .null)
    }

    func testInvalidBatchButNotEmpty() throws {
        let r = try XCTUnwrap(call("[1]"))
        XCTAssertEqual(r.json.count, 1)
        XCTAssertEqual(r.json[0]?["error"]?["code"]?.intValue, -32600)
        XCTAssertEqual(r.json[0]?["id"]?.kind, .null)
    }

    func testInvalidBatch() throws {
        let r = try XCTUnwrap(call("[1,2,3]"))
        XCTAssertEqual(r.json.count, 3)
        for e in r.json.elements { XCTAssertEqual(e["error"]?["code"]?.intValue, -32600) }
    }

    func testMixedBatch() throws {
        let r = try XCTUnwrap(call("""
            [
              {"jsonrpc": "2.0", "method": "entity.get", "params": ["retailer", "product", "checkout"], "id": "1"},
              {"jsonrpc": "2.0", "method": "metric.observe", "params": ["retailer", "nps", [{"at": "2026-11-02", "value": 27}]]},
              {"jsonrpc": "2.0", "method": "portfolio.get", "params": ["retailer"], "id": "2"},
              {"foo": "boo"},
              {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
              {"jsonrpc": "2.0", "method": "engine.info", "id": "9"}
            ]
            """))
        let items = r.json.elements
        XCTAssertEqual(items.count, 5)
        guard items.count == 5 else { return }
        XCTAssertEqual(items[0]["id"]?.stringValue, "1")
        XCTAssertNotNil(items[0]["result"])
        XCTAssertEqual(items[1]["id"]?.stringValue, "2")
        XCTAssertEqual(items[1]["result"]?["revision"]?.intValue, 2, "the notification before it ran")
        XCTAssertEqual(items[2]["error"]?["code"]?.intValue, -32600)
        XCTAssertEqual(items[2]["id"]?.kind, .null)
        XCTAssertEqual(items[3]["error"]?["code"]?.intValue, -32601)
        XCTAssertEqual(items[3]["id"]?.stringValue, "5")
        XCTAssertEqual(items[4]["id"]?.stringValue, "9")
        XCTAssertEqual(items[4]["result"]?["portfolios"]?.intValue, 1)
    }

    func testBatchOfNotificationsOnly() {
        XCTAssertNil(call("""
            [{"jsonrpc": "2.0", "method": "metric.observe", "params": ["retailer", "nps", [{"at": "2026-11-03", "value": 1}]]},
             {"jsonrpc": "2.0", "method": "engine.info"}]
            """))
    }

    func testIdIsEchoedAsGiven() throws {
        for id in [#""abc""#, "0", "-7", "9223372036854775807", "1.5", "null", #""""#, #""ü 🚀""#] {
            let r = try XCTUnwrap(call(#"{"jsonrpc":"2.0","method":"engine.info","id":\#(id)}"#))
            XCTAssertEqual(JSONText.dump(r.id!), id)
        }
    }

    func testIdOfTheWrongType() throws {
        for id in [#"{"a":1}"#, "[1]", "true"] {
            let r = try XCTUnwrap(call(#"{"jsonrpc":"2.0","method":"engine.info","id":\#(id)}"#))
            XCTAssertEqual(r.code, -32600)
            XCTAssertEqual(r.id?.kind, .null)
            XCTAssertEqual(r.pointer, "/id")
        }
    }

    func testEnvelopeRules() throws {
        let cases: [(String, String)] = [
            (#"{"method":"engine.info","id":1}"#, "/jsonrpc"),
            (#"{"jsonrpc":"1.0","method":"engine.info","id":1}"#, "/jsonrpc"),
            (#"{"jsonrpc":2.0,"method":"engine.info","id":1}"#, "/jsonrpc"),
            (#"{"jsonrpc":"2.0","id":1}"#, "/method"),
            (#"{"jsonrpc":"2.0","method":"engine.info","params":"x","id":1}"#, "/params"),
            (#"{"jsonrpc":"2.0","method":"engine.info","params":null,"id":1}"#, "/params"),
            (#"{"jsonrpc":"2.0","method":"engine.info","id":1,"extra":true}"#, "/extra"),
            ("\"a string\"", ""),
            ("42", ""),
        ]
        for (text, pointer) in cases {
            let r = try XCTUnwrap(call(text), text)
            XCTAssertEqual(r.code, -32600, text)
            XCTAssertEqual(r.pointer, pointer, text)
        }
        // The id survives an invalid request when it is itself valid.
        XCTAssertEqual(call(#"{"jsonrpc":"1.0","method":"engine.info","id":77}"#)?.id?.intValue, 77)
    }

    func testUnknownParamsAndMethodsWithoutParams() throws {
        let r = try XCTUnwrap(call(#"{"jsonrpc":"2.0","method":"engine.info","params":{"verbose":true},"id":1}"#))
        XCTAssertEqual(r.code, -32602)
        XCTAssertEqual(r.pointer, "/verbose")
        XCTAssertNotNil(call(#"{"jsonrpc":"2.0","method":"engine.info","params":{},"id":1}"#)?.result)
        XCTAssertNotNil(call(#"{"jsonrpc":"2.0","method":"engine.info","params":[],"id":1}"#)?.result)
    }

    func testReadOnlyCallers() throws {
        let ro = CallContext(readOnly: true)
        let w = try XCTUnwrap(engine.call(#"{"jsonrpc":"2.0","method":"portfolio.delete","params":{"id":"retailer"},"id":1}"#, context: ro))
        XCTAssertEqual(Response(w).code, -32004)
        let r = try XCTUnwrap(engine.call(#"{"jsonrpc":"2.0","method":"portfolio.list","id":1}"#, context: ro))
        XCTAssertNotNil(Response(r).result)
    }

    /// Loading and unloading plugins is an administrator's call, refused before anything is read; a
    /// caller confined to plugin folders gets -32004 for a manifest outside them. rpc.discover says which.
    func testAdministratorsCalls() throws {
        let notAdmin = CallContext(admin: false)
        for (method, params) in [("plugin.load", #"{"manifest":"/nonexistent/plugin.json"}"#), ("plugin.unload", #"{"name":"x"}"#)] {
            let r = Response(try XCTUnwrap(engine.call(#"{"jsonrpc":"2.0","method":"\#(method)","params":\#(params),"id":1}"#, context: notAdmin)))
            XCTAssertEqual(r.code, -32004, r.text)
            XCTAssertTrue(r.error?["data"]?["reason"]?.stringValue?.contains("administrators") ?? false, r.text)
        }
        // An administrator confined to a folder: the same file is refused as outside, not looked for.
        let confined = CallContext(pluginFolders: ["/nonexistent-folder"])
        let r = Response(try XCTUnwrap(engine.call(#"{"jsonrpc":"2.0","method":"plugin.load","params":{"manifest":"/etc/passwd"},"id":1}"#, context: confined)))
        XCTAssertEqual(r.code, -32004, r.text)
        XCTAssertFalse(r.text.contains("root:"), r.text)
        // Unconfined (an embedded engine's host), the path is looked at: not a manifest, and not quoted.
        let embedded = Response(try XCTUnwrap(engine.call(#"{"jsonrpc":"2.0","method":"plugin.load","params":{"manifest":"/etc/passwd"},"id":1}"#)))
        XCTAssertEqual(embedded.code, -32602, embedded.text)
        XCTAssertFalse(embedded.text.contains("root:"), embedded.text)
        let doc = Response(try XCTUnwrap(engine.call(#"{"jsonrpc":"2.0","method":"rpc.discover","id":1}"#)))
        let admin = doc.result?["methods"]?.elements.filter { $0["x-admin"]?.boolValue == true }.compactMap { $0["name"]?.stringValue }
        XCTAssertEqual(admin, ["plugin.load", "plugin.unload"])
    }

    func testTooLarge() throws {
        let small = try Engine(path: nil, maxRequestBytes: 100)
        let r = Response(small.call(#"{"jsonrpc":"2.0","method":"engine.info","id":1,"params":{"padding":"\#(String(repeating: "x", count: 200))"}}"#)!)
        XCTAssertEqual(r.code, -32003)
        XCTAssertEqual(r.error?["data"]?["limit"]?.intValue, 100)
    }

    func testDiscoverDescribesEveryMethod() throws {
        let r = try XCTUnwrap(call(#"{"jsonrpc":"2.0","method":"rpc.discover","id":1}"#))
        let doc = try XCTUnwrap(r.result)
        XCTAssertEqual(doc["openrpc"]?.stringValue, "1.3.2")
        let methods = doc["methods"]!.elements
        let names = methods.compactMap { $0["name"]?.stringValue }
        XCTAssertEqual(Set(names), Set(engine.dispatcher.methods.keys))
        for m in methods {
            // Every result has a schema; plugin.call's is {} (any value), the plugin's own answer.
            XCTAssertEqual(m["result"]?["schema"]?.kind, .object, "\(m["name"]?.stringValue ?? "")")
            if m["name"]?.stringValue != "plugin.call" {
                XCTAssertNotNil(m["result"]?["schema"]?["type"] ?? m["result"]?["schema"]?["anyOf"], "\(m["name"]?.stringValue ?? "")")
            }
            for p in m["params"]!.elements {
                XCTAssertNotNil(p["schema"], p["name"]?.stringValue ?? "")
            }
        }
        let put = methods.first { $0["name"]?.stringValue == "portfolio.put" }!
        let schema = put["params"]![0]!["schema"]!
        XCTAssertEqual(schema["additionalProperties"]?.boolValue, false)
        XCTAssertEqual(schema["required"]?.elements.compactMap(\.stringValue), ["id", "organization"])
        // Every error code is in the components, with the name twospeed.h and the Python package give it.
        XCTAssertEqual(doc["components"]?["errors"]?.count, ErrorCode.allCases.count)
        XCTAssertEqual(doc["components"]?["errors"]?["-32000"]?["x-name"]?.stringValue, "NOT_FOUND")
        XCTAssertEqual(doc["components"]?["errors"]?["-32011"]?["x-name"]?.stringValue, "TOO_MANY_CLIENTS")
        XCTAssertEqual(ErrorCode.parseError.constantName, "PARSE_ERROR")
    }
}
