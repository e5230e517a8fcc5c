import CJansson
import Glibc

/// A borrowed or owned jansson value. The engine works on `json_t` directly so that no message is
/// copied into another representation before it needs to be.
public typealias JSONRef = UnsafeMutablePointer<json_t>

public enum JSONKind: Sendable, Equatable {
    case object, array, string, integer, real, bool, null

    /// The JSON Schema name of the kind ("integer" and "real" are both numbers to a reader).
    public var schemaName: String {
        switch self {
        case .object: return "object"
        case .array: return "array"
        case .string: return "string"
        case .integer: return "integer"
        case .real: return "number"
        case .bool: return "boolean"
        case .null: return "null"
        }
    }
}

extension UnsafeMutablePointer where Pointee == json_t {
    // jansson's json_typeof is a macro Swift cannot import: read the tag directly.
    @inlinable public var kind: JSONKind {
        switch pointee.type {
        case JSON_OBJECT: return .object
        case JSON_ARRAY: return .array
        case JSON_STRING: return .string
        case JSON_INTEGER: return .integer
        case JSON_REAL: return .real
        case JSON_TRUE, JSON_FALSE: return .bool
        default: return .null
        }
    }

    @inlinable public var isObject: Bool { pointee.type == JSON_OBJECT }
    @inlinable public var isArray: Bool { pointee.type == JSON_ARRAY }
    @inlinable public var isString: Bool { pointee.type == JSON_STRING }
    @inlinable public var isNumber: Bool { pointee.type == JSON_INTEGER || pointee.type == JSON_REAL }

    /// The string's bytes as a Swift String; jansson keeps a length, so an embedded NUL survives.
    public var stringValue: String? {
        guard pointee.type == JSON_STRING, let p = json_string_value(self) else { return nil }
        let n = json_string_length(self)
        return p.withMemoryRebound(to: UInt8.self, capacity: n) {
            String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
        }
    }

    /// An integer, or a real with no fractional part within 2^53 (7.0 is the integer 7, as in JSON Schema).
    public var intValue: Int64? {
        switch pointee.type {
        case JSON_INTEGER: return Int64(json_integer_value(self))
        case JSON_REAL:
            let d = json_real_value(self)
            return d == d.rounded() && abs(d) < 9_007_199_254_740_992 ? Int64(d) : nil
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch pointee.type {
        case JSON_INTEGER: return Double(json_integer_value(self))
        case JSON_REAL: return json_real_value(self)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        switch pointee.type {
        case JSON_TRUE: return true
        case JSON_FALSE: return false
        default: return nil
        }
    }

    /// Member lookup; the key is passed with its length so that any key works.
    public subscript(key: String) -> JSONRef? {
        var k = key
        return k.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) { json_object_getn(self, $0.baseAddress, buf.count) }
        }
    }

    public var count: Int {
        switch pointee.type {
        case JSON_OBJECT: return json_object_size(self)
        case JSON_ARRAY: return json_array_size(self)
        default: return 0
        }
    }

    public subscript(index: Int) -> JSONRef? {
        guard pointee.type == JSON_ARRAY, index >= 0 else { return nil }
        return json_array_get(self, index)
    }

    /// Calls `body` with each member of an object, in document order.
    public func forEachMember(_ body: (String, JSONRef) throws -> Void) rethrows {
        guard pointee.type == JSON_OBJECT else { return }
        var it = json_object_iter(self)
        while let iter = it {
            let keyPtr = json_object_iter_key(iter)!
            let keyLen = json_object_iter_key_len(iter)
            let key = keyPtr.withMemoryRebound(to: UInt8.self, capacity: keyLen) {
                String(decoding: UnsafeBufferPointer(start: $0, count: keyLen), as: UTF8.self)
            }
            if let v = json_object_iter_value(iter) { try body(key, v) }
            it = json_object_iter_next(self, iter)
        }
    }

