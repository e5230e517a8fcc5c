import CJansson
import Glibc

/// Why building a JSON value failed.
public enum JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// jansson's allocator returned NULL.
    case noMemory
    /// A member set on something that is not an object, or an element appended to a non-array.
    case notAContainer(JSONKind)
    public var description: String {
        switch self {
        case .noMemory: return "out of memory"
        case .notAContainer(let k): return "a \(k.schemaName) has no members or elements to set"
        }
    }
}

/// Allocation failures of jansson values, counted per thread. The non-throwing builders (JSONMake,
/// `set`, `append`) cannot report a failure where it happens without changing every caller, so they
/// count it here and return jansson's static null instead of trapping; whoever answers a request
/// (the dispatcher, the C ABI) compares the count before and after and answers "out of memory".
public enum JSONAllocation {
    // Swift has no thread-local storage of its own: a pthread key holds the count in its pointer value.
    static let key: pthread_key_t = {
        var k = pthread_key_t()
        if pthread_key_create(&k, nil) != 0 { k = pthread_key_t.max }
        return k
    }()

    /// How many jansson allocations failed on this thread so far (it only grows).
    public static var failures: Int {
        guard key != pthread_key_t.max else { return 0 }
        return Int(bitPattern: pthread_getspecific(key))
    }

    /// Counts one failure on this thread.
    public static func failed() {
        guard key != pthread_key_t.max else { return }
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: failures &+ 1))
    }

    // The failure count when the thread's current request began, plus one (0: no request).
    static let requestKey: pthread_key_t = {
        var k = pthread_key_t()
        if pthread_key_create(&k, nil) != 0 { k = pthread_key_t.max }
        return k
    }()

    // Set when a store committed a write in the thread's current request (nil: none).
    static let commitKey: pthread_key_t = {
        var k = pthread_key_t()
        if pthread_key_create(&k, nil) != 0 { k = pthread_key_t.max }
        return k
    }()

    /// What `endRequest` restores: requests nest when a plugin calls the engine back on the same thread.
    public struct RequestScope {
        let marker: UnsafeMutableRawPointer?
        let committed: UnsafeMutableRawPointer?
    }

    /// Marks the start of a request on this thread.
    public static func beginRequest() -> RequestScope {
        guard requestKey != pthread_key_t.max, commitKey != pthread_key_t.max else { return RequestScope(marker: nil, committed: nil) }
        let scope = RequestScope(marker: pthread_getspecific(requestKey), committed: pthread_getspecific(commitKey))
        pthread_setspecific(requestKey, UnsafeRawPointer(bitPattern: failures &+ 1))
        pthread_setspecific(commitKey, nil)
        return scope
    }

    public static func endRequest(_ scope: RequestScope) {
        guard requestKey != pthread_key_t.max, commitKey != pthread_key_t.max else { return }
        pthread_setspecific(requestKey, scope.marker)
        pthread_setspecific(commitKey, scope.committed)
    }

    /// A store committed a write for the current request: an "out of memory" met after it must not say
    /// that nothing was changed.
    public static func noteCommit() {
        // Outside a request (an engine opening and migrating its store) there is nothing to tell.
        guard commitKey != pthread_key_t.max, requestKey != pthread_key_t.max, pthread_getspecific(requestKey) != nil else { return }
        pthread_setspecific(commitKey, UnsafeRawPointer(bitPattern: 1))
    }

    public static var committedInRequest: Bool {
        commitKey != pthread_key_t.max && pthread_getspecific(commitKey) != nil
    }

    /// A jansson allocation failed on this thread since its current request began: a write in that
    /// request must not commit, since what it writes or answers may be missing a value.
    public static var failedInRequest: Bool {
        guard requestKey != pthread_key_t.max else { return false }
        let marker = Int(bitPattern: pthread_getspecific(requestKey))
        return marker != 0 && failures != marker &- 1
    }

    /// What the non-throwing builders give for a value they could not allocate: jansson's null is
    /// static (never allocated), so it is always there, and `set`/`append` on it change nothing.
    @usableFromInline static func failedValue() -> JSONRef {
        failed()
        return json_null()!
    }

    // The allocator jansson had before `countFailures` wrapped it (the host's, or malloc and free). Every
    // jansson allocation reads these: initialized to a constant (so no lazy-initialization check) and
    // exempt from exclusivity checks (set once, before the wrapper is installed; bench_call measured
    // jansson's own parse and dump 8% slower with the checks).
    @exclusivity(unchecked) nonisolated(unsafe) static var innerMalloc: json_malloc_t? = nil
    @exclusivity(unchecked) nonisolated(unsafe) static var innerFree: json_free_t? = nil

    /// Wraps jansson's current allocator (process-wide) so that every allocation jansson makes and fails,
    /// inside its parser and hash tables too, is counted here: jansson's parser often reports a failed
    /// allocation as a syntax error, or with no text at all. Done once by `JSONText.seeded`; a host that
    /// sets its own allocator with json_set_alloc_funcs afterwards calls this again (its allocator is then
    /// the one wrapped). Idempotent.
    public static func countFailures() {
        var m: json_malloc_t? = nil
        var f: json_free_t? = nil
        json_get_alloc_funcs(&m, &f)
        // Already ours: nothing to wrap (a wrapper around itself would call itself).
        if let m, unsafeBitCast(m, to: UnsafeRawPointer.self) == unsafeBitCast(countingMalloc, to: UnsafeRawPointer.self) { return }
        innerMalloc = m
        innerFree = f
        json_set_alloc_funcs(countingMalloc, countingFree)
    }

    static let countingMalloc: json_malloc_t = { size in
        let p: UnsafeMutableRawPointer?
        if let m = JSONAllocation.innerMalloc { p = m(size) } else { p = malloc(size) }
        if p == nil { JSONAllocation.failed() }
        return p
    }

    static let countingFree: json_free_t = { p in
        if let f = JSONAllocation.innerFree { f(p) } else { free(p) }
    }

    /// Runs `body` and tells whether a jansson allocation failed on this thread meanwhile.
    public static func watching<T>(_ body: () throws -> T) rethrows -> (T, failed: Bool) {
        let before = failures
        let r = try body()
        return (r, failures != before)
    }
}

