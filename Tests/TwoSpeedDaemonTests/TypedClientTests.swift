import Glibc
import TwoSpeedAssessment
import TwoSpeedClient
import TwoSpeedContract
import TwoSpeedJSON
import TwoSpeedModel
import XCTest

/// The Swift client's one typed call (issue 25): every method by its spec, its params struct in, its
/// result type out. Here the advice and campaign methods, which had no typed helper, through a real
/// twospeedd over its socket.
final class TypedClientTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDir() }
    override func tearDown() { removeTree(dir) }

    func testAdviceAndCampaignMethodsAreCallableTyped() throws {
        let d = try DaemonProcess(dir: dir)
        let client = try TwoSpeedClient(socketPath: d.socket)
        let portfolio = try JanssonDecoder().decode(Portfolio.self, from: readText(repoRoot + "/examples/portfolios/retailer.json"))
        let put = try client.call(Contract.portfolioPut, encoding: PutParams(portfolio: portfolio))
        XCTAssertEqual(put.id, "retailer")
        XCTAssertEqual(try client.call(Contract.engineInfo).portfolios, 1)

        let run = try client.call(Contract.assessmentRun, AssessmentRunParams(portfolio: "retailer", prioritization: .rice))
        let key = try XCTUnwrap(run.recommendations.first?.key)
        let history = try client.call(Contract.recommendationHistory, AdviceHistoryParams(portfolio: "retailer"))
        XCTAssertEqual(history.runs.map(\.run), [run.run].compactMap { $0 })
        XCTAssertTrue(history.advice.contains { $0.key == key })

        let dismissed = try client.call(Contract.recommendationDismiss, DismissParams(portfolio: "retailer", key: key, reason: "later"))
        XCTAssertEqual(dismissed.by, "uid \(getuid())")
        XCTAssertEqual(dismissed.revision, 1)
        let after = try client.call(Contract.recommendationHistory, AdviceHistoryParams(portfolio: "retailer"))
        XCTAssertEqual(after.advice.first { $0.key == key }?.dismissal?.reason, "later")
        // The row is at revision 1: asking for 0 is refused with the engine's code, typed.
        XCTAssertThrowsError(try client.call(Contract.recommendationReopen, ReopenParams(portfolio: "retailer", key: key, ifRevision: 0))) { e in
            XCTAssertEqual((e as? RPCCallError)?.errorCode, .revisionMismatch, "\(e)")
        }
        XCTAssertEqual(try client.call(Contract.recommendationReopen, ReopenParams(portfolio: "retailer", key: key, ifRevision: 1)).reopened, true)
        let outcomes = try client.call(Contract.recommendationOutcomes, PortfolioParams(portfolio: "retailer"))
        XCTAssertEqual(outcomes.portfolio, "retailer")

        let campaign = try JanssonDecoder().decode(Campaign.self, from: #"{"id":"integrate","name":"Integrate what we bought","owner":"pm-front","start":"2000-01-01","target":"2099-12-31","advice":{"pitfalls":["looking-outside-for-speed","build-it-and-move-on"]}}"#)
        let created = try client.call(Contract.campaignPut, CampaignPutParams(portfolio: "retailer", campaign: campaign))
        XCTAssertEqual(created, CampaignPutResult(id: "integrate", revision: 1, created: true))
        let report = try client.call(Contract.campaignGet, CampaignIDParams(portfolio: "retailer", id: "integrate"))
        XCTAssertEqual(report.campaign, campaign)
        XCTAssertEqual(try client.call(Contract.campaignList, PortfolioParams(portfolio: "retailer")).campaigns.map(\.campaign.id), ["integrate"])
        XCTAssertEqual(try client.call(Contract.campaignDelete, CampaignDeleteParams(portfolio: "retailer", id: "integrate", ifRevision: 1)),
                       Deleted(id: "integrate", deleted: true))
        XCTAssertThrowsError(try client.call(Contract.campaignGet, CampaignIDParams(portfolio: "retailer", id: "integrate"))) { e in
            XCTAssertEqual((e as? RPCCallError)?.errorCode, .notFound, "\(e)")
            XCTAssertEqual((e as? RPCCallError)?.data?.pointer, "/id")
        }
        XCTAssertEqual(d.stop(), 0)
    }
}
