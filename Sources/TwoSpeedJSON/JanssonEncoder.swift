import CJansson

/// Encodes Swift values straight into jansson values; the result is a new reference the caller owns.
public struct JanssonEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> JSONRef {
        try encodeValue(value, parent: nil, key: nil)
    }

    /// Compact text, for tests and tools.
    public func encodeText<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
        let v = try encode(value)
        defer { v.release() }
        return JSONText.dump(v, pretty: pretty)
    }
}

public struct JSONEncodeError: Error, CustomStringConvertible {
    public var pointer: JSONPointer
    public var reason: String
    public var description: String { "\(pointer): \(reason)" }
}

/// One value. Leaves of common types go straight to jansson; everything else through Encodable, with
/// one encoder object that is also the coding path's node.
func encodeValue<T: Encodable>(_ value: T, parent: _JanssonEncoder?, key: PathKey?) throws -> JSONRef {
    if T.self == String.self { return JSONMake.string(unsafeBitCast(value, to: String.self)) }
    if T.self == Int.self { return JSONMake.int(unsafeBitCast(value, to: Int.self)) }
    if T.self == Double.self {
        return try encodeDouble(unsafeBitCast(value, to: Double.self)) { _JanssonEncoder(parent: parent, key: key).codingPath }
    }
    if T.self == Bool.self { return JSONMake.bool(unsafeBitCast(value, to: Bool.self)) }
    if T.self == [String].self {
        let arr = JSONMake.array()
        for s in unsafeBitCast(value, to: [String].self) { _ = json_array_append_new(arr, JSONMake.string(s)) }
        return arr
    }
    let enc = _JanssonEncoder(parent: parent, key: key)
    try value.encode(to: enc)
    return enc.take() ?? JSONMake.object()
}

func encodeDouble(_ d: Double, _ path: () -> [CodingKey]) throws -> JSONRef {
    guard d.isFinite else {
        throw JSONEncodeError(pointer: JSONPointer(codingPath: path()), reason: "\(d) is not a JSON number")
    }
    // Whole numbers go out as JSON integers (40, not 40.0), as a person wrote them; within 2^53 a
    // double holds them exactly.
    if d == d.rounded(), abs(d) < 9_007_199_254_740_992 { return JSONMake.int64(Int64(d)) }
    return JSONMake.double(d)
}

final class _JanssonEncoder: Encoder {
    let parent: _JanssonEncoder?
    let key: PathKey?
    var value: JSONRef?
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(parent: _JanssonEncoder?, key: PathKey?) { self.parent = parent; self.key = key }
    deinit { value?.release() }

    func take() -> JSONRef? { let v = value; value = nil; return v }

    var codingPath: [CodingKey] {
        var out: [CodingKey] = []
        var e: _JanssonEncoder? = self
        while let x = e, let k = x.key { out.append(k.codingKey); e = x.parent }
        return out.reversed()
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if value == nil || !value!.isObject {
            value?.release()
            value = JSONMake.object()
        }
        return KeyedEncodingContainer(KeyedEnc<Key>(object: value!, encoder: self))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        if value == nil || !value!.isArray {
            value?.release()
            value = JSONMake.array()
        }
        return UnkeyedEnc(array: value!, encoder: self)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { SingleEnc(encoder: self) }
}

struct KeyedEnc<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: JSONRef
    /// The encoder whose value this container fills; the path of its members starts there.
    let encoder: _JanssonEncoder
    var codingPath: [CodingKey] { encoder.codingPath }

