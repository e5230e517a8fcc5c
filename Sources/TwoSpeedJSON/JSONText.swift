import CJansson
import Glibc

/// Where and why a text is not JSON, as jansson reports it.
public struct JSONParseError: Error, Sendable, Equatable {
    public var reason: String
    public var line: Int
    public var column: Int
    public var position: Int
}

/// Text to values and back, with the flags the whole engine uses.
public enum JSONText {
    /// Any top-level value (a lone number is an invalid request, not a parse error), duplicate keys
    /// refused (which one would win is undefined), and `\u0000` kept inside strings.
    public static let decodeFlags = Int(JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

    /// Compact, one line, 15 significant digits for reals: every decimal of up to 15 digits comes back
    /// as written (DBL_DIG), and computed figures do not print as 0.30000000000000004.
    /// JSON_REAL_PRECISION is a function-like macro, hence the shift written out.
    public static let encodeFlags = Int(JSON_COMPACT | JSON_ENCODE_ANY) | ((15 & 0x1F) << 11)
    public static let prettyFlags = Int(JSON_ENCODE_ANY) | 2 /* JSON_INDENT(2) */ | ((15 & 0x1F) << 11)

    /// Seeds jansson's hash function once, before any thread uses it.
    public static let seeded: Bool = {
        json_object_seed(0)
        return true
    }()

    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<JSONRef, JSONParseError> {
        _ = seeded
        var err = json_error_t()
        let v: JSONRef?
        if let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) {
            v = json_loadb(base, bytes.count, decodeFlags, &err)
        } else {
            var empty: CChar = 0
            v = json_loadb(&empty, 0, decodeFlags, &err)
        }
        if let v { return .success(v) }
        return .failure(parseError(err))
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
        return JSONParseError(reason: reason, line: Int(e.line), column: Int(e.column), position: Int(e.position))
    }

    /// Compact text allocated by jansson's allocator (the caller frees it with jansson's free).
    public static func dumpC(_ v: JSONRef, flags: Int = encodeFlags) -> UnsafeMutablePointer<CChar>? {
        json_dumps(v, flags)
    }

    public static func dump(_ v: JSONRef, pretty: Bool = false) -> String {
        guard let c = json_dumps(v, pretty ? prettyFlags : encodeFlags) else { return "null" }
        defer { janssonFree(c) }
        return String(cString: c)
    }

    /// Frees memory that jansson allocated, with the allocator the host may have set for it.
    public static func janssonFree(_ p: UnsafeMutableRawPointer?) {
        guard let p else { return }
        var mallocFn: json_malloc_t? = nil
        var freeFn: json_free_t? = nil
        json_get_alloc_funcs(&mallocFn, &freeFn)
        if let freeFn { freeFn(p) } else { free(p) }
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
