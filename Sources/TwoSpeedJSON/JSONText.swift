import CJansson
import Glibc

/// Where and why a text is not JSON, as jansson reports it.
public struct JSONParseError: Error, Sendable, Equatable {
    public var reason: String
    public var line: Int
    public var column: Int
    public var position: Int
    /// jansson's json_error_code (json_error_out_of_memory and the rest).
    public var code: Int = 0
}

/// Text to values and back, with the flags the whole engine uses.
public enum JSONText {
    /// Any top-level value (a lone number is an invalid request, not a parse error), duplicate keys
    /// refused (which one would win is undefined), and `\u0000` kept inside strings.
    public static let decodeFlags = Int(JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

    /// Compact, one line. Reals print with as few significant digits as keep every real of the
    /// document exact: 15 (DBL_DIG) for nearly all documents, so 0.1 prints as 0.1, and 16 or 17 only
    /// when some value needs them. JSON_REAL_PRECISION is a function-like macro: the shift is written out.
    public static let encodeFlags = Int(JSON_COMPACT | JSON_ENCODE_ANY)
    public static let prettyFlags = Int(JSON_ENCODE_ANY) | 2 /* JSON_INDENT(2) */

    static func precisionFlag(_ digits: Int) -> Int { (digits & 0x1F) << 11 }

    /// The fewest significant digits (15, 16 or 17) that print every real in `v` exactly. Recursion
    /// follows the value, whose depth jansson's parser and the engine's own builders keep small.
    public static func digitsNeeded(_ v: JSONRef) -> Int {
        switch v.pointee.type {
        case JSON_REAL:
            return digits(json_real_value(v))
        case JSON_ARRAY:
            var needed = 15
            let n = json_array_size(v)
            for i in 0..<n where needed < 17 {
                if let e = json_array_get(v, i), e.pointee.type == JSON_REAL || e.pointee.type.rawValue <= JSON_ARRAY.rawValue { needed = max(needed, digitsNeeded(e)) }
            }
            return needed
        case JSON_OBJECT:
            var needed = 15
            var it = json_object_iter(v)
            while let i = it, needed < 17 {
                if let e = json_object_iter_value(i), e.pointee.type == JSON_REAL || e.pointee.type.rawValue <= JSON_ARRAY.rawValue { needed = max(needed, digitsNeeded(e)) }
                it = json_object_iter_next(v, i)
            }
            return needed
        default:
            return 15
        }
    }

    /// Digits that print `d` exactly: the significant digits of Swift's shortest round-trip form, which
    /// is far cheaper than printing and parsing back. Values with few decimals need no look at all.
    static func digits(_ d: Double) -> Int {
        let scaled = d * 1e6
        if abs(d) < 1e8 && scaled == scaled.rounded() { return 15 }
        var n = 0, leading = true
        for c in d.description.utf8 {
            if c == 101 || c == 69 { break }                  // e, E: the exponent follows
            guard c >= 48 && c <= 57 else { continue }        // sign and point
            if leading && c == 48 { continue }                // leading zeros are not significant
            leading = false
            n += 1
        }
        return max(15, min(17, n))
    }

    /// Seeds jansson's hash function once, before any thread uses it.
    public static let seeded: Bool = {
        json_object_seed(0)
        JSONAllocation.countFailures()
        return true
    }()

    public static func parse(_ bytes: UnsafeRawBufferPointer, flags: Int = decodeFlags) -> Result<JSONRef, JSONParseError> {
        _ = seeded
        let failuresBefore = JSONAllocation.failures
        var err = json_error_t()
        let v: JSONRef?
        if let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) {
            v = json_loadb(base, bytes.count, flags, &err)
        } else {
            var empty: CChar = 0
            v = json_loadb(&empty, 0, flags, &err)
        }
        if let v {
            guard JSONAllocation.failures != failuresBefore else { return .success(v) }
            // jansson's lexer goes on past a string buffer it could not grow, and the value it then
            // returns lacks characters (found by the allocation fault tests): never used.
            json_decref(v)
            return .failure(JSONParseError(reason: "out of memory", line: -1, column: -1, position: 0,
                                           code: Int(json_error_out_of_memory.rawValue)))
        }
        var e = parseError(err)
        // jansson words most failed allocations as syntax errors (or not at all): the count tells.
        if JSONAllocation.failures != failuresBefore { e.code = Int(json_error_out_of_memory.rawValue) }
        return .failure(e)
    }