    /// The string's bytes in place (valid while the value lives), for readers that check many strings
    /// without making a String of each; nil for anything but a string.
    @inlinable public var stringBytes: UnsafeBufferPointer<UInt8>? {
        guard pointee.type == JSON_STRING, let p = json_string_value(self) else { return nil }
        return UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: json_string_length(self))
    }

    /// `forEachMember` with each key's bytes in place (valid while the object lives) instead of a String.
    @inlinable public func forEachMemberBytes(_ body: (UnsafeBufferPointer<UInt8>, JSONRef) throws -> Void) rethrows {
        guard pointee.type == JSON_OBJECT else { return }
        var it = json_object_iter(self)
        while let iter = it {
            let key = UnsafeBufferPointer(start: UnsafeRawPointer(json_object_iter_key(iter)!).assumingMemoryBound(to: UInt8.self),
                                          count: json_object_iter_key_len(iter))
            if let v = json_object_iter_value(iter) { try body(key, v) }
            it = json_object_iter_next(self, iter)
        }
    }

    public var keys: [String] {
        var out: [String] = []
        out.reserveCapacity(count)
        forEachMember { k, _ in out.append(k) }
        return out
    }

    /// Elements of an array in order.
    public var elements: [JSONRef] {
        guard pointee.type == JSON_ARRAY else { return [] }
        let n = json_array_size(self)
        var out: [JSONRef] = []
        out.reserveCapacity(n)
        for i in 0..<n { if let e = json_array_get(self, i) { out.append(e) } }
        return out
    }

    /// Sets a member, taking ownership of `value` (json_object_set_new). Keys go in with their length.
    public func set(_ key: String, _ value: JSONRef?) {
        guard let value else { return }
        var k = key
        k.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) {
                // jansson frees `value` when it cannot insert it; on an object that means memory ran out.
                if json_object_setn_new_nocheck(self, $0.baseAddress, buf.count, value) != 0 && isObject { JSONAllocation.failed() }
            }
        }
    }

    /// Appends an element, taking ownership of `value`.
    public func append(_ value: JSONRef?) {
        guard let value else { return }
        if json_array_append_new(self, value) != 0 && isArray { JSONAllocation.failed() }
    }

    @discardableResult public func retained() -> JSONRef { json_incref(self)! }
    public func release() { json_decref(self) }
}

/// Constructors for new values; each returns a new reference the caller owns. They never trap: when
/// memory runs out they count the failure (JSONAllocation) and return jansson's static null, which
/// whoever answers the request turns into an "out of memory" error. New code uses `JSON`'s throwing
/// builders instead.
public enum JSONMake {
    @inline(__always) static func made(_ r: JSONRef?) -> JSONRef { r ?? JSONAllocation.failedValue() }
    public static func object() -> JSONRef { made(json_object()) }
    public static func array() -> JSONRef { made(json_array()) }
    public static func null() -> JSONRef { json_null()! }
    public static func bool(_ b: Bool) -> JSONRef { (b ? json_true() : json_false())! }
    public static func int(_ i: Int) -> JSONRef { made(json_integer(json_int_t(i))) }
    public static func int64(_ i: Int64) -> JSONRef { made(json_integer(json_int_t(i))) }
    /// jansson refuses NaN and infinity; they become null rather than an invalid document.
    public static func double(_ d: Double) -> JSONRef { d.isFinite ? made(json_real(d)) : json_null()! }
    public static func string(_ s: String) -> JSONRef {
        var s = s
        return s.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) { chars -> JSONRef in
                guard let base = chars.baseAddress else { return made(json_string_nocheck("")) }
                return made(json_stringn_nocheck(base, buf.count))
            }
        }
    }
    public static func strings(_ a: [String]) -> JSONRef {
        let arr = array()
        for s in a { arr.append(string(s)) }
        return arr
    }
    /// An object from key-value pairs in order; nil values are left out.
    public static func object(_ pairs: KeyValuePairs<String, JSONRef?>) -> JSONRef {
        let o = object()
        for (k, v) in pairs { o.set(k, v) }
        return o
    }
}