/// A borrowed jansson value: valid while whoever owns it (a `JSON`, a request being answered) keeps
/// it. A plain struct around the pointer, for hot paths: no reference counting, no allocation.
///
/// The owner must outlive every use of the view: hold it in a named variable, or pass the `JSON` itself
/// (or use withExtendedLifetime). A temporary's view (`f().view`) may point at a value already released
/// by the time it is read.
public struct JSONView {
    public let ref: JSONRef
    @inlinable public init(_ ref: JSONRef) { self.ref = ref }

    @inlinable public var kind: JSONKind { ref.kind }
    @inlinable public var isObject: Bool { ref.isObject }
    @inlinable public var isArray: Bool { ref.isArray }
    @inlinable public var isString: Bool { ref.isString }
    @inlinable public var isNumber: Bool { ref.isNumber }
    @inlinable public var isNull: Bool { ref.pointee.type == JSON_NULL }
    public var stringValue: String? { ref.stringValue }
    public var intValue: Int64? { ref.intValue }
    public var doubleValue: Double? { ref.doubleValue }
    public var boolValue: Bool? { ref.boolValue }
    public var count: Int { ref.count }
    public subscript(key: String) -> JSONView? { ref[key].map(JSONView.init) }
    public subscript(index: Int) -> JSONView? { ref[index].map(JSONView.init) }
    public var keys: [String] { ref.keys }
    public var elements: [JSONView] { ref.elements.map(JSONView.init) }
    public func forEachMember(_ body: (String, JSONView) throws -> Void) rethrows {
        try ref.forEachMember { k, v in try body(k, JSONView(v)) }
    }
    /// A reference of its own to this value (one increment; no copy).
    public func owned() -> JSON { JSON(retaining: ref) }
    /// A deep copy the caller may change; throws when memory runs out.
    public func copy() throws -> JSON {
        guard let c = json_deep_copy(ref) else { JSONAllocation.failed(); throw JSONError.noMemory }
        return JSON(adopting: c)
    }
    /// Compact text (or indented with `pretty`); "null" if memory runs out (see `encoded`).
    public func text(pretty: Bool = false) -> String { JSONText.dump(ref, pretty: pretty) }
    /// Compact text; throws when memory runs out, for text that is kept (a store's rows).
    public func encoded() throws -> String { try JSONText.encode(ref) }
    /// Decodes a Decodable value from this one.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T { try JanssonDecoder().decode(type, from: ref) }
    /// Jansson's equality: same kind and same contents, members in any order.
    public func equals(_ other: JSONView) -> Bool { json_equal(ref, other.ref) != 0 }