    public static func parse(_ text: String) -> Result<JSONRef, JSONParseError> {
        var t = text
        return t.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    static func parseError(_ err: json_error_t) -> JSONParseError {
        var e = err
        let reason = withUnsafePointer(to: &e.text) {
            $0.withMemoryRebound(to: CChar.self, capacity: Int(JSON_ERROR_TEXT_LENGTH)) { String(cString: $0) }
        }
        // json_error_code() is an inline function over the text's last byte; read it the same way.
        let code = withUnsafePointer(to: &e.text) {
            $0.withMemoryRebound(to: CChar.self, capacity: Int(JSON_ERROR_TEXT_LENGTH)) { Int($0[Int(JSON_ERROR_TEXT_LENGTH) - 1]) }
        }
        if code == Int(json_error_out_of_memory.rawValue) { JSONAllocation.failed() }
        return JSONParseError(reason: reason, line: Int(e.line), column: Int(e.column), position: Int(e.position), code: code)
    }

    /// Compact text allocated by jansson's allocator (the caller frees it with jansson's free).
    public static func dumpC(_ v: JSONRef, flags: Int = encodeFlags) -> UnsafeMutablePointer<CChar>? {
        dumps(v, flags | precisionFlag(digitsNeeded(v)))
    }

    /// json_dumps, nil when an allocation failed anywhere in it (counted). jansson drops an object's key
    /// that it could not append and carries on: such a text is not the value (test_nomem met one, a
    /// kept run's reply missing a member), so a dump that met a failed allocation is no text at all.
    static func dumps(_ v: JSONRef, _ flags: Int) -> UnsafeMutablePointer<CChar>? {
        let before = JSONAllocation.failures
        let text = json_dumps(v, flags)
        guard let text else {
            if JSONAllocation.failures == before { JSONAllocation.failed() }
            return nil
        }
        if JSONAllocation.failures != before {
            janssonFree(text)
            return nil
        }
        return text
    }

    /// The text of {"jsonrpc":"2.0","result":<result>,"id":<id>} (id null when nil): byte for byte what
    /// dumpC gives for that object, reals with the same digits, written into one buffer from jansson's
    /// allocator without building the object (every call that answers a result: its envelope cost a
    /// jansson object, three members, their deletion and json_dumps' final copy of the text). nil when
    /// an allocation failed anywhere in it (counted), as for dumpC.
    public static func resultResponseC(_ result: JSONRef, id: JSONRef?) -> UnsafeMutablePointer<CChar>? {
        let before = JSONAllocation.failures
        var out = CTextBuffer()
        let written = writeResult(result, id: id, into: &out) && out.add("\0")
        guard written, JSONAllocation.failures == before, let text = out.base else {
            out.release()
            if JSONAllocation.failures == before { JSONAllocation.failed() }
            return nil
        }
        return UnsafeMutableRawPointer(text).assumingMemoryBound(to: CChar.self)
    }

    /// {"jsonrpc":"2.0","result":<result>,"id":<id>} (id null when nil) written into `sink`: the one
    /// spelling of a result's reply that is not built as an object (resultResponseC, dumpResult).
    static func writeResult<Sink: ReplySink>(_ result: JSONRef, id: JSONRef?, into sink: inout Sink) -> Bool {
        let idValue = id ?? json_null()!
        let flags = encodeFlags | precisionFlag(max(digitsNeeded(result), digitsNeeded(idValue)))
        return sink.add("{\"jsonrpc\":\"2.0\",\"result\":") && sink.dump(result, flags) && sink.add(",\"id\":")
            && sink.dump(idValue, flags) && sink.add("}")
    }

    /// Where writeResult writes: literal text and jansson's dumps, each false when it failed.
    protocol ReplySink {
        mutating func add(_ s: StaticString) -> Bool
        mutating func dump(_ v: JSONRef, _ flags: Int) -> Bool
    }

    /// Text gathered in one buffer from jansson's allocator (which has no realloc: growing copies).
    struct CTextBuffer: ReplySink {
        var base: UnsafeMutableRawPointer? = nil
        var count = 0
        var capacity = 0

        mutating func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
            if count + bytes.count > capacity {
                var grown = max(capacity * 2, 1024)
                while grown < count + bytes.count { grown *= 2 }
                guard let p = JSONText.janssonAlloc(grown) else { return false }
                if let base {
                    p.copyMemory(from: base, byteCount: count)
                    JSONText.janssonFree(base)
                }
                base = p
                capacity = grown
            }
            if let from = bytes.baseAddress, bytes.count > 0 { (base! + count).copyMemory(from: from, byteCount: bytes.count) }
            count += bytes.count
            return true
        }

        mutating func add(_ s: StaticString) -> Bool {
            append(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
        }

        /// jansson's dump of `v` appended; false when it or an allocation failed.
        mutating func dump(_ v: JSONRef, _ flags: Int) -> Bool {
            withUnsafeMutablePointer(to: &self) { me in
                json_dump_callback(v, { piece, size, data in
                    guard let piece, let data else { return -1 }
                    return data.assumingMemoryBound(to: CTextBuffer.self).pointee.append(UnsafeRawBufferPointer(start: piece, count: size)) ? 0 : -1
                }, me, flags) == 0
            }
        }

        mutating func release() {
            JSONText.janssonFree(base)
            base = nil
        }
    }

    public static func dump(_ v: JSONRef, pretty: Bool = false) -> String {
        guard let c = dumps(v, (pretty ? prettyFlags : encodeFlags) | precisionFlag(digitsNeeded(v))) else { return "null" }
        defer { janssonFree(c) }
        return String(cString: c)
    }

    /// Writes the compact text of `v` (same flags as `dump`) through `write` in blocks of up to
    /// `blockSize` bytes: jansson hands its output over in small pieces, gathered on the stack and passed
    /// on a block at a time, so a reply of any size is encoded once with no intermediate copy. Returns
    /// false when jansson failed (out of memory); what was written then is incomplete.
    public static func dump(_ v: JSONView, blockSize: Int = 16 * 1024, _ write: (UnsafeRawBufferPointer) -> Void) -> Bool {
        staged(blockSize, write) { $0.dump(v.ref, encodeFlags | precisionFlag(digitsNeeded(v.ref))) }
    }

    /// {"jsonrpc":"2.0","result":<result>,"id":<id>} written through `write` as `dump` writes that object
    /// (the same bytes as resultResponseC), without building it: twospeedd's replies of results.
    /// Returns false when jansson or an allocation failed; what was written then is incomplete.
    public static func dumpResult(_ result: JSONView, id: JSONView?, blockSize: Int = 16 * 1024,
                                  _ write: (UnsafeRawBufferPointer) -> Void) -> Bool {
        let before = JSONAllocation.failures
        let written = staged(blockSize, write) { writeResult(result.ref, id: id?.ref, into: &$0) }
        return written && JSONAllocation.failures == before
    }

    /// Runs `body` with a sink that gathers small pieces on the stack and passes them on a block at a time.
    private static func staged(_ blockSize: Int, _ write: (UnsafeRawBufferPointer) -> Void, _ body: (inout StagedSink) -> Bool) -> Bool {
        withoutActuallyEscaping(write) { write in
            withUnsafeTemporaryAllocation(byteCount: blockSize, alignment: 16) { stage in
                var sink = StagedSink(stage: stage, write: write)
                let ok = body(&sink)
                sink.flush()
                return ok
            }
        }
    }

    private struct StagedSink: ReplySink {
        let stage: UnsafeMutableRawBufferPointer
        var used = 0
        let write: (UnsafeRawBufferPointer) -> Void

        init(stage: UnsafeMutableRawBufferPointer, write: @escaping (UnsafeRawBufferPointer) -> Void) { self.stage = stage; self.write = write }

        mutating func add(_ bytes: UnsafeRawBufferPointer) {
            if used + bytes.count > stage.count { flush() }
            if bytes.count > stage.count { write(bytes); return }
            (stage.baseAddress! + used).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            used += bytes.count
        }

        mutating func add(_ s: StaticString) -> Bool { add(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)); return true }

        /// jansson's dump of `v` added; false (counted) when it failed.
        mutating func dump(_ v: JSONRef, _ flags: Int) -> Bool {
            let rc = withUnsafeMutablePointer(to: &self) { s in
                json_dump_callback(v, { piece, size, data in
                    guard let piece, let data else { return -1 }
                    data.assumingMemoryBound(to: StagedSink.self).pointee.add(UnsafeRawBufferPointer(start: piece, count: size))
                    return 0
                }, s, flags)
            }
            if rc != 0 { JSONAllocation.failed() }
            return rc == 0
        }

        mutating func flush() {
            guard used > 0 else { return }
            write(UnsafeRawBufferPointer(rebasing: stage[0..<used]))
            used = 0
        }
    }

