import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedRPC

/// recommendation.history up to a kept run.
extension AdviceTests {
    /// Run 1 gives the store locator's advice, it is fixed and run 2 resolves it, then it is dismissed...
    /// up to run 1 the history is what it was at run 1: one run, the advice open, no dismissal.
    func testHistoryUpToARunIsTheHistoryAsItStoodThen() throws {
        let e = try retailer()
        let first = keys(ok(e, "assessment.run", #"{"portfolio":"retailer"}"#))[0]
        let atOne = JSONText.dump(ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#))
        fixStoreLocator(e)
        let run2 = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        let other = keys(run2)[0]
        _ = ok(e, "recommendation.dismiss", #"{"portfolio":"retailer","key":"\#(other)","reason":"later"}"#)
        _ = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)

        let upTo1 = ok(e, "recommendation.history", #"{"portfolio":"retailer","upToRun":1}"#)
        conforms(e, "recommendation.history", upTo1)
        XCTAssertEqual(JSONText.dump(upTo1), atOne, "up to run 1 is the history as it was read at run 1")
        let upTo2 = ok(e, "recommendation.history", #"{"portfolio":"retailer","upToRun":2}"#)
        XCTAssertEqual(upTo2["runs"]?.elements.map { $0["run"]!.intValue! }, [1, 2])
        XCTAssertEqual(statuses(entries(upTo2)[first]), ["open", "resolved"])
        XCTAssertEqual(entries(upTo2)[other]?["status"]?.stringValue, "open", "dismissed after run 2 was kept")
        let now = ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)
        XCTAssertEqual(entries(now)[other]?["status"]?.stringValue, "dismissed")
        XCTAssertEqual(JSONText.dump(ok(e, "recommendation.history", #"{"portfolio":"retailer","upToRun":3}"#)), JSONText.dump(now))

        // A run that is not kept, and a bad value: pointed at.
        let missing = e.request("recommendation.history", #"{"portfolio":"retailer","upToRun":9}"#)
        XCTAssertEqual(missing.code, ErrorCode.notFound.rawValue, missing.text)
        XCTAssertEqual(missing.pointer, "/upToRun")
        for bad in ["0", "\"1\"", "1.5", "-3"] {
            let r = e.request("recommendation.history", #"{"portfolio":"retailer","upToRun":\#(bad)}"#)
            XCTAssertEqual(r.code, ErrorCode.invalidParams.rawValue, "\(bad): \(r.text)")
            XCTAssertEqual(r.pointer, "/upToRun", bad)
        }
    }
}
