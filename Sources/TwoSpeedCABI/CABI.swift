import CJansson
import Glibc
import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedRPC
import TwoSpeedSchema
import TwoSpeedStore

// The C ABI of include/twospeed.h. @_cdecl functions cannot throw, and a Swift trap would kill the
// host's process: every path here turns each failure into a return code or an error response.

/// The codes of twospeed_open; the numbers are part of the ABI.
enum OpenCode: Int32 {
    case ok = 0, invalid = 1, cantOpen = 2, notStore = 3, schema = 4, io = 5, noMemory = 6, options = 7
}

@_cdecl("twospeed_open")
public func twospeed_open(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    open(path, nil, out)
}

@_cdecl("twospeed_open_v2")
public func twospeed_open_v2(_ path: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
                             _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    open(path, options, out)
}

/// The options twospeed_open_v2 takes.
let optionsSchema = Schema.object(required: [], [
    "plugins": .string(minLength: 1, maxLength: 4_096),
    "maxRequestBytes": .integer(min: 1_024, max: Int(Int32.max)),
    "fileMode": .string("the mode a new store file is created with, in octal as chmod takes it", minLength: 3, maxLength: 4),
])


/// Opens an engine and records why it failed (or that it did not) for twospeed_open_error.
func open(_ path: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    let (code, reason) = openEngine(path, options, out)
    OpenError.set(code == .ok ? nil : reason)
    return code.rawValue
}

func openEngine(_ path: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
                _ out: UnsafeMutablePointer<OpaquePointer?>?) -> (OpenCode, String) {
    guard let out else { return (.invalid, "out is NULL: there is nowhere to return the engine") }
    out.pointee = nil
    var plugins: String? = nil
    var maxRequestBytes = Dispatcher.defaultMaxRequestBytes
    var fileMode = SQLiteStore.defaultFileMode
    if let options {
        let o: JSON
        do {
            switch try JSON.parse(String(cString: options)) {
            case .success(let v): o = v
            case .failure(let e):
                return (.options, "options are not JSON: \(e.reason) (line \(e.line), column \(e.column))")
            }
        } catch {
            return (.noMemory, "out of memory while reading the options")
        }
        let issues = optionsSchema.validate(o.ref)
        guard issues.isEmpty else {
            // Each failure with its JSON pointer, as the -32602 errors of twospeed_call give them; the
            // first few only, since the text goes into log lines.
            let shown = issues.issues.prefix(5).map { "\($0.pointer.isEmpty ? "(the options)" : $0.pointer): \($0.reason)" }
            let more = issues.issues.count - shown.count
            return (.options, "options: " + shown.joined(separator: "; ")
                        + (more > 0 ? "; and \(issues.truncated ? "at least " : "")\(more) more" : ""))
        }
        plugins = o["plugins"]?.stringValue
        if let m = o["maxRequestBytes"]?.intValue { maxRequestBytes = Int(m) }
        if let text = o["fileMode"]?.stringValue {
            guard let m = parseFileMode(text) else {
                return (.options, "options: /fileMode: \"\(text)\" is not a file mode in octal, such as \"0640\"")
            }
            fileMode = m
        }
    }
    let p = path.map { String(cString: $0) }
    do {
        let engine = try Engine(path: p, fileMode: fileMode, maxRequestBytes: maxRequestBytes, plugins: plugins)
        out.pointee = OpaquePointer(Unmanaged.passRetained(engine).toOpaque())
        return (.ok, "")
    } catch let e as StoreError {
        // The store's message carries SQLite's own words or the schema version found; some name the
        // file and some do not, and a caller opening several stores needs to know which one failed.
        let name = StoreName.redacted(p ?? ":memory:")
        let message = e.message.contains(name) ? e.message : "store \"\(name)\": \(e.message)"
        switch e.kind {
        case .open: return (.cantOpen, message)
        case .corrupt: return (.notStore, message)
        case .schemaTooNew: return (.schema, message)
        // Opening writes no portfolio, so no revision conflict arises here; reported as I/O should one.
        case .io, .revisionConflict: return (.io, message)
        }
    } catch {
        return (.io, "store \"\(StoreName.redacted(p ?? ":memory:"))\": \(error)")
    }
}

/// The text of twospeed_open_error: one malloc'd C string per thread, as dlerror keeps its message.
/// Swift has no thread-local storage of its own; a pthread key does, and its destructor frees the
/// string of a thread that exits.
enum OpenError {
    static let key: pthread_key_t = {
        var k = pthread_key_t()
        // Failing here means the process is out of keys (PTHREAD_KEYS_MAX); no message is then kept.
        if pthread_key_create(&k, { free($0) }) != 0 { k = pthread_key_t.max }
        return k
    }()

