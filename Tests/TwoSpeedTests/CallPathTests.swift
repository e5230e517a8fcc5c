import Dispatch
import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedModel
@testable import TwoSpeedRPC
import TwoSpeedSync

/// What the cheaper call path (issue 25, "no worse") must keep: counts by kind in a table indexed by
/// `EntityKind.ordinal`, params pointers worked out once per method, the unknown-param scan skipped when
/// every member is a declared param, and one empty params object shared by the calls that give none.
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
}
