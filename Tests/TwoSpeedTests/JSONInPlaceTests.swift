import TwoSpeedJSON
import XCTest

/// The small functions TwoSpeedJSON gained so that DeliveryMethods and the YAML reader need neither
/// CJansson nor hand-counted references: bytes read in place, and members set or appended shared.
final class JSONInPlaceTests: XCTestCase {
    func parsed(_ text: String) throws -> JSON {
        switch try JSON.parse(text) {
        case .success(let v): return v
        case .failure(let e): XCTFail("not JSON: \(e.reason)"); throw e
        }
    }

    func testStringBytesKeepAnEmbeddedNULAndAreNilForOtherKinds() throws {
        let v = try parsed(#"["a\u0000b", "", 3, null]"#)
        XCTAssertEqual(v[0]?.ref.stringBytes.map(Array.init), [0x61, 0, 0x62])
        XCTAssertEqual(v[1]?.ref.stringBytes.map(Array.init), [])
        XCTAssertNil(v[2]?.ref.stringBytes)
        XCTAssertNil(v[3]?.ref.stringBytes)
    }

    func testMemberBytesAreTheKeysInDocumentOrder() throws {
        // jansson refuses a NUL in a key; a multi-byte character comes as its UTF-8 bytes.
        let v = try parsed(#"{"b":1,"a\u00e9":2,"":3}"#)
        var seen: [([UInt8], Int64?)] = []
        v.ref.forEachMemberBytes { k, value in seen.append((Array(k), value.intValue)) }
        XCTAssertEqual(seen.map(\.0), [[0x62], [0x61, 0xC3, 0xA9], []])
        XCTAssertEqual(seen.map(\.1), [1, 2, 3])
        // Not an object: no member, no call.
        var calls = 0
        try parsed("[1,2]").ref.forEachMemberBytes { _, _ in calls += 1 }
        XCTAssertEqual(calls, 0)
    }

    func testSetByUTF8KeySharesTheValueAndRefusesANonObject() throws {
        let o = try JSON.object()
        let inner = try JSON.array()
        try o.set(utf8Key: Array("k/~".utf8), inner)
        try o.set(utf8Key: [], .bool(true))
        // Shared, not copied: a change to `inner` shows through the object.
        try inner.append(.int(7))
        XCTAssertEqual(o.text(), #"{"k/~":[7],"":true}"#)
        let a = try JSON.array()
        XCTAssertThrowsError(try a.set(utf8Key: [0x6B], .null)) { XCTAssertEqual($0 as? JSONError, .notAContainer(.array)) }
        XCTAssertEqual(a.count, 0)
    }

    func testViewAppendSharesTheValueAndRefusesANonArray() throws {
        let holder = try JSON.object(["list": JSON.array()])
        let list = try XCTUnwrap(holder["list"])
        let item = try JSON.object()
        try list.append(item)
        try item.set("n", int: 1)
        XCTAssertEqual(holder.text(), #"{"list":[{"n":1}]}"#)
        XCTAssertThrowsError(try holder.view.append(item)) { XCTAssertEqual($0 as? JSONError, .notAContainer(.object)) }
        XCTAssertEqual(holder.count, 1)
    }
}