    static func set(_ message: String?) {
        guard key != pthread_key_t.max else { return }
        let old = pthread_getspecific(key)
        let new = message.flatMap { strdup($0) }
        pthread_setspecific(key, new)
        free(old)
    }

    static func get() -> UnsafePointer<CChar>? {
        guard key != pthread_key_t.max, let p = pthread_getspecific(key) else { return nil }
        return UnsafePointer(p.assumingMemoryBound(to: CChar.self))
    }
}

@_cdecl("twospeed_open_error")
public func twospeed_open_error() -> UnsafePointer<CChar>? { OpenError.get() }

@inline(__always)
func engine(_ handle: OpaquePointer) -> Engine {
    Unmanaged<Engine>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

@_cdecl("twospeed_call")
public func twospeed_call(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?) -> UnsafeMutablePointer<CChar>? {
    guard let handle, let request else { return nil }
    let e = engine(handle)
    // Measure no further than one byte past the limit: a 100 MiB request is refused unread.
    let limit = e.dispatcher.maxRequestBytes
    let n = strnlen(request, limit + 1)
    let bytes = UnsafeRawBufferPointer(start: request, count: n)
    if let text = e.dispatcher.handle(text: bytes) { return text }
    // Nothing to answer (notifications only): an empty string, from the same allocator as the rest.
    guard let empty = JSONText.janssonAlloc(1)?.assumingMemoryBound(to: CChar.self) else { return nil }
    empty.pointee = 0
    return empty
}

/// twospeed_call_rc's code for a request that gets no reply: a notification (no id), or a batch of them.
let noReply: Int32 = 8

@_cdecl("twospeed_call_rc")
public func twospeed_call_rc(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                             _ response: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    response?.pointee = nil
    guard let handle, let request, let response else { return OpenCode.invalid.rawValue }
    let e = engine(handle)
    let n = strnlen(request, e.dispatcher.maxRequestBytes + 1)
    // A jansson allocation that failed anywhere in the call makes it TWOSPEED_ENOMEM (the reply, a
    // -32603 "out of memory", says no more than the code).
    let (answer, failed) = JSONAllocation.watching { e.dispatcher.respond(text: UnsafeRawBufferPointer(start: request, count: n)) }
    if failed { return OpenCode.noMemory.rawValue }
    guard let reply = answer else { return noReply }
    guard let text = JSONText.dumpC(reply.ref) else { return OpenCode.noMemory.rawValue }
    response.pointee = text
    return withExtendedLifetime(reply) { outcome(reply.view) }
}

/// How a reply ended: 0 for a result, else its error's code; a batch's first error decides.
func outcome(_ reply: JSONView) -> Int32 {
    if reply.isArray {
        for i in 0..<reply.count {
            let code = reply[i].map(outcome) ?? 0
            if code != 0 { return code }
        }
        return 0
    }
    guard let error = reply["error"] else { return 0 }
    // Every error the engine writes has an integer code that fits; -32603 covers any that would not.
    guard let code = error["code"]?.intValue, let c = Int32(exactly: code) else { return -32603 }
    return c
}

@_cdecl("twospeed_call_json")
public func twospeed_call_json(_ handle: OpaquePointer?, _ request: UnsafeMutablePointer<json_t>?) -> UnsafeMutablePointer<json_t>? {
    guard let handle, let request else { return nil }
    guard let response = engine(handle).dispatcher.respond(to: JSONView(request)) else { return nil }
    // Replies share the engine's cached entity values; the caller gets a tree of its own to change.
    // NULL when even that copy runs out of memory.
    return (try? response.copy())?.retainedRef()
}

@_cdecl("twospeed_free")
public func twospeed_free(_ p: UnsafeMutableRawPointer?) {
    JSONText.janssonFree(p)
}

@_cdecl("twospeed_close")
public func twospeed_close(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<Engine>.fromOpaque(UnsafeRawPointer(handle)).release()
}

// Static C strings: the pointers stay valid for the life of the process.
func cString(_ s: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("twospeed_version")
public func twospeed_version() -> UnsafePointer<CChar>? { cString(Engine.versionC) }

@_cdecl("twospeed_abi_version")
public func twospeed_abi_version() -> Int32 { Int32(Engine.abiVersion) }

private let errorStrings: [StaticString] = [
    "not an error",
    "a required argument is NULL",
    "cannot open or create the store file",
    "the file is not a TwoSpeed store or is corrupt",
    "the store was written by a newer version of TwoSpeed",
    "the store could not be read or migrated",
    "out of memory",
    "the options are not a JSON object of known options",
    "the request was a notification (it has no id): it gets no reply",
]

@_cdecl("twospeed_errstr")
public func twospeed_errstr(_ code: Int32) -> UnsafePointer<CChar>? {
    guard code >= 0, Int(code) < errorStrings.count else { return cString("unknown error code") }
    return cString(errorStrings[Int(code)])
}
