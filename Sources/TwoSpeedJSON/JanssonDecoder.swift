import CJansson

/// Decodes Swift values straight from jansson values. Field checks with pointers are the schema's job;
/// this decoder still refuses every mismatch, with the coding path, rather than guessing.
public struct JanssonDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONRef) throws -> T {
        try T(from: _JanssonDecoder(value: value, codingPath: []))
    }

    public func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        switch JSONText.parse(text) {
        case .failure(let e): throw e
        case .success(let v):
            defer { v.release() }
            return try decode(type, from: v)
        }
    }
}

struct _JanssonDecoder: Decoder {
    let value: JSONRef
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard value.isObject else { throw mismatch([String: Int].self, value, codingPath) }
        return KeyedDecodingContainer(KeyedContainer<Key>(object: value, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard value.isArray else { throw mismatch([Int].self, value, codingPath) }
        return UnkeyedContainer(array: value, codingPath: codingPath)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        SingleContainer(value: value, codingPath: codingPath)
    }
}

func mismatch(_ type: Any.Type, _ value: JSONRef, _ path: [CodingKey]) -> DecodingError {
    .typeMismatch(type, .init(codingPath: path, debugDescription: "expected \(type), found \(value.kind.schemaName)"))
}

/// The primitive conversions every container shares.
enum Prim {
    static func bool(_ v: JSONRef, _ p: [CodingKey]) throws -> Bool {
        guard let b = v.boolValue else { throw mismatch(Bool.self, v, p) }
        return b
    }
    static func string(_ v: JSONRef, _ p: [CodingKey]) throws -> String {
        guard let s = v.stringValue else { throw mismatch(String.self, v, p) }
        return s
    }
    static func double(_ v: JSONRef, _ p: [CodingKey]) throws -> Double {
        guard let d = v.doubleValue else { throw mismatch(Double.self, v, p) }
        return d
    }
    static func integer<T: FixedWidthInteger>(_ t: T.Type, _ v: JSONRef, _ p: [CodingKey]) throws -> T {
        guard let i = v.intValue else { throw mismatch(T.self, v, p) }
        guard let r = T(exactly: i) else {
            throw DecodingError.dataCorrupted(.init(codingPath: p, debugDescription: "\(i) does not fit \(T.self)"))
        }
        return r
    }
    static func decode<T: Decodable>(_ t: T.Type, _ v: JSONRef, _ p: [CodingKey]) throws -> T {
        // Fast paths for the common leaves; everything else goes through Decodable.
        if T.self == String.self { return try string(v, p) as! T }
        if T.self == Double.self { return try double(v, p) as! T }
        if T.self == Int.self { return try integer(Int.self, v, p) as! T }
        if T.self == Bool.self { return try bool(v, p) as! T }
        return try T(from: _JanssonDecoder(value: v, codingPath: p))
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue; self.intValue = nil }
    init(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}

struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONRef
    let codingPath: [CodingKey]

    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    private func member(_ key: Key) throws -> JSONRef {
        guard let v = object[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing \"\(key.stringValue)\""))
        }
        return v
    }

    private func path(_ key: Key) -> [CodingKey] { codingPath + [key] }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let v = object[key.stringValue] else { return true }
        return v.kind == .null
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try Prim.bool(member(key), path(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try Prim.string(member(key), path(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try Prim.double(member(key), path(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try Prim.double(member(key), path(key))) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try Prim.integer(type, member(key), path(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try Prim.integer(type, member(key), path(key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try Prim.integer(type, member(key), path(key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try Prim.integer(type, member(key), path(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try Prim.integer(type, member(key), path(key)) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try Prim.integer(type, member(key), path(key)) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try Prim.integer(type, member(key), path(key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try Prim.integer(type, member(key), path(key)) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try Prim.integer(type, member(key), path(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try Prim.integer(type, member(key), path(key)) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try Prim.decode(type, member(key), path(key))
    }

    // A member that is present but null counts as absent, as Foundation's decoder does.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let v = object[key.stringValue], v.kind != .null else { return nil }
        return try Prim.decode(type, v, path(key))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try _JanssonDecoder(value: member(key), codingPath: path(key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try _JanssonDecoder(value: member(key), codingPath: path(key)).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder { try superDecoder(forKey: Key(stringValue: "super")!) }
    func superDecoder(forKey key: Key) throws -> Decoder {
        _JanssonDecoder(value: object[key.stringValue] ?? JSONMake.null(), codingPath: path(key))
    }
}

struct UnkeyedContainer: UnkeyedDecodingContainer {
    let array: JSONRef
    let codingPath: [CodingKey]
    var currentIndex = 0

    init(array: JSONRef, codingPath: [CodingKey]) {
        self.array = array
        self.codingPath = codingPath
    }

    var count: Int? { array.count }
    var isAtEnd: Bool { currentIndex >= array.count }

    private mutating func next() throws -> (JSONRef, [CodingKey]) {
        guard let v = array[currentIndex] else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath + [AnyKey(intValue: currentIndex)],
                                                              debugDescription: "array ends at \(currentIndex)"))
        }
        let p = codingPath + [AnyKey(intValue: currentIndex)]
        currentIndex += 1
        return (v, p)
    }

    mutating func decodeNil() throws -> Bool {
        guard let v = array[currentIndex] else { return true }
        if v.kind == .null { currentIndex += 1; return true }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (v, p) = try next()
        return try Prim.decode(type, v, p)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (v, p) = try next()
        return try _JanssonDecoder(value: v, codingPath: p).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        let (v, p) = try next()
        return try _JanssonDecoder(value: v, codingPath: p).unkeyedContainer()
    }

    mutating func superDecoder() throws -> Decoder {
        let (v, p) = try next()
        return _JanssonDecoder(value: v, codingPath: p)
    }
}

struct SingleContainer: SingleValueDecodingContainer {
    let value: JSONRef
    let codingPath: [CodingKey]

    func decodeNil() -> Bool { value.kind == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try Prim.bool(value, codingPath) }
    func decode(_ type: String.Type) throws -> String { try Prim.string(value, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try Prim.double(value, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { Float(try Prim.double(value, codingPath)) }
    func decode(_ type: Int.Type) throws -> Int { try Prim.integer(type, value, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try Prim.integer(type, value, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try Prim.integer(type, value, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try Prim.integer(type, value, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try Prim.integer(type, value, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try Prim.integer(type, value, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try Prim.integer(type, value, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try Prim.integer(type, value, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try Prim.integer(type, value, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try Prim.integer(type, value, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try Prim.decode(type, value, codingPath) }
}
