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
])

func open(_ path: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return OpenCode.invalid.rawValue }
    out.pointee = nil
    var plugins: String? = nil
    var maxRequestBytes = Dispatcher.defaultMaxRequestBytes
    if let options {
        guard case .success(let o) = JSONText.parse(String(cString: options)) else { return OpenCode.options.rawValue }
        defer { o.release() }
        guard optionsSchema.validate(o).isEmpty else { return OpenCode.options.rawValue }
        plugins = o["plugins"]?.stringValue
        if let m = o["maxRequestBytes"]?.intValue { maxRequestBytes = Int(m) }
    }
    let p = path.map { String(cString: $0) }
    do {
        let engine = try Engine(path: p, maxRequestBytes: maxRequestBytes, plugins: plugins)
        out.pointee = OpaquePointer(Unmanaged.passRetained(engine).toOpaque())
        return OpenCode.ok.rawValue
    } catch let e as StoreError {
        switch e.kind {
        case .open: return OpenCode.cantOpen.rawValue
        case .corrupt: return OpenCode.notStore.rawValue
        case .schemaTooNew: return OpenCode.schema.rawValue
        case .io: return OpenCode.io.rawValue
        }
    } catch {
        return OpenCode.io.rawValue
    }
}

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

@_cdecl("twospeed_call_json")
public func twospeed_call_json(_ handle: OpaquePointer?, _ request: UnsafeMutablePointer<json_t>?) -> UnsafeMutablePointer<json_t>? {
    guard let handle, let request else { return nil }
    guard let response = engine(handle).dispatcher.handle(value: request) else { return nil }
    // Replies share the engine's cached entity values; the caller gets a tree of its own to change.
    defer { response.release() }
    return json_deep_copy(response)
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
]

@_cdecl("twospeed_errstr")
public func twospeed_errstr(_ code: Int32) -> UnsafePointer<CChar>? {
    guard code >= 0, Int(code) < errorStrings.count else { return cString("unknown error code") }
    return cString(errorStrings[Int(code)])
}
