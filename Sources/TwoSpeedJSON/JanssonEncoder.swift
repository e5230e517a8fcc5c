import CJansson

/// Encodes Swift values straight into jansson values; the result is a new reference the caller owns.
public struct JanssonEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> JSONRef {
        try encodeValue(value, codingPath: [])
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

func encodeValue<T: Encodable>(_ value: T, codingPath: [CodingKey]) throws -> JSONRef {
    switch value {
    case let s as String: return JSONMake.string(s)
    case let i as Int: return JSONMake.int(i)
    case let d as Double: return try encodeDouble(d, codingPath)
    case let b as Bool: return JSONMake.bool(b)
    default:
        let enc = _JanssonEncoder(codingPath: codingPath)
        try value.encode(to: enc)
        return enc.box.take() ?? JSONMake.object()
    }
}

func encodeDouble(_ d: Double, _ path: [CodingKey]) throws -> JSONRef {
    guard d.isFinite else {
        throw JSONEncodeError(pointer: JSONPointer(codingPath: path), reason: "\(d) is not a JSON number")
    }
    // Whole numbers go out as JSON integers (40, not 40.0), as a person wrote them; within 2^53 a
    // double holds them exactly.
    if d == d.rounded(), abs(d) < 9_007_199_254_740_992 { return json_integer(json_int_t(d))! }
    return json_real(d)!
}

/// Holds the value an encoder produced, so that nested containers can hand it up.
final class Box {
    var value: JSONRef?
    func take() -> JSONRef? { let v = value; value = nil; return v }
    deinit { value?.release() }
}

final class _JanssonEncoder: Encoder {
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    let box = Box()

    init(codingPath: [CodingKey]) { self.codingPath = codingPath }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if box.value == nil || !box.value!.isObject {
            box.value?.release()
            box.value = JSONMake.object()
        }
        return KeyedEncodingContainer(KeyedEnc<Key>(object: box.value!, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        if box.value == nil || !box.value!.isArray {
            box.value?.release()
            box.value = JSONMake.array()
        }
        return UnkeyedEnc(array: box.value!, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { SingleEnc(encoder: self) }
}

struct KeyedEnc<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: JSONRef
    let codingPath: [CodingKey]

    func encodeNil(forKey key: Key) throws { object.set(key.stringValue, JSONMake.null()) }
    func encode(_ value: Bool, forKey key: Key) throws { object.set(key.stringValue, JSONMake.bool(value)) }
    func encode(_ value: String, forKey key: Key) throws { object.set(key.stringValue, JSONMake.string(value)) }
    func encode(_ value: Double, forKey key: Key) throws { object.set(key.stringValue, try encodeDouble(value, codingPath + [key])) }
    func encode(_ value: Int, forKey key: Key) throws { object.set(key.stringValue, JSONMake.int(value)) }
    func encode(_ value: Int64, forKey key: Key) throws { object.set(key.stringValue, JSONMake.int64(value)) }
    func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        object.set(key.stringValue, try encodeValue(value, codingPath: codingPath + [key]))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = JSONMake.object()
        object.set(key.stringValue, child)
        return KeyedEncodingContainer(KeyedEnc<NestedKey>(object: child, codingPath: codingPath + [key]))
    }

    func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        let child = JSONMake.array()
        object.set(key.stringValue, child)
        return UnkeyedEnc(array: child, codingPath: codingPath + [key])
    }

    func superEncoder() -> Encoder { SuperEncoder(parent: object, key: "super", codingPath: codingPath) }
    func superEncoder(forKey key: Key) -> Encoder { SuperEncoder(parent: object, key: key.stringValue, codingPath: codingPath + [key]) }
}

struct UnkeyedEnc: UnkeyedEncodingContainer {
    let array: JSONRef
    let codingPath: [CodingKey]
    var count: Int { array.count }

    mutating func encodeNil() throws { array.append(JSONMake.null()) }
    mutating func encode(_ value: Bool) throws { array.append(JSONMake.bool(value)) }
    mutating func encode(_ value: String) throws { array.append(JSONMake.string(value)) }
    mutating func encode(_ value: Double) throws { array.append(try encodeDouble(value, codingPath + [AnyKey(intValue: count)])) }
    mutating func encode(_ value: Int) throws { array.append(JSONMake.int(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        array.append(try encodeValue(value, codingPath: codingPath + [AnyKey(intValue: count)]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = JSONMake.object()
        let p = codingPath + [AnyKey(intValue: count)]
        array.append(child)
        return KeyedEncodingContainer(KeyedEnc<NestedKey>(object: child, codingPath: p))
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let child = JSONMake.array()
        let p = codingPath + [AnyKey(intValue: count)]
        array.append(child)
        return UnkeyedEnc(array: child, codingPath: p)
    }

    mutating func superEncoder() -> Encoder {
        let p = codingPath + [AnyKey(intValue: count)]
        let holder = JSONMake.null()
        array.append(holder)
        return SuperEncoder(parent: array, index: array.count - 1, codingPath: p)
    }
}

struct SingleEnc: SingleValueEncodingContainer {
    let encoder: _JanssonEncoder
    var codingPath: [CodingKey] { encoder.codingPath }

    private func put(_ v: JSONRef) {
        encoder.box.value?.release()
        encoder.box.value = v
    }

    mutating func encodeNil() throws { put(JSONMake.null()) }
    mutating func encode(_ value: Bool) throws { put(JSONMake.bool(value)) }
    mutating func encode(_ value: String) throws { put(JSONMake.string(value)) }
    mutating func encode(_ value: Double) throws { put(try encodeDouble(value, codingPath)) }
    mutating func encode(_ value: Int) throws { put(JSONMake.int(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { put(try encodeValue(value, codingPath: codingPath)) }
}

/// An encoder whose value lands in a parent's member or element when it is produced.
final class SuperEncoder: Encoder {
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    let inner: _JanssonEncoder
    let parent: JSONRef
    let key: String?
    let index: Int?

    init(parent: JSONRef, key: String, codingPath: [CodingKey]) {
        self.parent = parent; self.key = key; self.index = nil; self.codingPath = codingPath
        self.inner = _JanssonEncoder(codingPath: codingPath)
    }
    init(parent: JSONRef, index: Int, codingPath: [CodingKey]) {
        self.parent = parent; self.key = nil; self.index = index; self.codingPath = codingPath
        self.inner = _JanssonEncoder(codingPath: codingPath)
    }
    deinit {
        guard let v = inner.box.take() else { return }
        if let key { parent.set(key, v) } else if let index { _ = json_array_set_new(parent, index, v) }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { inner.container(keyedBy: type) }
    func unkeyedContainer() -> UnkeyedEncodingContainer { inner.unkeyedContainer() }
    func singleValueContainer() -> SingleValueEncodingContainer { inner.singleValueContainer() }
}
