import CJansson
import XCTest
import TwoSpeedJSON

struct Everything: Codable, Equatable {
    var string: String
    var int: Int
    var int64: Int64
    var double: Double
    var bool: Bool
    var optional: String?
    var array: [Int]
    var nested: [String: [Double]]
    var objects: [Inner]
    struct Inner: Codable, Equatable { var name: String; var flag: Bool? }
}

final class CodecTests: XCTestCase {
    func testRoundTripOfEveryJSONType() throws {
        let v = Everything(string: "plain", int: -42, int64: Int64.max, double: 0.1, bool: true, optional: nil,
                           array: [1, 2, 3], nested: ["a": [1.5, -2.25]], objects: [.init(name: "x", flag: false)])
        let json = try JanssonEncoder().encode(v)
        defer { json.release() }
        XCTAssertEqual(json["string"]?.kind, .string)
        XCTAssertEqual(json["int"]?.kind, .integer)
        XCTAssertEqual(json["double"]?.kind, .real)
        XCTAssertEqual(json["bool"]?.kind, .bool)
        XCTAssertNil(json["optional"], "absent optionals are left out")
        XCTAssertEqual(json["array"]?.kind, .array)
        XCTAssertEqual(json["nested"]?.kind, .object)
        let back = try JanssonDecoder().decode(Everything.self, from: json)
        XCTAssertEqual(back, v)
        // And through text.
        let text = JSONText.dump(json)
        XCTAssertEqual(try JanssonDecoder().decode(Everything.self, from: text), v)
    }

    func testNullDecodesAsAbsentOptional() throws {
        struct O: Codable { var a: String? }
        XCTAssertNil(try JanssonDecoder().decode(O.self, from: #"{"a":null}"#).a)
    }

    func testBigIntegers() throws {
        for n in [Int64.max, Int64.min, 0, -1, 9_007_199_254_740_993] {
            let text = JSONText.dump(JSONMake.int64(n))
            XCTAssertEqual(text, String(n))
            XCTAssertEqual(try JanssonDecoder().decode(Int64.self, from: text), n)
        }
        // Beyond 64 bits jansson refuses the number rather than rounding it.
        guard case .failure(let e) = JSONText.parse("123456789012345678901234567890") else { return XCTFail("parsed") }
        XCTAssertTrue(e.reason.contains("too big"), e.reason)
        guard case .failure = JSONText.parse("1e400") else { return XCTFail("parsed 1e400") }
        // A value that fits Int64 but not Int8 is an error with its path, not a wrap.
        struct Small: Codable { var n: Int8 }
        XCTAssertThrowsError(try JanssonDecoder().decode(Small.self, from: #"{"n":300}"#))
    }

    func testNonASCIIAndNULText() throws {
        let s = "Zahlung – 支払い – 🚀 – e\u{301}"
        let v = JSONMake.string(s)
        defer { v.release() }
        XCTAssertEqual(v.stringValue, s)
        XCTAssertEqual(try JanssonDecoder().decode(String.self, from: JSONText.dump(v)), s)
        // An escaped NUL is kept inside the string; jansson keeps the length.
        let withNul = try JanssonDecoder().decode(String.self, from: #""a\u0000b""#)
        XCTAssertEqual(Array(withNul.utf8), [97, 0, 98])
        XCTAssertEqual(JSONText.dump(JSONMake.string(withNul)), #""a\u0000b""#)
    }

    func testRealsPrintShortAndRoundTripFifteenDigits() throws {
        for d in [0.1, 3.4, 123456.789012345, -2.5e-7, 1e300] {
            let text = JSONText.dump(JSONMake.double(d))
            XCTAssertEqual(try JanssonDecoder().decode(Double.self, from: text), d, text)
        }
        XCTAssertEqual(JSONText.dump(JSONMake.double(0.1)), "0.1")
    }

    func testEveryRealRoundTripsExactlyAndWholeNumbersStayIntegers() throws {
        // Values that need 16 and 17 significant digits come back bit for bit.
        for d in [1234567890123456.0 + 0.5, 0.1234567890123456, 0.30000000000000004, 2.0 / 3.0, 1e-310] {
            let text = JSONText.dump(JSONMake.double(d))
            XCTAssertEqual(try JanssonDecoder().decode(Double.self, from: text), d, text)
        }
        struct R: Codable { var whole: Double; var half: Double }
        XCTAssertEqual(try JanssonEncoder().encodeText(R(whole: 40, half: 0.5)), #"{"whole":40,"half":0.5}"#)
        // A real with no fraction decodes as an integer, as JSON Schema counts 7.0 as an integer.
        XCTAssertEqual(try JanssonDecoder().decode(Int.self, from: "7.0"), 7)
        XCTAssertThrowsError(try JanssonDecoder().decode(Int.self, from: "7.5"))
    }

    func testNonFiniteDoubleIsAnEncodingError() {
        struct D: Encodable { var x: Double }
        XCTAssertThrowsError(try JanssonEncoder().encode(D(x: .nan)))
        XCTAssertThrowsError(try JanssonEncoder().encode([Double.infinity]))
    }

    func testDecodingErrorsCarryTheirPath() {
        XCTAssertThrowsError(try JanssonDecoder().decode(Everything.self, from:
            #"{"string":"s","int":1,"int64":1,"double":1,"bool":true,"array":[1,"x"],"nested":{},"objects":[]}"#)) { error in
            guard case DecodingError.typeMismatch(_, let c) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(JSONPointer(codingPath: c.codingPath).description, "/array/1")
        }
    }

    func testParseErrorsSayWhere() {
        guard case .failure(let e) = JSONText.parse("{\"a\":1,\n \"a\":2}") else { return XCTFail("duplicate keys parsed") }
        XCTAssertTrue(e.reason.contains("duplicate"), e.reason)
        XCTAssertEqual(e.line, 2)
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        guard case .failure(let d) = JSONText.parse(deep) else { return XCTFail("deep nesting parsed") }
        XCTAssertTrue(d.reason.contains("depth"), d.reason)
        var bad: [UInt8] = Array(#"{"a":""#.utf8) + [0xff, 0xfe] + Array(#""}"#.utf8)
        let r = bad.withUnsafeMutableBytes { JSONText.parse(UnsafeRawBufferPointer($0)) }
        guard case .failure(let u) = r else { return XCTFail("invalid UTF-8 parsed") }
        XCTAssertTrue(u.reason.contains("decode byte 0xff"), u.reason)
    }

    func testJSONPointerEscaping() {
        let p = JSONPointer(["a/b", "m~n", "0"])
        XCTAssertEqual(p.description, "/a~1b/m~0n/0")
        XCTAssertEqual(JSONPointer(parsing: p.description), p)
        XCTAssertEqual(JSONPointer.root.description, "")
    }
}
