import CJansson
import Dispatch
import Glibc
import WAT
import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedSync

/// WebAssembly plugins: the example in C, the same findings as the other kinds, and every way a module
/// can fail (each a WAT module here), with the host answering afterwards.
final class WasmPluginTests: XCTestCase {
    static let example = repoRoot + "/examples/wasm/team-size-check"
    static let clang = "/opt/swift/usr/bin/clang"

    /// The example is built by `make plugins`; built here too (the toolchain's clang), so the test stands alone.
    override class func setUp() {
        if access(example + "/team_size_check.wasm", R_OK) != 0 {
            sh("\(clang) --target=wasm32 -nostdlib -fno-builtin -O2 -Wl,--no-entry -o \(example)/team_size_check.wasm \(example)/team_size_check.c")
        }
        let so = PluginTests.examples + "/team-size-check/libteam_size_check.so"
        if access(so, R_OK) != 0 {
            sh("cc -std=c99 -shared -fPIC -I\(repoRoot)/include \(PluginTests.examples)/team-size-check/team_size_check.c -o \(so) -ljansson")
        }
    }

    /// The ABI around a body: one page of memory, a bump allocator from 1024, twospeed_call's body.
    static func module(_ body: String, extra: String = "", memory: Int = 1) -> String {
        """
        (module
          \(extra)
          (memory (export "memory") \(memory))
          (global $next (mut i32) (i32.const 1024))
          (func (export "twospeed_alloc") (param $n i32) (result i32)
            (local $p i32)
            (local.set $p (global.get $next))
            (global.set $next (i32.add (global.get $next) (local.get $n)))
            (local.get $p))
          (func (export "twospeed_call") (param $p i32) (param $n i32) (result i64)
            \(body)))
        """
    }

