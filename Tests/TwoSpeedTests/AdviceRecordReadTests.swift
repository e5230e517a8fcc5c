import CSQLite
import XCTest
@testable import TwoSpeedEngine
import TwoSpeedAssessment
import TwoSpeedJSON
import TwoSpeedRPC

/// The advice record's direct reader (recommendation.history's speed) against the Codable decoder it
/// stands in for: the same record from every stored body, nil (and the decoder's precise error) for any other.
extension AdviceTests {
    func testTheDirectReaderReadsWhatTheDecoderReads() throws {
        let path = temporaryDirectory() + "/records.db"
        let e = try retailer(path)
        run(e)
        removeOKR(e)
        fixStoreLocator(e)
        run(e); run(e)
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path, &db), SQLITE_OK)
        defer { sqlite3_close(db) }
        var stmt: OpaquePointer?
        XCTAssertEqual(sqlite3_prepare_v2(db, "SELECT body FROM advice_run ORDER BY seq", -1, &stmt, nil), SQLITE_OK)
        var bodies: [String] = []
        while sqlite3_step(stmt) == SQLITE_ROW { bodies.append(String(cString: sqlite3_column_text(stmt, 0))) }
        sqlite3_finalize(stmt)
        XCTAssertEqual(bodies.count, 3)
        for body in bodies {
            let decoded = try JanssonDecoder().decode(AdviceRunRecord.self, from: body)
            XCTAssertEqual(AdviceRunRecord(storedJSON: body), decoded)
        }
        XCTAssertEqual(AdviceRunRecord(storedJSON: bodies[2])?.absent, ["okr/okr-it-cost"])

        // Optional members absent or null, and members it does not know: read as the decoder reads them.
        let minimal = #"{"run":4,"at":"t","asOf":"a","model":"m","modelHash":"h","engine":"e","gone":[],"absent":null,"extra":1,"#
            + #""items":[{"key":"k","rule":"r","pitfall":null,"title":"T","rank":1,"subjects":[{"kind":"okr","id":"o","name":"O"}]}]}"#
        XCTAssertEqual(AdviceRunRecord(storedJSON: minimal), try JanssonDecoder().decode(AdviceRunRecord.self, from: minimal))
        XCTAssertNil(AdviceRunRecord(storedJSON: minimal)?.absent)
        // Anything of another type: nil, so that the decoder says where.
        for bad in [minimal.replacingOccurrences(of: #""run":4"#, with: #""run":"4""#),
                    minimal.replacingOccurrences(of: #""rank":1"#, with: #""rank":true"#),
                    minimal.replacingOccurrences(of: #""absent":null"#, with: #""absent":[1]"#),
                    minimal.replacingOccurrences(of: #""pitfall":null"#, with: #""pitfall":3"#),
                    minimal.replacingOccurrences(of: #","name":"O""#, with: ""), "[]", "{"] {
            XCTAssertNil(AdviceRunRecord(storedJSON: bad), bad)
            XCTAssertThrowsError(try JanssonDecoder().decode(AdviceRunRecord.self, from: bad), bad)
        }
        // Through the engine: a stored record of another shape is a store error naming the run, not a guess.
        XCTAssertEqual(sqlite3_exec(db, #"UPDATE advice_run SET body = '{"run":"2"}' WHERE seq = 2"#, nil, nil, nil), SQLITE_OK)
        let r = try Engine(path: path).request("recommendation.history", #"{"portfolio":"retailer"}"#)
        XCTAssertEqual(r.code, ErrorCode.storeError.rawValue, r.text)
        XCTAssertTrue(r.text.contains("kept run 2 does not decode"), r.text)
    }
}
