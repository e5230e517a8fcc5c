import CJansson
@testable import TwoSpeedEngine
import TwoSpeedJSON
@testable import TwoSpeedRPC
import TwoSpeedSchema
import XCTest

/// Engines share one OpenRPC document (Dispatcher's `sharedDocument`): building it was most of an
/// engine's start, and the fault sweeps start a thousand engines. Sharing is right only while every
/// engine's table describes alike; these tests hold that, and show what sharing would hide otherwise.
final class SharedDocumentTests: XCTestCase {
    func discover(_ call: (String) -> String?) throws -> JSONRef {
        let reply = parse(try XCTUnwrap(call(#"{"jsonrpc":"2.0","method":"rpc.discover","id":1}"#)))
        defer { reply.release() }
        return try XCTUnwrap(reply["result"]).retained()
    }

    func sorted(_ v: JSONRef) -> String {
        guard let c = JSONText.dumpC(v, flags: JSONText.encodeFlags | Int(JSON_SORT_KEYS)) else { return "" }
        defer { free(c) }
        return String(cString: c)
    }

    /// Each engine's rpc.discover is the document built from that engine's own table, whatever it was
    /// opened with (in memory, on a file, with a plugin folder).
    func testEveryEngineDiscoversItsOwnTable() throws {
        let folder = NSTemporaryDirectory() + "shared-doc-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let engines = [try Engine(path: nil), try Engine(path: folder + "/store.sqlite"),
                       try Engine(path: nil, maxRequestBytes: 1 << 20, plugins: folder)]
        for e in engines {
            let found = try discover { e.call($0) }
            defer { found.release() }
            let info = try XCTUnwrap(found["info"])
            let built = OpenRPC.document(methods: e.dispatcher.ordered, info: OpenRPCInfo(
                title: info["title"]!.stringValue!, version: info["version"]!.stringValue!, description: info["description"]!.stringValue!))
            defer { built.release() }
            XCTAssertEqual(sorted(found), sorted(built))
            XCTAssertGreaterThan(found["methods"]?.count ?? 0, 40)
        }
    }

    func dispatcher(summary: String, shared: String?) -> Dispatcher {
        let m = Method("test.echo", summary: summary, result: Schema.object("R", "", [:]).openObject(), mutates: false) { _ in JSON.null }
        return Dispatcher(methods: [m], info: OpenRPCInfo(title: "t", version: "1", description: "d"), sharedDocument: shared)
    }

    func summary(_ d: Dispatcher) throws -> String? {
        let doc = try discover { text in
            var t = text
            return t.withUTF8 { d.respond(text: UnsafeRawBufferPointer($0)) }?.text()
        }
        defer { doc.release() }
        return doc["methods"]?.elements.first { $0["name"]?.stringValue == "test.echo" }?["summary"]?.stringValue
    }

    /// Dispatchers given no name build their own document, so two tables with the same method names and
    /// different descriptions each discover their own. The near miss: given one name, the second shows
    /// the first's description; that is the promise a caller of `sharedDocument` makes.
    func testOnlyDispatchersGivenOneNameShareADocument() throws {
        XCTAssertEqual(try summary(dispatcher(summary: "first", shared: nil)), "first")
        XCTAssertEqual(try summary(dispatcher(summary: "second", shared: nil)), "second")
        let name = "SharedDocumentTests \(UInt64.random(in: 0...UInt64.max))"
        XCTAssertEqual(try summary(dispatcher(summary: "first", shared: name)), "first")
        XCTAssertEqual(try summary(dispatcher(summary: "second", shared: name)), "first")
    }

    /// A dispatcher gone frees its table: rpc.discover's handler and the document's build hold each other
    /// only through an unowned reference (the fuzz smoke's leak check found the cycle). The method's
    /// handler holds a sentinel, which must go with the dispatcher, with and without a shared name.
    func testADispatcherGoneFreesItsMethods() throws {
        final class Sentinel: Sendable {}
        for shared in [nil, "SharedDocumentTests leak \(UInt64.random(in: 0...UInt64.max))"] {
            weak var gone: Sentinel?
            do {
                let sentinel = Sentinel()
                gone = sentinel
                let m = Method("test.echo", summary: "s", result: Schema.object("R", "", [:]).openObject(), mutates: false) { _ in
                    withExtendedLifetime(sentinel) { JSON.null }
                }
                let d = Dispatcher(methods: [m], info: OpenRPCInfo(title: "t", version: "1", description: "d"), sharedDocument: shared)
                XCTAssertEqual(try summary(d), "s")
            }
            XCTAssertNil(gone, "the dispatcher's methods outlived it (shared: \(shared ?? "none"))")
        }
    }
}
