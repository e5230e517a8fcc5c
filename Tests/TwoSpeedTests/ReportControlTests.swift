import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON

/// Control characters from data in every text report that report.render makes.
extension AdviceTests {
    /// A name holding ESC[2J (clear the screen), a lone CR (overwrite the line) and BEL, through
    /// report.render in text and Markdown: none reaches the output raw; the text shows them escaped.
    /// The near miss: the same name without control characters is shown as it is.
    func testControlCharactersInNamesNeverReachATextReport() throws {
        let e = try Engine(path: nil)
        let doc = parse(retailerText)
        doc["organization"]!.set("name", JSONMake.string("Bright\u{1B}[2Jmart\rEvil\u{07}"))
        for p in doc["products"]!.elements where p["id"]?.stringValue == "store-locator" {
            p.set("name", JSONMake.string("Store\u{1B}[2J locator\rX"))
        }
        _ = ok(e, "portfolio.put", "{\"portfolio\":\(JSONText.dump(doc))}")
        doc.release()
        _ = ok(e, "assessment.run", #"{"portfolio":"retailer"}"#)
        for format in ["text", "markdown", "html"] {
            let out = ok(e, "report.render", #"{"portfolio":"retailer","format":"\#(format)"}"#)["content"]!.stringValue!
            let raw = out.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7F || (0x80...0x9F).contains($0.value) }
            XCTAssertEqual(raw.map(\.value), [], "\(format): a control character reached the report")
            XCTAssertFalse(out.contains("\r"), format)
        }
        let text = ok(e, "report.render", #"{"portfolio":"retailer","format":"text"}"#)["content"]!.stringValue!
        XCTAssertTrue(text.hasPrefix("Bright\\e[2Jmart\\rEvil\\u{7}: two-speed"), String(text.prefix(80)))
        XCTAssertTrue(text.contains("Store\\e[2J locator\\rX"), "the product's name, escaped")
        let plain = try Engine(path: nil)
        _ = ok(plain, "portfolio.put", "{\"portfolio\":\(retailerText)}")
        let near = ok(plain, "report.render", #"{"portfolio":"retailer","format":"text"}"#)["content"]!.stringValue!
        XCTAssertTrue(near.hasPrefix("Brightmart Retail: two-speed"), "the near miss: a plain name is shown as it is")
    }
}
