import CJansson
import Dispatch
import Glibc
import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedModel
@testable import TwoSpeedRPC
import TwoSpeedSync

/// What the cheaper call path (issue 25, "no worse") must keep: counts by kind in a table indexed by
/// `EntityKind.ordinal`, params pointers worked out once per method, the unknown-param scan skipped when
/// every member is a declared param, one empty params object shared by the calls that give none, and a
/// result's reply text written without its envelope object (twospeed_call's and twospeedd's paths).
final class CallPathTests: XCTestCase {
    var engine: Engine!

    override func setUpWithError() throws {
        engine = try Engine(path: nil)
        let r = engine.request("portfolio.put", "{\"portfolio\":\(retailerText)}")
        XCTAssertNotNil(r.result, r.text)
    }

    func testOrdinalsAndCollectionsFollowTheRegistry() {
        for (i, kind) in EntityKind.allCases.enumerated() {
            XCTAssertEqual(kind.ordinal, i, "\(kind)")
            XCTAssertEqual(kind.collection, EntityKind.registry[kind]!.pointer.last!, "\(kind)")
        }
    }

    func testCountsAddKindByKind() throws {
        var a = Counts(), b = Counts()
        for (i, kind) in EntityKind.allCases.enumerated() {
            a[kind] = i + 1
            b[kind] = 100 * (i + 1)
        }
        a.observations = 3
        b.observations = 40
        let sum = a + b
        for (i, kind) in EntityKind.allCases.enumerated() { XCTAssertEqual(sum[kind], 101 * (i + 1), "\(kind)") }
        XCTAssertEqual(sum.observations, 43)
        var c = a
        c += b
        XCTAssertEqual(c, sum)
        XCTAssertNotEqual(a, sum)
        // A kind set to zero is the same count as one never set.
        var zero = Counts()
        zero[.team] = 0
        XCTAssertEqual(zero, Counts())

        // Its JSON: every member of Counts.members, in order, with its kind's count.
        let json = JSON(adopting: sum.json)
        XCTAssertEqual(json.keys, Counts.members)
        for (i, kind) in EntityKind.allCases.enumerated() { XCTAssertEqual(json[kind.collection]?.intValue, Int64(101 * (i + 1))) }
        XCTAssertEqual(json["observations"]?.intValue, 43)
        XCTAssertEqual(try json.decode(Counts.self), sum)
    }

    /// engine.info's counts are the sum of every portfolio's, as portfolio.list gives them.
    func testEngineInfoCountsAreTheSumOfThePortfolios() throws {
        let put = engine.request("portfolio.put", "{\"portfolio\":\(readFile(repoRoot + "/examples/portfolios/bank.json"))}")
        XCTAssertNotNil(put.result, put.text)
        let list = engine.request("portfolio.list")
        let portfolios = try XCTUnwrap(list.result?["portfolios"]?.elements)
        XCTAssertEqual(portfolios.count, 2)
        let info = try XCTUnwrap(engine.request("engine.info").result?["counts"])
        for member in Counts.members {
            let sum = portfolios.reduce(Int64(0)) { $0 + ($1["counts"]?[member]?.intValue ?? -1_000_000) }
            XCTAssertEqual(info[member]?.intValue, sum, member)
        }
        // Against the documents themselves, not only the engine's own lists.
        let teams = ["retailer", "bank"].map { name in
            let doc = parse(readFile(repoRoot + "/examples/portfolios/\(name).json"))
            return Int64(doc["teams"]?.count ?? 0)
        }
        XCTAssertGreaterThan(teams[1], 0)
        XCTAssertEqual(info["teams"]?.intValue, teams[0] + teams[1])
    }

