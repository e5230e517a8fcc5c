import TwoSpeedJSON
import TwoSpeedRPC
import TwoSpeedSchema
import TwoSpeedSync
import XCTest

/// Issue 25: an unexpected error's own text (a path, SQL, a Swift type's dump) never reaches a client.
/// The reply says which method failed; the details go to the log hook, with control characters escaped.
final class InternalErrorTests: XCTestCase {
    struct Leaky: Error, CustomStringConvertible {
        var description: String { "open(/var/lib/secret/store.sqlite) failed\n2026-01-01 forged log line\u{1B}[31m" }
    }

    func dispatcher() -> Dispatcher {
        let failing = Method("test.fail", summary: "Throws a Swift error that is not an RPC error.",
                             result: Schema.object("R", "", [:]).openObject(), mutates: false) { _ -> JSON in throw Leaky() }
        let refused = Method("test.refuse", summary: "Throws an RPC error, which is the client's to read.",
                             result: Schema.object("R", "", [:]).openObject(), mutates: false) { _ -> JSON in
            throw RPCError(.notFound, pointer: "/id", "no such thing")
        }
        return Dispatcher(methods: [failing, refused], info: OpenRPCInfo(title: "t", version: "1", description: "d"))
    }

    func reply(_ d: Dispatcher, _ text: String) throws -> JSON {
        var t = text
        return try XCTUnwrap(t.withUTF8 { d.respond(text: UnsafeRawBufferPointer($0)) })
    }

    func testAnUnexpectedErrorNamesTheMethodAndNotItsText() throws {
        let d = dispatcher()
        let logged = Locked<[(String, String)]>([])
        d.internalErrorLog = { method, detail in logged.write { $0.append((method, detail)) } }
        let r = try reply(d, #"{"jsonrpc":"2.0","method":"test.fail","id":1}"#)
        let text = r.text()
        XCTAssertEqual(r["error"]?["code"]?.intValue, -32603)
        XCTAssertEqual(r["error"]?["data"]?["method"]?.stringValue, "test.fail")
        XCTAssertTrue(r["error"]?["data"]?["reason"]?.stringValue?.contains("test.fail failed unexpectedly") == true, text)
        for leak in ["secret", "store.sqlite", "forged", "Leaky"] {
            XCTAssertFalse(text.contains(leak), "the reply leaks \(leak): \(text)")
        }
        // The log has it all, on one line: the newline and the escape sequence are escaped.
        let entries = logged.read { $0 }
        XCTAssertEqual(entries.count, 1)
        XCTAssertEqual(entries.first?.0, "test.fail")
        let detail = entries.first?.1 ?? ""
        XCTAssertTrue(detail.contains("/var/lib/secret/store.sqlite"), detail)
        XCTAssertFalse(detail.contains("\n") || detail.contains("\u{1B}"), "control characters reach the log: \(detail.debugDescription)")
    }

    /// The near miss: an RPC error is the client's and keeps its words; nothing is logged.
    func testAnRPCErrorKeepsItsReason() throws {
        let d = dispatcher()
        let logged = Locked(0)
        d.internalErrorLog = { _, _ in logged.write { $0 += 1 } }
        let r = try reply(d, #"{"jsonrpc":"2.0","method":"test.refuse","id":1}"#)
        XCTAssertEqual(r["error"]?["code"]?.intValue, -32000)
        XCTAssertEqual(r["error"]?["data"]?["reason"]?.stringValue, "no such thing")
        XCTAssertEqual(logged.read { $0 }, 0)
    }

    /// An out-of-memory failure thrown by a handler answers -32603 "out of memory" and logs nothing.
    func testNoMemoryThrownByAHandlerIsOutOfMemory() throws {
        let m = Method("test.oom", summary: "Throws as a builder does when memory runs out.",
                       result: Schema.object("R", "", [:]).openObject(), mutates: false) { _ -> JSON in throw JSONError.noMemory }
        let d = Dispatcher(methods: [m], info: OpenRPCInfo(title: "t", version: "1", description: "d"))
        let r = try reply(d, #"{"jsonrpc":"2.0","method":"test.oom","id":"a"}"#)
        XCTAssertEqual(r["error"]?["code"]?.intValue, -32603)
        XCTAssertEqual(r["error"]?["data"]?["reason"]?.stringValue, "out of memory; nothing was changed")
        XCTAssertEqual(r["id"]?.stringValue, "a")
    }
}