    /// A folder with a module assembled from WAT and its manifest; the manifest's path.
    func wasmPlugin(_ name: String, _ wat: String, limits: String? = nil, grants: [String] = [],
                    points: String = #"["check"]"#) throws -> String {
        let dir = temporaryDirectory()
        let bytes = try wat2wasm(wat)
        let f = fopen(dir + "/module.wasm", "wb")!
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
        let l = limits.map { ", \"limits\": \($0)" } ?? ""
        let g = grants.isEmpty ? "" : ", \"grants\": [\(grants.map { "\"\($0)\"" }.joined(separator: ","))]"
        writeFile(dir + "/plugin.json", """
            {"name": "\(name)", "version": "0.1", "kind": "wasm", "path": "module.wasm", "extensionPoints": \(points)\(l)\(g)}
            """)
        return dir + "/plugin.json"
    }

    func load(_ engine: Engine, _ manifest: String, file: StaticString = #filePath, line: UInt = #line) -> Response {
        engine.request("plugin.load", "{\"manifest\":\"\(manifest)\"}")
    }

    func engineWithExample() throws -> Engine {
        let engine = try Engine(path: nil)
        XCTAssertNotNil(load(engine, WasmPluginTests.example + "/plugin.json").result)
        for name in ["retailer", "bank"] {
            XCTAssertNotNil(engine.request("portfolio.put", "{\"portfolio\":\(readFile(repoRoot + "/examples/portfolios/\(name).json"))}").result)
        }
        return engine
    }

    /// The host still answers: its own method, and a call through a healthy wasm plugin.
    func assertHostAnswers(_ engine: Engine, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(engine.request("engine.info").result?["version"]?.stringValue, Engine.version, file: file, line: line)
        let ping = engine.request("plugin.call", #"{"plugin":"team-size-check-wasm","method":"plugin.ping","params":{"still":"here"}}"#)
        XCTAssertEqual(ping.result?["still"]?.stringValue, "here", ping.text, file: file, line: line)
    }

    func wasmInfo(_ engine: Engine, _ name: String) -> JSONRef? {
        engine.request("plugin.list").result?["plugins"]?.elements.first { $0["name"]?.stringValue == name }?["wasm"]
    }

    // MARK: The example

    func testExampleChecksTheBankAndPluginListShowsLimitsAndUse() throws {
        let engine = try engineWithExample()
        let run = engine.request("assessment.run", #"{"portfolio":"state-bank","keep":false}"#)
        let oversized = try XCTUnwrap(run.result?["pitfalls"]?.elements.first { $0["pitfall"]?.stringValue == "oversized-teams" }, run.text)
        XCTAssertEqual(oversized["plugin"]?.stringValue, "team-size-check-wasm")
        XCTAssertEqual(oversized["subjects"]?[0]?["id"]?.stringValue, "team-it-portal")
        XCTAssertEqual(oversized["evidence"]?[0]?.stringValue, "Portal maintenance has 14 people (limit 10) and carries 1 product")
        let info = try XCTUnwrap(wasmInfo(engine, "team-size-check-wasm"))
        XCTAssertEqual(info["limits"]?["fuel"]?.int, 100_000_000)
        XCTAssertEqual(info["limits"]?["memoryPages"]?.int, 256)
        XCTAssertEqual(info["limits"]?["responseBytes"]?.int, 4 << 20)
        XCTAssertEqual(info["usage"]?["calls"]?.int, 1)
        XCTAssertEqual(info["usage"]?["traps"]?.int, 0)
        XCTAssertGreaterThan(info["usage"]?["fuelSpent"]?.int ?? 0, 1_000)
        XCTAssertEqual(info["usage"]?["fuelSpent"]?.int, info["usage"]?["lastCallFuel"]?.int)
        XCTAssertEqual(info["usage"]?["log"]?.elements.last?.stringValue, "checked 3 teams, 1 oversized")
        XCTAssertEqual(info["usage"]?["pooled"]?.int, 1)
        var st = stat()
        stat(WasmPluginTests.example + "/team_size_check.wasm", &st)
        XCTAssertEqual(info["moduleBytes"]?.int, Int(st.st_size))
        // The retailer's squads are small: no finding, and the instance is reused (still one made).
        let retailer = engine.request("assessment.run", #"{"portfolio":"retailer","keep":false}"#)
        XCTAssertFalse(retailer.result?["pitfalls"]?.elements.contains { $0["pitfall"]?.stringValue == "oversized-teams" } ?? true)
        XCTAssertEqual(wasmInfo(engine, "team-size-check-wasm")?["usage"]?["instances"]?.int, 1)
        // Unknown methods and bad params are the plugin's own answers.
        let unknown = engine.request("plugin.call", #"{"plugin":"team-size-check-wasm","method":"model.get"}"#)
        XCTAssertEqual(unknown.error?["data"]?["pluginError"]?["code"]?.int, -32601, unknown.text)
        let bad = engine.request("plugin.call", #"{"plugin":"team-size-check-wasm","method":"check.run","params":{"portfolio":3}}"#)
        XCTAssertEqual(bad.error?["data"]?["pluginError"]?["code"]?.int, -32602, bad.text)
    }

    /// The same check in C in-process, in Python as a process and in C compiled to wasm: the same findings.
    func testTheSameCheckGivesTheSameFindingsInEveryKind() throws {
        let engine = try Engine(path: nil)
        for manifest in [PluginTests.examples + "/team-size-check/plugin.json", repoRoot + "/Tests/Plugins/team-size-check-py/plugin.json",
                         WasmPluginTests.example + "/plugin.json"] {
            XCTAssertNotNil(load(engine, manifest).result, manifest)
        }
        // Names that need escaping, a team with no products, one with two, a size that is not an integer.
        let odd = """
            {"teams": [{"id": "t1", "name": "Caf\\u00e9 \\"ops\\" \\\\ squad", "size": 12},
                       {"id": "t2", "name": "Small", "size": 10}, {"id": "t3", "name": "Big/bigger", "size": 40},
                       {"id": "t4", "name": "Odd", "size": 11.5}, {"id": "t5", "name": "\\ud83d\\ude80 rocket", "size": 11}],
             "products": [{"id": "p1", "team": "t3"}, {"id": "p2", "team": "t3"}, {"id": "p3", "team": "t1"}, {"id": "p4"}]}
            """
        for portfolio in [readFile(repoRoot + "/examples/portfolios/bank.json"), readFile(repoRoot + "/examples/portfolios/retailer.json"), odd] {
            var answers: [String] = []
            for plugin in ["team-size-check", "team-size-check-py", "team-size-check-wasm"] {
                let r = engine.request("plugin.call", "{\"plugin\":\"\(plugin)\",\"method\":\"check.run\",\"params\":{\"portfolio\":\(portfolio)}}")
                let findings = try XCTUnwrap(r.result?["findings"], r.text)
                answers.append(JSONText.dump(findings))
            }
            XCTAssertEqual(answers[0], answers[1], "C in-process and Python")
            XCTAssertEqual(answers[0], answers[2], "C in-process and wasm")
        }
        let odd3 = engine.request("plugin.call", "{\"plugin\":\"team-size-check-wasm\",\"method\":\"check.run\",\"params\":{\"portfolio\":\(odd)}}")
        XCTAssertEqual(odd3.result?["findings"]?[0]?["subjects"]?.elements.map { $0["id"]?.stringValue ?? "" }, ["t1", "t3", "t5"])
        XCTAssertEqual(odd3.result?["findings"]?[0]?["evidence"]?[0]?.stringValue, "Café \"ops\" \\ squad has 12 people (limit 10) and carries 1 product")
    }

    /// plugin.check runs one check plugin on a stored portfolio: the same findings in every kind as
    /// plugin.call with the document, on the revision stored now (the document's text is kept per revision).
    func testPluginCheckRunsOneCheckOnTheStoredPortfolio() throws {
        let engine = try engineWithExample()
        for manifest in [PluginTests.examples + "/team-size-check/plugin.json", repoRoot + "/Tests/Plugins/team-size-check-py/plugin.json",
                         PluginTests.examples + "/csv-metrics/plugin.json"] {
            XCTAssertNotNil(load(engine, manifest).result, manifest)
        }
        let bank = readFile(repoRoot + "/examples/portfolios/bank.json")
        let passed = engine.request("plugin.call", "{\"plugin\":\"team-size-check\",\"method\":\"check.run\",\"params\":{\"portfolio\":\(bank)}}")
        let expected = JSONText.dump(try XCTUnwrap(passed.result?["findings"], passed.text))
        for plugin in ["team-size-check", "team-size-check-py", "team-size-check-wasm"] {
            let r = engine.request("plugin.check", "{\"plugin\":\"\(plugin)\",\"portfolio\":\"state-bank\"}")
            XCTAssertEqual(r.result?["plugin"]?.stringValue, plugin, r.text)
            XCTAssertEqual(r.result?["portfolio"]?.stringValue, "state-bank")
            XCTAssertEqual(r.result?["revision"]?.int, 1)
            XCTAssertEqual(r.result?["findings"].map { JSONText.dump($0) }, expected, plugin)
        }
        // A change is seen at once: the retailer's store-ops squad grows past the limit.
        let before = engine.request("plugin.check", #"{"plugin":"team-size-check-wasm","portfolio":"retailer"}"#)
        XCTAssertEqual(before.result?["findings"]?.elements.count, 0, before.text)
        let list = engine.request("entity.list", #"{"portfolio":"retailer","kind":"team"}"#)
        let team = try XCTUnwrap(list.result?["entities"]?[0], list.text)
        team.set("size", JSONMake.int(23))
        let upsert = engine.request("entity.upsert", "{\"portfolio\":\"retailer\",\"kind\":\"team\",\"entity\":\(JSONText.dump(team))}")
        XCTAssertNotNil(upsert.result, upsert.text)
        for plugin in ["team-size-check", "team-size-check-py", "team-size-check-wasm"] {
            let after = engine.request("plugin.check", "{\"plugin\":\"\(plugin)\",\"portfolio\":\"retailer\"}")
            XCTAssertEqual(after.result?["revision"]?.int, 2, after.text)
            XCTAssertEqual(after.result?["findings"]?[0]?["subjects"]?[0]?["id"]?.stringValue, team["id"]?.stringValue, after.text)
            XCTAssertTrue(after.result?["findings"]?[0]?["evidence"]?[0]?.stringValue?.contains("has 23 people") ?? false, after.text)
        }
        // Errors name the param: no such portfolio, no such plugin, a plugin that serves no check.
        let missing = engine.request("plugin.check", #"{"plugin":"team-size-check-wasm","portfolio":"nowhere"}"#)
        XCTAssertEqual(missing.code, -32000, missing.text)
        XCTAssertEqual(missing.pointer, "/portfolio")
        let nobody = engine.request("plugin.check", #"{"plugin":"nobody","portfolio":"retailer"}"#)
        XCTAssertEqual(nobody.code, -32000, nobody.text)
        XCTAssertEqual(nobody.pointer, "/plugin")
        let metrics = engine.request("plugin.check", #"{"plugin":"csv-metrics","portfolio":"retailer"}"#)
        XCTAssertEqual(metrics.code, -32602, metrics.text)
        XCTAssertEqual(metrics.pointer, "/plugin")
    }

    /// The README's wasm manifest is the example's, and valid.
    func testTheREADMEManifestIsTheExamples() throws {
        let readme = readFile(repoRoot + "/README.md")
        let blocks = readme.components(separatedBy: "```json\n").dropFirst().map { String($0[..<$0.range(of: "```")!.lowerBound]) }
        let block = try XCTUnwrap(blocks.first { $0.contains("\"kind\": \"wasm\"") })
        let fromReadme = parse(block), fromExample = parse(readFile(WasmPluginTests.example + "/plugin.json"))
        defer { fromReadme.release(); fromExample.release() }
        json_object_del(fromExample, "description")
        XCTAssertEqual(JSONText.dump(fromReadme), JSONText.dump(fromExample))
    }

    /// The minimal guest of include/twospeed_plugin.h, as written there, builds, loads and checks.
    func testTheHeadersMinimalGuestWorks() throws {
        let header = readFile(repoRoot + "/include/twospeed_plugin.h")
        let start = try XCTUnwrap(header.range(of: "** BEGIN GUEST\n")), end = try XCTUnwrap(header.range(of: "** END GUEST"))
        let source = header[start.upperBound..<end.lowerBound].split(separator: "\n").map { $0.dropFirst(4) }.joined(separator: "\n")
        let dir = temporaryDirectory()
        writeFile(dir + "/guest.c", source + "\n")
        XCTAssertTrue(sh("\(WasmPluginTests.clang) --target=wasm32 -nostdlib -O2 -Wall -Werror -Wl,--no-entry \(dir)/guest.c -o \(dir)/guest.wasm"))
        writeFile(dir + "/plugin.json", #"{"name": "minimal", "version": "1", "kind": "wasm", "path": "guest.wasm", "extensionPoints": ["check"]}"#)
        let engine = try engineWithExample()
        XCTAssertNotNil(load(engine, dir + "/plugin.json").result)
        for _ in 0..<3 {
            let run = engine.request("assessment.run", #"{"portfolio":"state-bank","keep":false}"#)
            XCTAssertNotNil(run.result, run.text)
        }
        XCTAssertEqual(wasmInfo(engine, "minimal")?["usage"]?["calls"]?.int, 3)
        XCTAssertEqual(wasmInfo(engine, "minimal")?["usage"]?["traps"]?.int, 0)
    }

    // MARK: Failures at call time: -32006 with data.failure, and the host answers afterwards

    func assertFails(_ wat: String, limits: String? = nil, grants: [String] = [], failure: String, reasonStart: String,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let engine = try engineWithExample()
        let manifest = try wasmPlugin("bad", wat, limits: limits, grants: grants)
        XCTAssertNotNil(load(engine, manifest).result, file: file, line: line)
        for attempt in 1...2 {
            let started = now()
            let r = engine.request("plugin.call", #"{"plugin":"bad","method":"check.run","params":{"portfolio":{}}}"#)
            XCTAssertEqual(r.code, -32006, r.text, file: file, line: line)
            XCTAssertEqual(r.error?["data"]?["plugin"]?.stringValue, "bad", file: file, line: line)
            XCTAssertEqual(r.error?["data"]?["failure"]?.stringValue, failure, r.text, file: file, line: line)
            XCTAssertTrue(r.error?["data"]?["reason"]?.stringValue?.hasPrefix(reasonStart) ?? false, r.text, file: file, line: line)
            XCTAssertLessThan(now() - started, 5, "attempt \(attempt) took too long", file: file, line: line)
            assertHostAnswers(engine, file: file, line: line)
        }
        // Another call after a failure runs at once (no backoff: there is no process to restart).
        let usage = wasmInfo(engine, "bad")?["usage"]
        XCTAssertEqual(usage?["calls"]?.int, 2, file: file, line: line)
        XCTAssertEqual(usage?["failures"]?[failure]?.int, 2, file: file, line: line)
        XCTAssertEqual(usage?["traps"]?.int, ["trap", "fuel", "memory"].contains(failure) ? 2 : 0, file: file, line: line)
        XCTAssertEqual(usage?["pooled"]?.int, 0, "a failed instance is dropped", file: file, line: line)
        XCTAssertEqual(usage?["instances"]?.int, 2, file: file, line: line)
        XCTAssertEqual(engine.request("plugin.list").result?["plugins"]?.elements.first { $0["name"]?.stringValue == "bad" }?["status"]?.stringValue,
                       "ready", file: file, line: line)
    }

    func testATrapFails() throws {
        try assertFails(WasmPluginTests.module("unreachable"), failure: "trap", reasonStart: "trap: the module trapped during the call (unreachable")
    }

    func testEndlessRecursionFails() throws {
        try assertFails(WasmPluginTests.module("(call $deeper) (i64.const 0)", extra: "(func $deeper (call $deeper))"),
                        failure: "trap", reasonStart: "trap: the module trapped during the call (call stack exhausted")
    }

    func testAnEndlessLoopRunsOutOfFuel() throws {
        try assertFails(WasmPluginTests.module("(loop $l (br $l)) (i64.const 0)"), limits: #"{"fuel": 1000000}"#,
                        failure: "fuel", reasonStart: "out of fuel: the module used all 1000000 units")
    }

    func testTooMuchMemoryFails() throws {
        try assertFails(WasmPluginTests.module("(drop (memory.grow (i32.const 100))) (i64.const 0)"), limits: #"{"memoryPages": 16}"#,
                        failure: "memory", reasonStart: "memory limit: the module asked for 101 pages of 64 KiB, over its limit of 16")
    }

    func testAResponseOutsideMemoryIsGarbage() throws {
        try assertFails(WasmPluginTests.module("(i64.const 0x7fff000000000010)"), failure: "garbage",
                        reasonStart: "garbage: the response (16 bytes at 2147418112) lies outside the module's memory")
    }

    func testAResponseThatIsNotJSONIsGarbage() throws {
        try assertFails(WasmPluginTests.module("(i64.const 15)", extra: #"(data (i32.const 0) "not JSON at all")"#), failure: "garbage",
                        reasonStart: "garbage: the plugin wrote something that is not JSON")
    }

    func testAResponseToAnotherRequestIsGarbage() throws {
        try assertFails(WasmPluginTests.module("(i64.const 38)", extra: #"(data (i32.const 0) "{\"jsonrpc\":\"2.0\",\"result\":{},\"id\":999}")"#),
                        failure: "garbage", reasonStart: "garbage: the plugin answered with something that is not a response to request")
    }

    func testAResponseThatIsNotUTF8IsGarbage() throws {
        try assertFails(WasmPluginTests.module("(i64.const 4)", extra: #"(data (i32.const 0) "\ff\fe\fd\fc")"#), failure: "garbage",
                        reasonStart: "garbage: the response is not UTF-8")
    }

    func testAnAllocatorOutsideMemoryIsGarbage() throws {
        let wat = """
            (module
              (memory (export "memory") 1)
              (func (export "twospeed_alloc") (param $n i32) (result i32) (i32.const 65530))
              (func (export "twospeed_call") (param $p i32) (param $n i32) (result i64) (i64.const 0)))
            """
        try assertFails(wat, failure: "garbage", reasonStart: "garbage: twospeed_alloc(")
    }

    func testAResponseTooLargeFails() throws {
        try assertFails(WasmPluginTests.module("(i64.const 2000)"), limits: #"{"responseBytes": 1024}"#, failure: "too-large",
                        reasonStart: "response too large: 2000 bytes, over the limit of 1024")
    }

    // MARK: Failures at load time: refused with the reason, nothing loaded

    func assertRefused(_ wat: String?, bytes: [UInt8]? = nil, limits: String? = nil, grants: [String] = [], reason: String,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let engine = try engineWithExample()
        let manifest = try wasmPlugin("refused", wat ?? "(module)", limits: limits, grants: grants)
        if let bytes {
            let f = fopen(String(manifest.dropLast("plugin.json".count)) + "module.wasm", "wb")!
            _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
            fclose(f)
        }
        let r = load(engine, manifest)
        XCTAssertEqual(r.code, -32602, r.text, file: file, line: line)
        XCTAssertEqual(r.pointers, ["/path"], r.text, file: file, line: line)
        let got = r.error?["data"]?["errors"]?[0]?["reason"]?.stringValue ?? ""
        XCTAssertTrue(got.hasPrefix(reason), got, file: file, line: line)
        XCTAssertNil(engine.plugins.plugin("refused"), file: file, line: line)
        assertHostAnswers(engine, file: file, line: line)
    }

    func testAFileThatIsNotWasmIsRefused() throws {
        try assertRefused(nil, bytes: Array("#!/bin/sh\necho hi\n".utf8), reason: "")
        try assertRefused(nil, bytes: Array("#!/bin/sh\n".utf8), reason: "")
    }

    func testInvalidCodeIsRefusedAtLoad() throws {
        // twospeed_call leaves an i32 where it promises an i64.
        try assertRefused(WasmPluginTests.module("(i32.const 0)"), reason: "the module is not valid WebAssembly: ")
    }

    func testWASINeedsItsGrantAndNothingElseIsOffered() throws {
        let wat = WasmPluginTests.module("(i64.const 0)", extra: #"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))"#)
        try assertRefused(wat, reason: "the module imports wasi_snapshot_preview1.fd_write, which the manifest does not grant (\"grants\": [\"wasi\"])")
        let env = WasmPluginTests.module("(i64.const 0)", extra: #"(import "env" "abort" (func (param i32)))"#)
        try assertRefused(env, reason: "the module imports env.abort; this host offers only twospeed.log, twospeed.engine_call and, when granted, WASI preview 1")
        // A WASI function whose type the host cannot answer (no errno to return).
        let odd = WasmPluginTests.module("(i64.const 0)", extra: #"(import "wasi_snapshot_preview1" "sock_magic" (func (param i32)))"#)
        try assertRefused(odd, grants: ["wasi"], reason: "the module imports wasi_snapshot_preview1.sock_magic with a type this host cannot answer")
    }

    /// A module that writes to stdout, asks for the clock and random bytes and opens a file; its response
    /// (to the plugin's first request, id 1) carries the three errno values as two digits each.
    static func wasiModule() -> (wat: String, length: Int) {
        let template = #"{"jsonrpc":"2.0","result":{"clock":"CC","random":"RR","open":"OO"},"id":1}"#
        let at = { (mark: String) in template.utf8.count - template.components(separatedBy: mark)[1].utf8.count - 2 }
        let escaped = template.replacingOccurrences(of: "\"", with: "\\\"")
        let wat = module("""
            (drop (call $fd_write (i32.const 1) (i32.const 512) (i32.const 1) (i32.const 520)))
            (call $put (i32.const \(at("CC"))) (call $clock (i32.const 0) (i64.const 1) (i32.const 528)))
            (call $put (i32.const \(at("RR"))) (call $random (i32.const 544) (i32.const 16)))
            (call $put (i32.const \(at("OO"))) (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
                                                     (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))
            (i64.const \(template.utf8.count))
            """, extra: """
            (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
            (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
            (data (i32.const 0) "\(escaped)")
            (data (i32.const 512) "\\58\\02\\00\\00\\10\\00\\00\\00")
            (data (i32.const 600) "hello from wasi\\n")
            (func $put (param $at i32) (param $errno i32)
              (i32.store8 (local.get $at) (i32.add (i32.const 48) (i32.div_u (local.get $errno) (i32.const 10))))
              (i32.store8 (i32.add (local.get $at) (i32.const 1)) (i32.add (i32.const 48) (i32.rem_u (local.get $errno) (i32.const 10)))))
            """)
        return (wat, template.utf8.count)
    }

    func testWASIOffersOnlyWhatIsGranted() throws {
        let engine = try engineWithExample()
        XCTAssertNotNil(load(engine, try wasmPlugin("wasi", WasmPluginTests.wasiModule().wat, grants: ["wasi"])).result)
        let r = engine.request("plugin.call", #"{"plugin":"wasi","method":"check.run","params":{}}"#)
        // No clock and no random bytes without their grants (ENOTCAPABLE), no file ever (ENOSYS).
        XCTAssertEqual(r.result?["clock"]?.stringValue, "76", r.text)
        XCTAssertEqual(r.result?["random"]?.stringValue, "76", r.text)
        XCTAssertEqual(r.result?["open"]?.stringValue, "52", r.text)
        XCTAssertEqual(wasmInfo(engine, "wasi")?["usage"]?["log"]?.elements.last?.stringValue, "hello from wasi")
        XCTAssertNotNil(load(engine, try wasmPlugin("wasi-clock", WasmPluginTests.wasiModule().wat, grants: ["wasi", "clock", "random"])).result)
        let granted = engine.request("plugin.call", #"{"plugin":"wasi-clock","method":"check.run","params":{}}"#)
        XCTAssertEqual(granted.result?["clock"]?.stringValue, "00", granted.text)
        XCTAssertEqual(granted.result?["random"]?.stringValue, "00", granted.text)
        XCTAssertEqual(granted.result?["open"]?.stringValue, "52", granted.text)
        let alone = try wasmPlugin("clock-alone", WasmPluginTests.wasiModule().wat, grants: ["clock"])
        XCTAssertEqual(load(engine, alone).pointers, ["/grants/0"])
        assertHostAnswers(engine)
    }

    func testProcExitFails() throws {
        try assertFails(WasmPluginTests.module("(call $exit (i32.const 3)) (i64.const 0)",
                                               extra: #"(import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))"#),
                        grants: ["wasi"], failure: "trap", reasonStart: "trap: the module exited (proc_exit) with status 3")
    }

    func testEngineCallNeedsItsGrant() throws {
        let wat = WasmPluginTests.module("(i64.const 0)", extra: #"(import "twospeed" "engine_call" (func (param i32 i32) (result i64)))"#)
        try assertRefused(wat, reason: "the module imports twospeed.engine_call, which the manifest does not grant (\"grants\": [\"engine\"])")
    }

    func testAModuleWithoutTheEntryPointIsRefused() throws {
        try assertRefused(#"(module (memory (export "memory") 1))"#, reason: "the module exports no twospeed_alloc(i32) -> i32")
        try assertRefused(#"(module (func (export "twospeed_call") (param i32 i32) (result i64) (i64.const 0)))"#,
                          reason: "the module exports no memory named \"memory\"")
    }

    func testAStartFunctionThatLoopsIsStoppedAtLoad() throws {
        try assertRefused(WasmPluginTests.module("(i64.const 0)", extra: "(func $spin (loop $l (br $l))) (start $spin)"),
                          limits: #"{"fuel": 100000}"#, reason: "out of fuel: the module used all 100000 units of its fuel (limits.fuel) during instantiating the module")
    }

    func testMoreInitialMemoryThanTheLimitIsRefused() throws {
        try assertRefused(WasmPluginTests.module("(i64.const 0)", memory: 64), limits: #"{"memoryPages": 16}"#,
                          reason: "memory limit: the module asked for 64 pages of 64 KiB, over its limit of 16")
    }

    // MARK: Tables are held to the memory budget

    /// The table bomb of issue 25: 64 tables of a million entries each held +489 MiB in one call. It is
    /// refused at load, by the budget, before the third table is made.
    func testTheTableBombIsRefusedAtLoad() throws {
        let started = now()
        try assertRefused(WasmPluginTests.module("(i64.const 0)", extra: String(repeating: "(table 1000000 funcref) ", count: 64)),
                          // Tables are made before the memory: the third million-entry table is over 16 MiB.
                          reason: "memory limit: its tables ask for 3000000 entries (24000000 bytes), which with its 0 bytes of memory "
                              + "exceed its budget of 256 pages of 64 KiB (limits.memoryPages), during instantiating the module")
        XCTAssertLessThan(now() - started, 5)
    }

    func testMoreThanFourTablesAreRefusedAtLoad() throws {
        try assertRefused(WasmPluginTests.module("(i64.const 0)", extra: String(repeating: "(table 10 funcref) ", count: 5)),
                          reason: "memory limit: the module has more than 4 tables, during instantiating the module")
    }

    /// One table counts against the manifest's own budget: a million entries (8 MB) is over 16 pages (1 MiB).
    func testOneLargeTableCountsAgainstTheMemoryLimit() throws {
        try assertRefused(WasmPluginTests.module("(i64.const 0)", extra: "(table 1000000 funcref)"), limits: #"{"memoryPages": 16}"#,
                          reason: "memory limit: its tables ask for 1000000 entries")
    }

    /// table.grow during a call is held to the same budget, and fails the call like memory.grow past it.
    func testGrowingATablePastTheBudgetFails() throws {
        try assertFails(WasmPluginTests.module("(drop (table.grow $t (ref.null func) (i32.const 1000000))) (i64.const 0)",
                                               extra: "(table $t 1 funcref)"),
                        limits: #"{"memoryPages": 16}"#, failure: "memory", reasonStart: "memory limit: its tables ask for 1000001 entries")
    }

    /// The near miss: four tables within the budget, and one grown within it, load and answer.
    func testTablesWithinTheLimitsWork() throws {
        let engine = try engineWithExample()
        // table.grow answers the old size (10) when it succeeds and -1 when refused; the call traps unless it is 10.
        let wat = WasmPluginTests.module("""
            (if (i32.ne (table.grow $t (ref.null func) (i32.const 1000)) (i32.const 10)) (then unreachable))
            (i64.const 15)
            """, extra: #"(table $t 10 funcref) (table 100 funcref) (table 100 funcref) (table 10000 funcref) (data (i32.const 0) "not JSON at all")"#)
        XCTAssertNotNil(load(engine, try wasmPlugin("tables", wat)).result)
        let r = engine.request("plugin.call", #"{"plugin":"tables","method":"check.run","params":{"portfolio":{}}}"#)
        // It ran to its end: what it answered is no response (garbage), not a trap or the memory limit.
        XCTAssertEqual(r.error?["data"]?["failure"]?.stringValue, "garbage", r.text)
    }

    func testManifestLimitsAreChecked() throws {
        let engine = try Engine(path: nil)
        let bad = try wasmPlugin("limits", WasmPluginTests.module("(i64.const 0)"), limits: #"{"fuel": 0, "memoryPages": 70000, "cpu": 1}"#)
        let r = load(engine, bad)
        XCTAssertEqual(r.code, -32602, r.text)
        XCTAssertEqual(Set(r.pointers), ["/limits/fuel", "/limits/memoryPages", "/limits/cpu"], r.text)
        let grants = try wasmPlugin("grants", WasmPluginTests.module("(i64.const 0)"), grants: ["filesystem"])
        XCTAssertEqual(load(engine, grants).pointers, ["/grants/0"])
        let dir = temporaryDirectory()
        writeFile(dir + "/plugin.json", """
            {"name": "p", "version": "1", "kind": "process", "path": "/bin/cat", "extensionPoints": ["check"], "limits": {"fuel": 5000}, "grants": ["engine"]}
            """)
        XCTAssertEqual(Set(load(engine, dir + "/plugin.json").pointers), ["/limits", "/grants"])
    }

    // MARK: Host functions

    /// A module that passes each request on to the engine as it is, and answers with the engine's response.
    static let proxy = module("""
        (call $log (i32.const 16) (i32.const 20))
        (call $engine (local.get $p) (local.get $n))
        """, extra: """
        (import "twospeed" "engine_call" (func $engine (param i32 i32) (result i64)))
        (import "twospeed" "log" (func $log (param i32 i32)))
        (data (i32.const 16) "passing on a request")
        """, memory: 4)

    func testEngineCallReadsAndCannotWriteOrNest() throws {
        let engine = try engineWithExample()
        XCTAssertNotNil(load(engine, try wasmPlugin("proxy", WasmPluginTests.proxy, grants: ["engine"],
                                                    points: #"["check", "render"], "formats": ["proxy"]"#)).result)
        // The plugin's request (engine.info, with the host's id) goes to the engine; its answer comes back.
        let info = engine.request("plugin.call", #"{"plugin":"proxy","method":"engine.info"}"#)
        XCTAssertEqual(info.result?["version"]?.stringValue, Engine.version, info.text)
        let got = engine.request("plugin.call", #"{"plugin":"proxy","method":"portfolio.get","params":{"id":"state-bank"}}"#)
        XCTAssertEqual(got.result?["portfolio"]?["id"]?.stringValue, "state-bank", got.text)
        // Read-only: a change is refused with the engine's -32004, which the plugin passes on as its answer.
        let delete = engine.request("plugin.call", #"{"plugin":"proxy","method":"portfolio.delete","params":{"id":"state-bank"}}"#)
        XCTAssertEqual(delete.code, -32006, delete.text)
        XCTAssertEqual(delete.error?["data"]?["pluginError"]?["code"]?.int, -32004, delete.text)
        XCTAssertNotNil(engine.request("portfolio.get", #"{"id":"state-bank"}"#).result)
        XCTAssertEqual(engine.request("plugin.call", #"{"plugin":"proxy","method":"plugin.call","params":{"plugin":"proxy","method":"engine.info"}}"#)
                        .error?["data"]?["pluginError"]?["code"]?.int, -32004)
        // A plugin called from an engine call cannot call the engine again: report.render reads, and
        // calls the proxy as its renderer, which passes that request on to the engine in turn.
        let nested = engine.request("plugin.call", #"{"plugin":"proxy","method":"report.render","params":{"portfolio":"state-bank","format":"proxy"}}"#)
        XCTAssertEqual(nested.code, -32006, nested.text)
        XCTAssertTrue(nested.text.contains("an engine call from a plugin called from an engine call is refused"), nested.text)
        // During an assessment (a check plugin's call) the engine holds no lock the plugin's engine call
        // needs: the proxy passes check.run on, and the engine's -32601 comes back as its answer.
        let run = engine.request("assessment.run", #"{"portfolio":"state-bank","keep":false}"#)
        XCTAssertEqual(run.error?["data"]?["pluginError"]?["code"]?.int, -32601, run.text)
        XCTAssertEqual(wasmInfo(engine, "proxy")?["usage"]?["log"]?.elements.last?.stringValue, "passing on a request")
        XCTAssertEqual(wasmInfo(engine, "proxy")?["grants"]?.elements.map { $0.stringValue ?? "" }, ["engine"])
        assertHostAnswers(engine)
    }

    // MARK: Threads

    /// Calls from several threads at once, some to a plugin that runs out of fuel: every healthy call
    /// answers correctly, and plugin.list counts them all.
    func testCallsFromSeveralThreads() throws {
        let engine = try engineWithExample()
        XCTAssertNotNil(load(engine, try wasmPlugin("spin", WasmPluginTests.module("(loop $l (br $l)) (i64.const 0)"),
                                                    limits: #"{"fuel": 200000}"#)).result)
        let bank = readFile(repoRoot + "/examples/portfolios/bank.json")
        let wrong = Locked(0)
        let perThread = 10
        DispatchQueue.concurrentPerform(iterations: 5) { t in
            for _ in 0..<perThread {
                if t == 4 {
                    if engine.request("plugin.call", #"{"plugin":"spin","method":"check.run","params":{}}"#).error?["data"]?["failure"]?.stringValue != "fuel" {
                        wrong.write { $0 += 1 }
                    }
                } else {
                    let r = engine.request("plugin.call", "{\"plugin\":\"team-size-check-wasm\",\"method\":\"check.run\",\"params\":{\"portfolio\":\(bank)}}")
                    if r.result?["findings"]?[0]?["subjects"]?[0]?["id"]?.stringValue != "team-it-portal" { wrong.write { $0 += 1 } }
                }
            }
        }
        XCTAssertEqual(wrong.read { $0 }, 0)
        let usage = wasmInfo(engine, "team-size-check-wasm")?["usage"]
        XCTAssertEqual(usage?["calls"]?.int, 4 * perThread)
        XCTAssertEqual(usage?["traps"]?.int, 0)
        XCTAssertLessThanOrEqual(usage?["pooled"]?.int ?? 99, 4)
        XCTAssertEqual(wasmInfo(engine, "spin")?["usage"]?["failures"]?["fuel"]?.int, perThread)
        assertHostAnswers(engine)
    }

    func testUnloadStopsCalls() throws {
        let engine = try engineWithExample()
        XCTAssertNotNil(engine.request("plugin.unload", #"{"name":"team-size-check-wasm"}"#).result)
        XCTAssertEqual(engine.request("plugin.call", #"{"plugin":"team-size-check-wasm","method":"plugin.ping"}"#).code, -32000)
    }
}

private func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

private extension JSONRef {
    var int: Int? { intValue.map { Int($0) } }
}
