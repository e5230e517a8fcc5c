import CJansson

/// Decodes Swift values straight from jansson values. Field checks with pointers are the schema's job;
/// this decoder still refuses every mismatch, with the coding path, rather than guessing.
public struct JanssonDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONRef) throws -> T {
        try Prim.decode(T.self, value, nil)
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
    let node: PathNode?
    var codingPath: [CodingKey] { path(node) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard value.isObject else { throw mismatch([String: Int].self, value, node) }
        return KeyedDecodingContainer(KeyedContainer<Key>(object: value, node: node))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard value.isArray else { throw mismatch([Int].self, value, node) }
        return UnkeyedContainer(array: value, node: node)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        SingleContainer(value: value, node: node)
    }
}

func mismatch(_ type: Any.Type, _ value: JSONRef, _ node: PathNode?) -> DecodingError {
    .typeMismatch(type, .init(codingPath: path(node), debugDescription: "expected \(type), found \(value.kind.schemaName)"))
}

/// The primitive conversions every container shares. The path node is only walked on failure.
enum Prim {
    @inline(__always) static func bool(_ v: JSONRef, _ p: @autoclosure () -> PathNode?) throws -> Bool {
        guard let b = v.boolValue else { throw mismatch(Bool.self, v, p()) }
        return b
    }
    @inline(__always) static func string(_ v: JSONRef, _ p: @autoclosure () -> PathNode?) throws -> String {
        guard let s = v.stringValue else { throw mismatch(String.self, v, p()) }
        return s
    }
    @inline(__always) static func double(_ v: JSONRef, _ p: @autoclosure () -> PathNode?) throws -> Double {
        guard let d = v.doubleValue else { throw mismatch(Double.self, v, p()) }
        return d
    }
    static func integer<T: FixedWidthInteger>(_ t: T.Type, _ v: JSONRef, _ p: @autoclosure () -> PathNode?) throws -> T {
        guard let i = v.intValue else { throw mismatch(T.self, v, p()) }
        guard let r = T(exactly: i) else {
            throw DecodingError.dataCorrupted(.init(codingPath: path(p()), debugDescription: "\(i) does not fit \(T.self)"))
        }
        return r
    }
    /// Leaves of common types decode here directly; everything else goes through Decodable.
    static func decode<T: Decodable>(_ t: T.Type, _ v: JSONRef, _ p: @autoclosure () -> PathNode?) throws -> T {
        if T.self == String.self { return unsafeBitCast(try string(v, p()), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try double(v, p()), to: T.self) }
        if T.self == Int.self { return unsafeBitCast(try integer(Int.self, v, p()), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try bool(v, p()), to: T.self) }
        if T.self == [String].self {
            guard v.isArray else { throw mismatch(T.self, v, p()) }
            let n = json_array_size(v)
            var out: [String] = []
            out.reserveCapacity(n)
            for i in 0..<n {
                guard let e = json_array_get(v, i), let s = e.stringValue else {
                    throw mismatch(String.self, json_array_get(v, i) ?? v, PathNode.extend(p(), i))
                }
                out.append(s)
            }
            return unsafeBitCast(out, to: T.self)
        }
        return try T(from: _JanssonDecoder(value: v, node: p()))
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
    let node: PathNode?
    var codingPath: [CodingKey] { path(node) }

    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    @inline(__always) private func member(_ key: Key) throws -> JSONRef {
        guard let v = object[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing \"\(key.stringValue)\""))
        }
        return v
    }

    private func child(_ key: Key) -> PathNode { PathNode.extend(node, key) }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let v = object[key.stringValue] else { return true }
        return v.kind == .null
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try Prim.bool(member(key), child(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try Prim.string(member(key), child(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try Prim.double(member(key), child(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try Prim.double(member(key), child(key))) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try Prim.integer(type, member(key), child(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try Prim.integer(type, member(key), child(key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try Prim.integer(type, member(key), child(key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try Prim.integer(type, member(key), child(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try Prim.integer(type, member(key), child(key)) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try Prim.integer(type, member(key), child(key)) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try Prim.integer(type, member(key), child(key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try Prim.integer(type, member(key), child(key)) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try Prim.integer(type, member(key), child(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try Prim.integer(type, member(key), child(key)) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        if object[key.stringValue] == nil, let empty = (T.self as? EmptyWhenMissing.Type)?.whenMissing as? T {
            return empty
        }
        return try Prim.decode(type, member(key), child(key))
    }

    // A member that is present but null counts as absent, as Foundation's decoder does.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let v = object[key.stringValue], v.kind != .null else { return nil }
        return try Prim.decode(type, v, child(key))
    }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let v = object[key.stringValue], v.kind != .null else { return nil }
        return try Prim.string(v, child(key))
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        guard let v = object[key.stringValue], v.kind != .null else { return nil }
        return try Prim.double(v, child(key))
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        guard let v = object[key.stringValue], v.kind != .null else { return nil }
        return try Prim.integer(Int.self, v, child(key))
    }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        guard let v = object[key.stringValue], v.kind != .null else { return nil }
        return try Prim.bool(v, child(key))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try _JanssonDecoder(value: member(key), node: child(key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try _JanssonDecoder(value: member(key), node: child(key)).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder { try superDecoder(forKey: Key(stringValue: "super")!) }
    func superDecoder(forKey key: Key) throws -> Decoder {
        _JanssonDecoder(value: object[key.stringValue] ?? JSONMake.null(), node: child(key))
    }
}

struct UnkeyedContainer: UnkeyedDecodingContainer {
    let array: JSONRef
    let node: PathNode?
    let count: Int?
    var currentIndex = 0
    var codingPath: [CodingKey] { path(node) }

    init(array: JSONRef, node: PathNode?) {
        self.array = array
        self.node = node
        count = json_array_size(array)
    }

    var isAtEnd: Bool { currentIndex >= count! }

    private mutating func next() throws -> (JSONRef, Int) {
        guard let v = array[currentIndex] else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: path(PathNode.extend(node, currentIndex)),
                                                              debugDescription: "array ends at \(currentIndex)"))
        }
        currentIndex += 1
        return (v, currentIndex - 1)
    }

    mutating func decodeNil() throws -> Bool {
        guard let v = array[currentIndex] else { return true }
        if v.kind == .null { currentIndex += 1; return true }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (v, i) = try next()
        return try Prim.decode(type, v, PathNode.extend(node, i))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (v, i) = try next()
        return try _JanssonDecoder(value: v, node: PathNode.extend(node, i)).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        let (v, i) = try next()
        return try _JanssonDecoder(value: v, node: PathNode.extend(node, i)).unkeyedContainer()
    }

    mutating func superDecoder() throws -> Decoder {
        let (v, i) = try next()
        return _JanssonDecoder(value: v, node: PathNode.extend(node, i))
    }
}

struct SingleContainer: SingleValueDecodingContainer {
    let value: JSONRef
    let node: PathNode?
    var codingPath: [CodingKey] { path(node) }

    func decodeNil() -> Bool { value.kind == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try Prim.bool(value, node) }
    func decode(_ type: String.Type) throws -> String { try Prim.string(value, node) }
    func decode(_ type: Double.Type) throws -> Double { try Prim.double(value, node) }
    func decode(_ type: Float.Type) throws -> Float { Float(try Prim.double(value, node)) }
    func decode(_ type: Int.Type) throws -> Int { try Prim.integer(type, value, node) }
    func decode(_ type: Int8.Type) throws -> Int8 { try Prim.integer(type, value, node) }
    func decode(_ type: Int16.Type) throws -> Int16 { try Prim.integer(type, value, node) }
    func decode(_ type: Int32.Type) throws -> Int32 { try Prim.integer(type, value, node) }
    func decode(_ type: Int64.Type) throws -> Int64 { try Prim.integer(type, value, node) }
    func decode(_ type: UInt.Type) throws -> UInt { try Prim.integer(type, value, node) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try Prim.integer(type, value, node) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try Prim.integer(type, value, node) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try Prim.integer(type, value, node) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try Prim.integer(type, value, node) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try Prim.decode(type, value, node) }
}

/// A list that is absent decodes as empty: the one place where the model's missing arrays default.
/// Whether a member may be absent is the schemas' business; decoding trusts them.
public protocol EmptyWhenMissing { static var whenMissing: Self { get } }
extension Array: EmptyWhenMissing { public static var whenMissing: [Element] { [] } }