    func encodeNil(forKey key: Key) throws { object.set(key.stringValue, JSONMake.null()) }
    func encode(_ value: Bool, forKey key: Key) throws { object.set(key.stringValue, JSONMake.bool(value)) }
    func encode(_ value: String, forKey key: Key) throws { object.set(key.stringValue, JSONMake.string(value)) }
    func encode(_ value: Double, forKey key: Key) throws {
        object.set(key.stringValue, try encodeDouble(value) { encoder.codingPath + [key] })
    }
    func encode(_ value: Int, forKey key: Key) throws { object.set(key.stringValue, JSONMake.int(value)) }
    func encode(_ value: Int64, forKey key: Key) throws { object.set(key.stringValue, JSONMake.int64(value)) }
    func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        object.set(key.stringValue, try encodeValue(value, parent: encoder, key: .key(key)))
    }
    func encodeIfPresent(_ value: String?, forKey key: Key) throws {
        if let value { object.set(key.stringValue, JSONMake.string(value)) }
    }
    func encodeIfPresent(_ value: Int?, forKey key: Key) throws {
        if let value { object.set(key.stringValue, JSONMake.int(value)) }
    }
    func encodeIfPresent(_ value: Double?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    func encodeIfPresent(_ value: Bool?, forKey key: Key) throws {
        if let value { object.set(key.stringValue, JSONMake.bool(value)) }
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = JSONMake.object()
        object.set(key.stringValue, child)
        return KeyedEncodingContainer(KeyedEnc<NestedKey>(object: child, encoder: _JanssonEncoder(parent: encoder, key: .key(key))))
    }

    func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        let child = JSONMake.array()
        object.set(key.stringValue, child)
        return UnkeyedEnc(array: child, encoder: _JanssonEncoder(parent: encoder, key: .key(key)))
    }

    func superEncoder() -> Encoder { SuperEncoder(parent: object, key: "super", path: _JanssonEncoder(parent: encoder, key: .key(AnyKey(stringValue: "super")))) }
    func superEncoder(forKey key: Key) -> Encoder {
        SuperEncoder(parent: object, key: key.stringValue, path: _JanssonEncoder(parent: encoder, key: .key(key)))
    }
}

struct UnkeyedEnc: UnkeyedEncodingContainer {
    let array: JSONRef
    let encoder: _JanssonEncoder
    var codingPath: [CodingKey] { encoder.codingPath }
    var count: Int { array.count }

    mutating func encodeNil() throws { array.append(JSONMake.null()) }
    mutating func encode(_ value: Bool) throws { array.append(JSONMake.bool(value)) }
    mutating func encode(_ value: String) throws { array.append(JSONMake.string(value)) }
    mutating func encode(_ value: Double) throws {
        let i = count
        array.append(try encodeDouble(value) { encoder.codingPath + [AnyKey(intValue: i)] })
    }
    mutating func encode(_ value: Int) throws { array.append(JSONMake.int(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        array.append(try encodeValue(value, parent: encoder, key: .index(count)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = JSONMake.object()
        let e = _JanssonEncoder(parent: encoder, key: .index(count))
        array.append(child)
        return KeyedEncodingContainer(KeyedEnc<NestedKey>(object: child, encoder: e))
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let child = JSONMake.array()
        let e = _JanssonEncoder(parent: encoder, key: .index(count))
        array.append(child)
        return UnkeyedEnc(array: child, encoder: e)
    }

    mutating func superEncoder() -> Encoder {
        let e = _JanssonEncoder(parent: encoder, key: .index(count))
        array.append(JSONMake.null())
        return SuperEncoder(parent: array, index: array.count - 1, path: e)
    }
}

struct SingleEnc: SingleValueEncodingContainer {
    let encoder: _JanssonEncoder
    var codingPath: [CodingKey] { encoder.codingPath }

    private func put(_ v: JSONRef) {
        encoder.value?.release()
        encoder.value = v
    }

    mutating func encodeNil() throws { put(JSONMake.null()) }
    mutating func encode(_ value: Bool) throws { put(JSONMake.bool(value)) }
    mutating func encode(_ value: String) throws { put(JSONMake.string(value)) }
    mutating func encode(_ value: Double) throws { put(try encodeDouble(value) { encoder.codingPath }) }
    mutating func encode(_ value: Int) throws { put(JSONMake.int(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        // The value replaces this encoder's own: same path, so encode it in place.
        put(try encodeValue(value, parent: encoder.parent, key: encoder.key))
    }
}

/// An encoder whose value lands in a parent's member or element when it is produced.
final class SuperEncoder: Encoder {
    let inner: _JanssonEncoder
    let parent: JSONRef
    let key: String?
    let index: Int?
    var codingPath: [CodingKey] { inner.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(parent: JSONRef, key: String, path: _JanssonEncoder) {
        self.parent = parent; self.key = key; self.index = nil; self.inner = path
    }
    init(parent: JSONRef, index: Int, path: _JanssonEncoder) {
        self.parent = parent; self.key = nil; self.index = index; self.inner = path
    }
    deinit {
        guard let v = inner.take() else { return }
        if let key { parent.set(key, v) } else if let index { _ = json_array_set_new(parent, index, v) }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { inner.container(keyedBy: type) }
    func unkeyedContainer() -> UnkeyedEncodingContainer { inner.unkeyedContainer() }
    func singleValueContainer() -> SingleValueEncodingContainer { inner.singleValueContainer() }
}