    /// Compact text that throws JSONError.noMemory rather than give "null" when memory runs out: for
    /// text that is written somewhere (a store's rows).
    public static func encode(_ v: JSONRef) throws -> String {
        guard let c = dumps(v, encodeFlags | precisionFlag(digitsNeeded(v))) else { throw JSONError.noMemory }
        defer { janssonFree(c) }
        return String(cString: c)
    }

    /// The same without some members of an object (see `dump(_:without:)`).
    public static func encode(_ v: JSONRef, without members: [String]) throws -> String {
        guard v.isObject else { return try encode(v) }
        guard let copy = json_object() else { JSONAllocation.failed(); throw JSONError.noMemory }
        defer { json_decref(copy) }
        var failed = false
        v.forEachMember { key, value in
            if !members.contains(key) && json_object_set(copy, key, value) != 0 { failed = true }
        }
        if failed { JSONAllocation.failed(); throw JSONError.noMemory }
        return try encode(copy)
    }

    /// A string as JSON text, quoted and escaped.
    public static func quoted(_ s: String) -> String {
        let v = JSONMake.string(s)
        defer { v.release() }
        return dump(v)
    }

    /// An object's compact text without some of its members; the object itself is left as it is (it may be
    /// borrowed), only a shallow copy loses them.
    public static func dump(_ v: JSONRef, without members: [String]) -> String {
        guard v.isObject else { return dump(v) }
        let copy = JSONMake.object()
        defer { copy.release() }
        v.forEachMember { key, value in if !members.contains(key) { copy.set(key, value.retained()) } }
        return dump(copy)
    }

