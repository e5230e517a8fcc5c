import CTwoSpeedPlugin
import Glibc

/// Why a plugin could not answer.
public struct PluginFailure: Error, Sendable, CustomStringConvertible {
    public var reason: String
    /// Which failure, for a client to act on without reading the sentence (data.failure of -32006):
    /// "trap", "fuel", "memory", "garbage" or "too-large" (include/twospeed_plugin.h); nil for others.
    public var cause: String?
    public var description: String { reason }
    public init(_ reason: String, cause: String? = nil) { self.reason = reason; self.cause = cause }
}

/// What moves request text to a plugin and its response back.
protocol Transport: AnyObject {
    func exchange(_ request: String, timeoutMs: Int) throws -> String
    func shutdown()
    /// Whether calls may use the transport side by side (otherwise the plugin serializes them).
    var concurrent: Bool { get }
}

extension Transport {
    var concurrent: Bool { false }
}

/// A transport that can be ended from any thread, even while a call holds it (a process plugin).
protocol Killable: AnyObject {
    func kill()
}

/// A shared library loaded with dlopen that exports twospeed_plugin_init. It runs in the host's
/// process: it cannot be timed out or isolated, and it is never unloaded (dlclose), since it may hold
/// a language runtime of its own.
final class InProcessTransport: Transport {
    private var plugin = twospeed_plugin()

    /// The size of the version-1 struct: a plugin reporting less is refused.
    static let v1Size = UInt32(MemoryLayout<twospeed_plugin>.size)

    init(path: String, expectedName: String, extensionPoints: [String]) throws {
        _ = dlerror()
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw PluginFailure("cannot load \(path): \(String(cString: dlerror()))")
        }
        guard let sym = dlsym(handle, "twospeed_plugin_init") else {
            throw PluginFailure("\(path) exports no twospeed_plugin_init")
        }
        let entry = unsafeBitCast(sym, to: twospeed_plugin_init_fn.self)
        var p = twospeed_plugin()
        let rc = entry(&p, UInt32(TWOSPEED_PLUGIN_ABI_VERSION), InProcessTransport.v1Size)
        guard rc == 0 else { throw PluginFailure("twospeed_plugin_init refused with \(rc)") }
        guard p.abi_version == UInt32(TWOSPEED_PLUGIN_ABI_VERSION) else {
            throw PluginFailure("plugin ABI version \(p.abi_version); this host speaks version \(TWOSPEED_PLUGIN_ABI_VERSION)")
        }
        guard p.struct_size >= InProcessTransport.v1Size else {
            throw PluginFailure("plugin struct size \(p.struct_size) is smaller than the version-1 struct (\(InProcessTransport.v1Size) bytes)")
        }
        guard p.call != nil, p.release != nil else { throw PluginFailure("the plugin leaves call or release unset") }
        guard let namePtr = p.name else { throw PluginFailure("the plugin gives no name") }
        let name = String(cString: namePtr)
        guard name == expectedName else { throw PluginFailure("the library calls itself \"\(name)\", the manifest \"\(expectedName)\"") }
        let points = p.extension_points.map { String(cString: $0) }?.split(separator: ",").map {
            String($0.drop { $0 == " " })
        } ?? []
        let missing = extensionPoints.filter { !points.contains($0) }
        guard missing.isEmpty else {
            throw PluginFailure("the manifest names \(missing.joined(separator: ", ")), which the library does not serve (\(points.joined(separator: ", ")))")
        }
        plugin = p
    }

    func exchange(_ request: String, timeoutMs: Int) throws -> String {
        guard let out = plugin.call(plugin.state, request) else { throw PluginFailure("the plugin returned no response") }
        defer { plugin.release(plugin.state, out) }
        return String(cString: out)
    }

    func shutdown() {}
}