    // Changing a borrowed value: only while its owner is held by no one else (a copy being built).
    public func set(_ key: String, _ value: JSON) throws {
        var k = key
        let rc = k.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) { json_object_setn_nocheck(ref, $0.baseAddress, buf.count, value.ref) }
        }
        if rc != 0 {
            guard ref.isObject else { throw JSONError.notAContainer(ref.kind) }
            JSONAllocation.failed()
            throw JSONError.noMemory
        }
    }
    public func set(_ key: String, _ value: JSONView) throws { try set(key, value.owned()) }
    /// Appends `value`, which this array then shares.
    public func append(_ value: JSON) throws {
        if json_array_append(ref, value.ref) != 0 {
            guard ref.isArray else { throw JSONError.notAContainer(ref.kind) }
            JSONAllocation.failed()
            throw JSONError.noMemory
        }
    }
    public func remove(_ key: String) { _ = json_object_del(ref, key) }
    /// Sets a member to a new reference from JSONMake (taken over); a failure is counted, as JSONMake's are.
    public func set(_ key: String, _ value: JSONRef?) { ref.set(key, value) }
    /// Appends a new reference from JSONMake (taken over).
    public func append(_ value: JSONRef?) { ref.append(value) }
}

/// Owns one reference to a jansson value and releases it when it goes: one Swift allocation per owned
/// top-level value, whatever its size; members are reached through borrowed `JSONView`s. Builders throw
/// `JSONError.noMemory` when jansson's allocator fails, never trap.
///
/// A value may be read from several threads at once but changed only while no other thread reads it,
/// as for jansson itself.
public final class JSON: @unchecked Sendable {
    public let ref: JSONRef

    /// Takes over a new (+1) reference, such as a handler's result or what a jansson constructor returned.
    public init(adopting ref: JSONRef) { self.ref = ref }
    /// Keeps a borrowed value alive with a reference of its own.
    public init(retaining ref: JSONRef) { self.ref = json_incref(ref)! }
    deinit { json_decref(ref) }

    @inlinable public var view: JSONView { JSONView(ref) }

    /// A new (+1) reference for an API that takes one over (a handler's result, `twospeed_call_json`);
    /// this value keeps its own.
    public func retainedRef() -> JSONRef { json_incref(ref)! }

    /// Keeps the value until the process exits: for a command that ends right after a call, where
    /// freeing a large document one value at a time costs a noticeable share of the run.
    public func keepUntilExit() { _ = json_incref(ref) }

    // MARK: Builders

    @inline(__always) static func made(_ r: JSONRef?) throws -> JSON {
        guard let r else { JSONAllocation.failed(); throw JSONError.noMemory }
        return JSON(adopting: r)
    }
    public static func object() throws -> JSON { try made(json_object()) }
    public static func array() throws -> JSON { try made(json_array()) }
    public static var null: JSON { JSON(adopting: json_null()!) }
    public static func bool(_ b: Bool) -> JSON { JSON(adopting: (b ? json_true() : json_false())!) }
    public static func int(_ i: Int) throws -> JSON { try made(json_integer(json_int_t(i))) }
    public static func int64(_ i: Int64) throws -> JSON { try made(json_integer(json_int_t(i))) }
    /// jansson refuses NaN and infinity; they become null rather than an invalid document.
    public static func double(_ d: Double) throws -> JSON { d.isFinite ? try made(json_real(d)) : .null }
    public static func string(_ s: String) throws -> JSON {
        var s = s
        return try s.withUTF8 { buf in
            try buf.withMemoryRebound(to: CChar.self) { chars in
                var empty: CChar = 0
                return try made(json_stringn_nocheck(chars.baseAddress ?? UnsafePointer(&empty), buf.count))
            }
        }
    }
    /// An object from key-value pairs in order; nil values are left out.
    public static func object(_ pairs: KeyValuePairs<String, JSON?>) throws -> JSON {
        let o = try object()
        for case let (k, v?) in pairs { try o.set(k, v) }
        return o
    }
    public static func strings(_ a: [String]) throws -> JSON {
        let arr = try array()
        for s in a { try arr.append(try string(s)) }
        return arr
    }
    /// Encodes an Encodable value.
    public static func encoding<T: Encodable>(_ value: T) throws -> JSON {
        let (r, failed) = try JSONAllocation.watching { try JanssonEncoder().encode(value) }
        let v = JSON(adopting: r)
        if failed { throw JSONError.noMemory }
        return v
    }

    /// Parses text; `.failure` for text that is not JSON. Running out of memory throws.
    /// `flags` are jansson's decoding flags (JSONText.decodeFlags unless a reader needs others).
    public static func parse(_ bytes: UnsafeRawBufferPointer, flags: Int = JSONText.decodeFlags) throws -> Result<JSON, JSONParseError> {
        switch JSONText.parse(bytes, flags: flags) {
        case .success(let r): return .success(JSON(adopting: r))
        case .failure(let e):
            if e.outOfMemory { JSONAllocation.failed(); throw JSONError.noMemory }
            return .failure(e)
        }
    }
    public static func parse(_ text: String, flags: Int = JSONText.decodeFlags) throws -> Result<JSON, JSONParseError> {
        var t = text
        return try t.withUTF8 { try parse(UnsafeRawBufferPointer($0), flags: flags) }
    }