    /// Frees memory that jansson allocated, with the allocator the host may have set for it.
    public static func janssonFree(_ p: UnsafeMutableRawPointer?) {
        guard let p else { return }
        var mallocFn: json_malloc_t? = nil
        var freeFn: json_free_t? = nil
        json_get_alloc_funcs(&mallocFn, &freeFn)
        if let freeFn { freeFn(p) } else { free(p) }
    }

    /// A copy of `text` as a C string from jansson's allocator (freed as the rest), or nil when out of memory.
    public static func copyC(_ text: String) -> UnsafeMutablePointer<CChar>? {
        let n = text.utf8.count
        guard let p = janssonAlloc(n + 1)?.assumingMemoryBound(to: CChar.self) else { return nil }
        var t = text
        t.withUTF8 { buf in buf.withMemoryRebound(to: CChar.self) { if let b = $0.baseAddress { p.update(from: b, count: n) } } }
        p[n] = 0
        return p
    }

    /// Allocates with jansson's allocator, so that one free function serves every string handed out.
    public static func janssonAlloc(_ size: Int) -> UnsafeMutableRawPointer? {
        var mallocFn: json_malloc_t? = nil
        var freeFn: json_free_t? = nil
        json_get_alloc_funcs(&mallocFn, &freeFn)
        if let mallocFn { return mallocFn(size) }
        return malloc(size)
    }
}