    /// Pointers come from the table worked out once: by name, by position, and for unknown params
    /// whether or not a declared one is missing beside them.
    func testParamsPointers() {
        XCTAssertEqual(engine.request("entity.get", "{}").pointers, ["/portfolio", "/kind", "/id"])
        XCTAssertEqual(engine.request("entity.get", #"{"portfolio":"retailer","kind":7,"id":"checkout"}"#).pointer, "/kind")
        XCTAssertEqual(engine.request("entity.get", #"["retailer",7,"checkout"]"#).pointer, "/1")
        XCTAssertEqual(engine.request("entity.get", #"["retailer"]"#).pointers, ["/1", "/2"])
        // Every declared param given, and one more: the scan for unknown ones runs.
        XCTAssertEqual(engine.request("entity.get", #"{"portfolio":"retailer","kind":"product","id":"checkout","x":1}"#).pointers, ["/x"])
        // The near miss: as many members as declared params, one of them unknown and one declared missing.
        XCTAssertEqual(Set(engine.request("entity.get", #"{"portfolio":"retailer","kind":"product","zzz":1}"#).pointers), ["/id", "/zzz"])
        XCTAssertEqual(engine.request("engine.info", #"{"verbose":true}"#).pointer, "/verbose")
        // All declared, nothing else: answered.
        XCTAssertEqual(engine.request("entity.get", #"{"portfolio":"retailer","kind":"product","id":"checkout"}"#).result?["entity"]?["id"]?.stringValue, "checkout")
    }

    /// Calls that give no params read one shared empty object, from many threads at once; it stays empty
    /// and every reply is right.
    func testTheSharedEmptyParamsStayEmptyUnderConcurrentCalls() throws {
        let none = try XCTUnwrap(Dispatcher.noParams)
        let engine = self.engine!
        let failures = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for i in 0..<200 {
                let (method, check): (String, (Response) -> Bool) = switch (t + i) % 4 {
                case 0: ("engine.info", { $0.result?["portfolios"]?.intValue == 1 })
                case 1: ("portfolio.list", { $0.result?["portfolios"]?.count == 1 })
                case 2: ("portfolio.get", { $0.pointers == ["/id"] })
                default: ("entity.get", { $0.pointers == ["/portfolio", "/kind", "/id"] })
                }
                let r = engine.request(method, id: i)
                if !check(r) || r.id?.intValue != Int64(i) { failures.write { $0 += 1 } }
            }
        }
        XCTAssertEqual(failures.read { $0 }, 0)
        XCTAssertTrue(none.isObject)
        XCTAssertEqual(none.count, 0)
    }

    /// The C ABI's text (`handle(text:)`, which writes a result's reply around it) is byte for byte the
    /// dump of the reply `respond(text:)` builds, whatever the id and the reals: the digits of reals come
    /// from the result and the id together (the near miss: an id that needs 17 digits beside a result
    /// that needs 15).
    func testTheReplyTextIsTheDumpOfTheReply() throws {
        let observe = engine.request("metric.observe", #"{"portfolio":"retailer","metric":"nps","observations":[{"at":"2026-11-02","value":0.30000000000000004}]}"#)
        XCTAssertNotNil(observe.result, observe.text)
        let ids = ["1", "-7", "12345678901234", "1.5", "0.30000000000000004", "null", #""a\"b\\c\u00e9\n\u0000""#, #""""#]
        let calls = [#""method":"engine.info""#, #""method":"portfolio.list""#,
                     #""method":"entity.get","params":{"portfolio":"retailer","kind":"product","id":"checkout"}"#,
                     #""method":"entity.get","params":["retailer","metric","nps"]"#,
                     #""method":"entity.get","params":{"portfolio":"retailer","kind":"product","id":"none"}"#,
                     #""method":"no.such""#]
        var compared = 0
        for id in ids {
            for call in calls {
                let request = #"{"jsonrpc":"2.0","# + call + #","id":"# + id + "}"
                try compare(request)
                compared += 1
            }
        }
        XCTAssertEqual(compared, ids.count * calls.count)
        // The real that needs 17 digits is there, and printed with them.
        let metric = try XCTUnwrap(text(of: #"{"jsonrpc":"2.0","method":"entity.get","params":["retailer","metric","nps"],"id":1}"#))
        XCTAssertTrue(metric.contains("0.30000000000000004"), metric)
        let info = try XCTUnwrap(text(of: #"{"jsonrpc":"2.0","method":"engine.info","id":0.30000000000000004}"#))
        XCTAssertTrue(info.hasSuffix(#","id":0.30000000000000004}"#), info)
        // Batches, notifications and text that is not JSON take the other path; the same holds.
        try compare(#"[{"jsonrpc":"2.0","method":"engine.info","id":1},{"jsonrpc":"2.0","method":"no.such","id":2}]"#)
        try compare(#"{"jsonrpc":"2.0","method":"#)
        XCTAssertEqual(text(of: #"{"jsonrpc":"2.0","method":"engine.info"}"#), "")
    }

    private func text(of request: String) -> String? {
        var t = request
        guard let c = t.withUTF8({ engine.dispatcher.handle(text: UnsafeRawBufferPointer($0)) }) else { return "" }
        defer { JSONText.janssonFree(c) }
        return String(cString: c)
    }

    /// The reply as twospeedd writes it: `reply(to:)`, and a result written by `dumpResult` (through a
    /// small stage, so that it passes on many blocks); the "out of memory" reply when that fails.
    private func written(_ request: String) -> String? {
        let parsed: JSON
        do {
            guard case .success(let p) = try JSON.parse(request) else { return nil }
            parsed = p
        } catch { return Dispatcher.outOfMemoryText }
        return withExtendedLifetime(parsed) { () -> String in
            switch engine.dispatcher.reply(to: parsed.view) {
            case .none: return ""
            case .response(let r): return r.text()
            case .result(let result, let id, _):
                var bytes: [UInt8] = []
                guard JSONText.dumpResult(result.view, id: id, blockSize: 64, { bytes.append(contentsOf: $0) }) else {
                    return Dispatcher.outOfMemoryText
                }
                return String(decoding: bytes, as: UTF8.self)
            }
        }
    }

    private func compare(_ request: String, file: StaticString = #filePath, line: UInt = #line) throws {
        var t = request
        let built = t.withUTF8 { engine.dispatcher.respond(text: UnsafeRawBufferPointer($0)) }
        let expected = built?.text() ?? ""
        XCTAssertEqual(text(of: request), expected, request, file: file, line: line)
        if let daemons = written(request) { XCTAssertEqual(daemons, expected, request, file: file, line: line) }
    }

    /// An allocation failing anywhere in twospeed_call's path, the reply's own buffer included, answers
    /// -32603 "out of memory" and never a reply with a piece missing; the engine then answers normally.
    func testEveryFailedAllocationOnTheTextPathAnswersOutOfMemory() throws {
        let requests = [#"{"jsonrpc":"2.0","method":"engine.info","id":"x"}"#,
                        #"{"jsonrpc":"2.0","method":"entity.get","params":{"portfolio":"retailer","kind":"product","id":"checkout"},"id":2}"#,
                        // A reply of many kilobytes: its buffer grows while jansson writes into it, and
                        // jansson drops an object's key it could not write and carries on.
                        #"{"jsonrpc":"2.0","method":"entity.list","params":{"portfolio":"retailer","kind":"system"},"id":3}"#]
        for request in requests {
            let normal = try XCTUnwrap(text(of: request))
            // How many allocations one call makes.
            installCountingAllocator(failing: Int.max)
            _ = text(of: request)
            let total = allocationCount
            restoreAllocator()
            XCTAssertGreaterThan(total, 5)
            var outOfMemory = 0
            for n in 1...(total + 2) {
                installCountingAllocator(failing: n)
                let reply = text(of: request)
                restoreAllocator()
                let r = try XCTUnwrap(reply, "\(n)")
                if r == normal { continue }
                outOfMemory += 1
                XCTAssertTrue(r.contains(#""code":-32603"#) && r.contains("out of memory"), "allocation \(n) of \(total): \(r)")
                XCTAssertEqual(text(of: request), normal, "after allocation \(n)")
            }
            // Every allocation the call makes is one whose failure is answered (the last two: none to fail).
            XCTAssertEqual(outOfMemory, total, request)

            // The same through twospeedd's path (reply(to:), then dumpResult).
            XCTAssertEqual(written(request), normal)
            installCountingAllocator(failing: Int.max)
            _ = written(request)
            let daemonTotal = allocationCount
            restoreAllocator()
            for n in 1...(daemonTotal + 2) {
                installCountingAllocator(failing: n)
                let reply = written(request)
                restoreAllocator()
                let r = try XCTUnwrap(reply, "\(n)")
                if r == normal { XCTAssertGreaterThan(n, daemonTotal, "allocation \(n) failed and the reply is whole"); continue }
                XCTAssertTrue(r.contains(#""code":-32603"#) && r.contains("out of memory"), "allocation \(n) of \(daemonTotal): \(r)")
            }
        }
    }
}

// jansson's allocator, replaced for one test: it counts allocations and fails the Nth. C function
// pointers capture nothing, so the state is global; XCTest runs one test at a time.
nonisolated(unsafe) private var allocationCount = 0
nonisolated(unsafe) private var failingAt = Int.max

private func installCountingAllocator(failing n: Int) {
    allocationCount = 0
    failingAt = n
    json_set_alloc_funcs({ size in
        allocationCount += 1
        return allocationCount == failingAt ? nil : malloc(size)
    }, { free($0) })
    // The engine counts failures through a wrapper of the allocator it finds: it wraps this one now.
    JSONAllocation.countFailures()
}

private func restoreAllocator() {
    json_set_alloc_funcs({ malloc($0) }, { free($0) })
    JSONAllocation.countFailures()
}