    // MARK: Changing (only while no other thread reads it)

    /// Sets a member to `value`, which this object then shares (the caller's `value` stays valid).
    public func set(_ key: String, _ value: JSON) throws { try view.set(key, value) }
    /// Sets a member to a borrowed value (shared, not copied).
    public func set(_ key: String, _ value: JSONView) throws { try set(key, value.owned()) }
    public func set(_ key: String, string: String) throws { try set(key, try .string(string)) }
    public func set(_ key: String, int: Int) throws { try set(key, try .int(int)) }
    public func set(_ key: String, bool: Bool) throws { try set(key, .bool(bool)) }
    public func set(_ key: String, double: Double) throws { try set(key, try .double(double)) }

    public func append(_ value: JSON) throws { try view.append(value) }
    public func remove(_ key: String) { _ = json_object_del(ref, key) }
    /// Sets a member whose key is UTF-8 bytes as read (a YAML mapping's key), sharing `value`.
    public func set(utf8Key key: [UInt8], _ value: JSON) throws {
        let rc = key.withUnsafeBytes { k -> Int32 in
            guard let b = k.baseAddress, k.count > 0 else { return json_object_setn_nocheck(ref, "", 0, value.ref) }
            return json_object_setn_nocheck(ref, b.assumingMemoryBound(to: CChar.self), k.count, value.ref)
        }
        if rc != 0 {
            guard ref.isObject else { throw JSONError.notAContainer(ref.kind) }
            JSONAllocation.failed()
            throw JSONError.noMemory
        }
    }
    /// Sets a member to a new reference from JSONMake or the encoder (taken over): code not yet moved to
    /// the throwing builders. A failed allocation is counted (JSONAllocation), never trapped.
    public func set(_ key: String, _ value: JSONRef?) { ref.set(key, value) }
    /// Appends a new reference (taken over), as `set` does.
    public func append(_ value: JSONRef?) { ref.append(value) }

    // MARK: Reading (as JSONView)

    @inlinable public var kind: JSONKind { ref.kind }
    @inlinable public var isObject: Bool { ref.isObject }
    @inlinable public var isArray: Bool { ref.isArray }
    public var stringValue: String? { ref.stringValue }
    public var intValue: Int64? { ref.intValue }
    public var doubleValue: Double? { ref.doubleValue }
    public var boolValue: Bool? { ref.boolValue }
    public var count: Int { ref.count }
    public subscript(key: String) -> JSONView? { view[key] }
    public subscript(index: Int) -> JSONView? { view[index] }
    public var keys: [String] { ref.keys }
    public func forEachMember(_ body: (String, JSONView) throws -> Void) rethrows { try view.forEachMember(body) }
    public func text(pretty: Bool = false) -> String { JSONText.dump(ref, pretty: pretty) }
    public func encoded() throws -> String { try JSONText.encode(ref) }
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T { try view.decode(type) }
    public func copy() throws -> JSON { try view.copy() }
}

extension JSON {
    /// "2.0", made once and shared by every response: never changed, and jansson counts its references
    /// atomically, so threads share it safely.
    nonisolated(unsafe) static let version = json_string("2.0")

    /// {"jsonrpc":"2.0", <member>: value, "id": id}: a JSON-RPC response in one object and one Swift
    /// allocation (the dispatcher's hot path); `id` is shared, not copied, and null when nil.
    public static func rpcResponse(_ member: String, _ value: JSON, id: JSONView?) throws -> JSON {
        guard let o = json_object() else { JSONAllocation.failed(); throw JSONError.noMemory }
        let r = JSON(adopting: o)
        // Should memory have run out when the shared "2.0" was made, each response makes its own.
        let versionSet: Int32
        if let v = version { versionSet = json_object_set(o, "jsonrpc", v) } else if let fresh = json_string("2.0") {
            versionSet = json_object_set_new(o, "jsonrpc", fresh)
        } else { versionSet = -1 }
        guard versionSet == 0, json_object_set(o, member, value.ref) == 0,
              json_object_set(o, "id", id?.ref ?? json_null()) == 0 else {
            JSONAllocation.failed()
            throw JSONError.noMemory
        }
        return r
    }
}

extension JSONParseError {
    /// jansson ran out of memory while parsing (the text may well be JSON).
    public var outOfMemory: Bool { code == Int(json_error_out_of_memory.rawValue) }
}
