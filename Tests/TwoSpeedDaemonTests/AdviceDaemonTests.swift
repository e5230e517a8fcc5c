import Glibc
import TwoSpeedClient
import TwoSpeedJSON
import XCTest

/// The advice methods through twospeedd (issue 23): a dismissal records the peer the kernel names, and a
/// read-only peer may read the history but not dismiss, reopen or write a campaign.
final class AdviceDaemonTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDir() }
    override func tearDown() { removeTree(dir) }

    func params(_ text: String) -> JSONRef { json(text) }

    func testADismissalThroughTheDaemonNamesThePeer() throws {
        let d = try DaemonProcess(dir: dir)
        let client = try TwoSpeedClient(socketPath: d.socket)
        let doc = json(readText(repoRoot + "/examples/portfolios/retailer.json"))
        _ = try client.putPortfolio(document: doc)
        doc.release()
        let run = try client.callJSON("assessment.run", params: params(#"{"portfolio":"retailer"}"#))
        let key = run["recommendations"]![0]!["key"]!.stringValue!
        run.release()
        let r = try client.callJSON("recommendation.dismiss", params: params(#"{"portfolio":"retailer","key":"\#(key)","reason":"later"}"#))
        XCTAssertEqual(r["by"]?.stringValue, "uid \(getuid())")
        r.release()
        XCTAssertEqual(d.stop(), 0)

        // The same store, the same peer, read-only: the history reads, the writes are refused.
        let ro = try DaemonProcess(dir: dir, db: d.db, args: ["--read-only-uid", "\(getuid())"])
        let reader = try TwoSpeedClient(socketPath: ro.socket)
        let h = try reader.callJSON("recommendation.history", params: params(#"{"portfolio":"retailer"}"#))
        let entry = h["advice"]!.elements.first { $0["key"]?.stringValue == key }
        XCTAssertEqual(entry?["dismissal"]?["by"]?.stringValue, "uid \(getuid())")
        h.release()
        for (method, p) in [("recommendation.reopen", #"{"portfolio":"retailer","key":"\#(key)"}"#),
                            ("recommendation.dismiss", #"{"portfolio":"retailer","key":"\#(key)","reason":"x"}"#),
                            ("campaign.delete", #"{"portfolio":"retailer","id":"c"}"#)] {
            do {
                _ = try reader.callJSON(method, params: params(p))
                XCTFail("a read-only peer called \(method)")
            } catch let e as RPCCallError {
                XCTAssertEqual(e.code, -32004, method)
            }
        }
        XCTAssertEqual(ro.stop(), 0)
    }
}
