import Glibc
import TwoSpeedJSON
import TwoSpeedSync
// The store's resource limiter is behind WasmKit's Fuzzing SPI in 0.4.2; it is the only way to refuse
// memory.grow past the manifest's limit before the memory is committed.
@_spi(Fuzzing) import WasmKit

/// What a wasm plugin may use per call (plugin.json "limits"; include/twospeed_plugin.h lists them).
public struct WasmLimits: Codable, Sendable, Equatable {
    /// Units of fuel one call may burn, roughly one per WebAssembly operator executed.
    public var fuel: Int
    /// The most 64 KiB pages of linear memory an instance may hold.
    public var memoryPages: Int
    /// The largest response, in bytes.
    public var responseBytes: Int

    /// 100 million operators is a few hundred milliseconds of WasmKit's interpreter here: ample for a
    /// check over a large portfolio, short enough that a runaway loop is stopped at once.
    public static let defaultFuel = 100_000_000
    /// 16 MiB: a portfolio ten times the retailer's size parses into well under that.
    public static let defaultMemoryPages = 256
    public static let defaultResponseBytes = 4 << 20

    public init(fuel: Int = defaultFuel, memoryPages: Int = defaultMemoryPages, responseBytes: Int = defaultResponseBytes) {
        self.fuel = fuel; self.memoryPages = memoryPages; self.responseBytes = responseBytes
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        fuel = try c.decodeIfPresent(Int.self, forKey: .fuel) ?? WasmLimits.defaultFuel
        memoryPages = try c.decodeIfPresent(Int.self, forKey: .memoryPages) ?? WasmLimits.defaultMemoryPages
        responseBytes = try c.decodeIfPresent(Int.self, forKey: .responseBytes) ?? WasmLimits.defaultResponseBytes
    }
}

/// A wasm plugin's use so far, for plugin.list.
public struct WasmUsage: Codable, Sendable, Equatable {
    public var calls = 0
    public var fuelSpent = 0
    /// The fuel of the last call that finished, failed or not.
    public var lastCallFuel = 0
    /// Calls that ended in a trap of any kind (a fault, out of fuel, over the memory limit).
    public var traps = 0
    /// Failed calls by data.failure: trap, fuel, memory, garbage, too-large.
    public var failures: [String: Int] = [:]
    /// Instances made (the first at load, then one after each failure or for each concurrent call).
    public var instances = 0
    /// Instances waiting in the pool for the next call.
    public var pooled = 0
    /// What the module logged last (twospeed.log), newest last, at most 10 lines.
    public var log: [String] = []
}

/// How the engine answers a wasm plugin's read-only call (twospeed.engine_call); set by the engine once
/// its method table exists. nil: the plugin gets an error response.
public final class EngineLink: Sendable {
    private let handler = Locked<(@Sendable (String) -> String)?>(nil)
    public init() {}
    public func set(_ h: @escaping @Sendable (String) -> String) { handler.write { $0 = h } }
    func call(_ request: String) -> String? { handler.read { $0 }.map { $0(request) } }
}

/// The guest ABI (include/twospeed_plugin.h, "WebAssembly plugins"), compiled once per plugin and run in
/// pooled instances.
///
/// Pooled rather than instantiated per call: WasmKit translates a function into its interpreter's code
/// the first time an instance calls it, and instantiation validates the module again, so a fresh
/// instance per call would pay both on every call (most of the cost of a small check). An instance goes
/// back to the pool only after a call that succeeded; one that trapped, ran out of fuel, hit a limit or
/// answered garbage is dropped, since its memory and globals may be half-updated. Calls take an
/// instance of their own, so calls from several threads run side by side, each on its own store.
final class WasmTransport: Transport {
    let path: String
    let limits: WasmLimits
    let grants: [String]
    let link: EngineLink?
    let module: Module
    let moduleBytes: Int
    private let usage = Locked(WasmUsage())
    private let pool = Locked<[WasmInstance]>([])
    static let maxPooled = 4
    static let maxModuleBytes = 64 << 20
    static let maxLogLine = 1_000

    /// One engine for every wasm plugin: its configuration decides how code is translated, and it is
    /// safe to share between stores on several threads. Software bounds checks rather than guard pages:
    /// guard pages need a SIGSEGV handler, and a library must not take over its host's signals. Eager
    /// compilation: every function is validated and translated when an instance is made (at load, then
    /// only after a failure or for a concurrent call), so invalid code is refused at load, not at the
    /// first call that reaches it.
    static let engine = Engine(configuration: EngineConfiguration(compilationMode: .eager, memoryBoundsChecking: .software,
                                                                  fuelMetering: true))

    /// What a module may import from module "twospeed": engine_call only with the "engine" grant. Besides
    /// these, wasi_snapshot_preview1 with the "wasi" grant (WASIPreview1 below); nothing else.
    static let hostFunctions: [String: (params: [ValueType], results: [ValueType], grant: String?)] = [
        "log": ([.i32, .i32], [], nil),
        "engine_call": ([.i32, .i32], [.i64], "engine"),
    ]

    init(path: String, limits: WasmLimits, grants: [String], link: EngineLink?) throws {
        self.path = path; self.limits = limits; self.grants = grants; self.link = link
        let bytes: [UInt8]
        switch readRegularFile(path, limit: WasmTransport.maxModuleBytes) {
        case .failure(let e): throw PluginFailure(e.description)
        case .success(let b): bytes = b
        }
        moduleBytes = bytes.count
        do { module = try parseWasm(bytes: bytes) } catch {
            throw PluginFailure("\(path) is not a WebAssembly module: \(error)")
        }
        for i in module.imports {
            let what = "\(i.module).\(i.name)"
            if i.module == WASIPreview1.module {
                guard grants.contains("wasi") else {
                    throw PluginFailure("the module imports \(what), which the manifest does not grant (\"grants\": [\"wasi\"])")
                }
                guard case .function(let t) = i.descriptor, let type = module.functionType(at: t), WASIPreview1.canAnswer(i.name, type) else {
                    throw PluginFailure("the module imports \(what) with a type this host cannot answer")
                }
                continue
            }
            guard i.module == "twospeed", let f = WasmTransport.hostFunctions[i.name] else {
                throw PluginFailure("the module imports \(what); this host offers only twospeed.log, twospeed.engine_call and, when granted, "
                                    + "WASI preview 1 (wasi_snapshot_preview1)")
            }
            if let g = f.grant, !grants.contains(g) {
                throw PluginFailure("the module imports \(what), which the manifest does not grant (\"grants\": [\"\(g)\"])")
            }
        }
        // The probe instance checks the exports and runs any start function under the fuel limit; it
        // then serves the first call.
        let first = try makeInstance()
        pool.write { $0.append(first) }
        usage.write { $0.pooled = 1 }
    }

    /// Calls need no lock of the plugin's: each takes an instance of its own.
    var concurrent: Bool { true }

    private func makeInstance() throws -> WasmInstance {
        usage.write { $0.instances += 1 }
        let store = Store(engine: WasmTransport.engine)
        let limiter = PageLimiter(maxPages: limits.memoryPages)
        store.resourceLimiter = limiter
        store.fuel = Fuel(remaining: UInt64(limits.fuel))
        let box = InstanceBox()
        var imports = Imports()
        for i in module.imports {
            if i.module == WASIPreview1.module, case .function(let t) = i.descriptor, let type = module.functionType(at: t) {
                let wasi = WASIPreview1(name: i.name, grants: grants)
                imports.define(module: i.module, name: i.name, Function(store: store, type: type) { [weak self] _, args in
                    guard let w = box.instance else { return [.i32(WASIPreview1.fault)] }
                    return try wasi.call(args, w) { self?.appendLog($0) }
                })
                continue
            }
            guard let f = WasmTransport.hostFunctions[i.name] else { continue }
            let function: Function
            switch i.name {
            case "log":
                function = Function(store: store, parameters: f.params, results: f.results) { [weak self] _, args in
                    self?.log(box, args)
                    return []
                }
            default:
                function = Function(store: store, parameters: f.params, results: f.results) { [weak self] _, args in
                    [.i64(try self?.engineCall(box, args) ?? 0)]
                }
            }
            imports.define(module: i.module, name: i.name, function)
        }
        let instance: Instance
        do { instance = try module.instantiate(store: store, imports: imports) } catch {
            if error is Trap || error is MemoryLimitExceeded || error is TableLimitExceeded || error is PluginFailure {
                throw WasmTransport.failure(error, limits: limits, during: "instantiating the module")
            }
            throw PluginFailure("the module is not valid WebAssembly: \(error)", cause: "garbage")
        }
        limiter.instantiated()
        guard let memory = instance.exports[memory: "memory"] else {
            throw PluginFailure("the module exports no memory named \"memory\"")
        }
        guard let alloc = instance.exports[function: "twospeed_alloc"], alloc.type.parameters == [.i32], alloc.type.results == [.i32] else {
            throw PluginFailure("the module exports no twospeed_alloc(i32) -> i32")
        }
        guard let entry = instance.exports[function: "twospeed_call"], entry.type.parameters == [.i32, .i32], entry.type.results == [.i64] else {
            throw PluginFailure("the module exports no twospeed_call(i32, i32) -> i64")
        }
        let w = WasmInstance(store: store, memory: memory, alloc: alloc, entry: entry, limiter: limiter)
        box.instance = w
        return w
    }

    func exchange(_ request: String, timeoutMs: Int) throws -> String { try exchange(request) { $0 } }

    /// One call, its response read by `interpret` before the instance goes back to the pool: a response
    /// that interpret finds garbage (a PluginFailure) drops the instance like a trap; any other error
    /// (the plugin's own JSON-RPC error answer) is passed on with the instance kept.
    func exchange<T>(_ request: String, interpret: (String) throws -> T) throws -> T {
        let taken = pool.write { $0.popLast() }
        let w: WasmInstance
        do { w = try taken ?? makeInstance() } catch let e as PluginFailure {
            usage.write { u in u.calls += 1; u.failures[e.cause ?? "trap", default: 0] += 1 }
            throw e
        }
        w.store.fuel = Fuel(remaining: UInt64(limits.fuel))
        var failure: PluginFailure?
        var result: T?
        var answered: Error?
        do { result = try interpret(try run(w, request)) } catch let e as PluginFailure {
            // The host's own reading of the response (not JSON, not a response to this request).
            failure = e.cause == nil ? PluginFailure("garbage: " + e.reason, cause: "garbage") : e
        } catch let e as PluginError {
            answered = e
        } catch {
            failure = WasmTransport.failure(error, limits: limits, during: "the call")
        }
        let spent = limits.fuel - Int(w.store.fuel?.remaining ?? 0)
        let pooled: Int = failure == nil ? pool.write { p in
            if p.count < WasmTransport.maxPooled { p.append(w) }
            return p.count
        } : pool.read { $0.count }
        usage.write { u in
            u.calls += 1
            u.fuelSpent += spent
            u.lastCallFuel = spent
            u.pooled = pooled
            if let cause = failure?.cause {
                u.failures[cause, default: 0] += 1
                if ["trap", "fuel", "memory"].contains(cause) { u.traps += 1 }
            }
        }
        if let failure { throw failure }
        if let answered { throw answered }
        return result!
    }

    /// Copies the request in, calls the entry point, copies the response out.
    private func run(_ w: WasmInstance, _ request: String) throws -> String {
        let bytes = Array(request.utf8)
        let ptr = try w.place(bytes)
        let packed = try w.entry.invoke([.i32(ptr), .i32(UInt32(bytes.count))])
        guard packed.count == 1, case .i64(let value) = packed[0] else {
            throw PluginFailure("twospeed_call returned no i64", cause: "garbage")
        }
        let at = Int(value >> 32), count = Int(value & 0xffff_ffff)
        if count > limits.responseBytes {
            throw PluginFailure("response too large: \(count) bytes, over the limit of \(limits.responseBytes) (limits.responseBytes)", cause: "too-large")
        }
        guard let out = w.read(at: at, count: count) else {
            throw PluginFailure("garbage: the response (\(count) bytes at \(at)) lies outside the module's memory of \(w.memory.byteCount) bytes", cause: "garbage")
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw PluginFailure("garbage: the response is not UTF-8", cause: "garbage")
        }
        return text
    }

    /// A trap, out of fuel or over the memory limit, as the reason a client reads.
    static func failure(_ error: Error, limits: WasmLimits, during: String) -> PluginFailure {
        if let e = error as? PluginFailure { return e }
        if let e = error as? MemoryLimitExceeded {
            let tables = e.tableBytes > 0 ? " with its tables' \(e.tableBytes) bytes" : ""
            return PluginFailure("memory limit: the module asked for \(e.pages) pages of 64 KiB\(tables), over its limit of \(limits.memoryPages) (limits.memoryPages), during \(during)", cause: "memory")
        }
        if let e = error as? TableLimitExceeded {
            return PluginFailure("memory limit: \(e.reason), during \(during)", cause: "memory")
        }
        let text = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
        if text.contains("out of fuel") {
            return PluginFailure("out of fuel: the module used all \(limits.fuel) units of its fuel (limits.fuel) during \(during), as an endless loop does", cause: "fuel")
        }
        if error is Trap {
            return PluginFailure("trap: the module trapped during \(during) (\(text.hasPrefix("Trap: ") ? String(text.dropFirst(6)) : text))", cause: "trap")
        }
        return PluginFailure("trap: the module failed during \(during) (\(text))", cause: "trap")
    }

    private func log(_ box: InstanceBox, _ args: [Value]) {
        guard let w = box.instance, case .i32(let at) = args[0], case .i32(let n) = args[1] else { return }
        let count = min(Int(n), WasmTransport.maxLogLine)
        guard let bytes = w.read(at: Int(at), count: count) else { return }
        appendLog(String(decoding: bytes, as: UTF8.self))
    }

    func appendLog(_ line: String) {
        usage.write { u in
            u.log.append(line)
            if u.log.count > 10 { u.log.removeFirst(u.log.count - 10) }
        }
    }

    /// twospeed.engine_call: one JSON-RPC request to the engine, read-only; the response is placed in
    /// the module's memory with its own twospeed_alloc.
    private func engineCall(_ box: InstanceBox, _ args: [Value]) throws -> UInt64 {
        guard let w = box.instance, case .i32(let at) = args[0], case .i32(let n) = args[1] else { return 0 }
        guard let bytes = w.read(at: Int(at), count: Int(n)) else {
            throw PluginFailure("garbage: engine_call's request (\(n) bytes at \(at)) lies outside the module's memory", cause: "garbage")
        }
        let request = String(decoding: bytes, as: UTF8.self)
        let answer: String
        if WasmTransport.nesting.isSet {
            answer = WasmTransport.refusal(request, "an engine call from a plugin called from an engine call is refused")
        } else if let link {
            WasmTransport.nesting.isSet = true
            defer { WasmTransport.nesting.isSet = false }
            answer = link.call(request) ?? WasmTransport.refusal(request, "no engine to call")
        } else {
            answer = WasmTransport.refusal(request, "no engine to call")
        }
        let out = Array(answer.utf8)
        let ptr = try w.place(out)
        return UInt64(ptr) << 32 | UInt64(out.count)
    }

    /// A -32603 response to `request`, with its id when it has one.
    static func refusal(_ request: String, _ reason: String) -> String {
        var id = "null"
        if case .success(let r)? = try? JSON.parse(request) {
            if let v = r["id"], v.isString || v.intValue != nil { id = v.text() }
        }
        return #"{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error","data":{"reason":"# + JSONText.quoted(reason) + #"}},"id":"# + id + "}"
    }

    /// Set on a thread while a wasm plugin's engine call runs on it, so that a plugin that the engine
    /// calls there cannot call the engine again (and so on without end).
    static let nesting = ThreadFlag()

    func shutdown() {
        pool.write { $0.removeAll() }
        usage.write { $0.pooled = 0 }
    }

    var usageNow: WasmUsage { usage.read { $0 } }
}

/// One instance and its store; used by one call at a time (it is out of the pool while in use).
final class WasmInstance: @unchecked Sendable {
    let store: Store
    let memory: Memory
    let alloc: Function
    let entry: Function
    let limiter: PageLimiter

    init(store: Store, memory: Memory, alloc: Function, entry: Function, limiter: PageLimiter) {
        self.store = store; self.memory = memory; self.alloc = alloc; self.entry = entry; self.limiter = limiter
    }

    /// The guest's memory at at..<at+count, or nil when outside it.
    /// Writes bytes at `at`; false when they would not fit in the memory.
    func write(at: Int, _ bytes: [UInt8]) -> Bool {
        guard at >= 0, at <= memory.byteCount, bytes.count <= memory.byteCount - at else { return false }
        if bytes.isEmpty { return true }
        memory.withUnsafeMutableBufferPointer(offset: UInt(at), count: bytes.count) { dst in
            bytes.withUnsafeBytes { dst.copyMemory(from: $0) }
        }
        return true
    }

    func u32(at: Int) -> UInt32? {
        read(at: at, count: 4).map { b in UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24 }
    }

    func read(at: Int, count: Int) -> [UInt8]? {
        guard at >= 0, count >= 0, at <= memory.byteCount, count <= memory.byteCount - at else { return nil }
        if count == 0 { return [] }
        return memory.withUnsafeBufferPointer(offset: UInt(at), count: count) { Array($0) }
    }

    /// Copies bytes into memory the guest allocates for them; its address.
    func place(_ bytes: [UInt8]) throws -> UInt32 {
        let r = try alloc.invoke([.i32(UInt32(bytes.count))])
        guard r.count == 1, case .i32(let ptr) = r[0] else { throw PluginFailure("twospeed_alloc returned no i32", cause: "garbage") }
        let at = Int(ptr)
        guard ptr != 0 || bytes.isEmpty, at <= memory.byteCount, bytes.count <= memory.byteCount - at else {
            throw PluginFailure("garbage: twospeed_alloc(\(bytes.count)) returned \(ptr), outside the module's memory of \(memory.byteCount) bytes", cause: "garbage")
        }
        if !bytes.isEmpty {
            memory.withUnsafeMutableBufferPointer(offset: UInt(at), count: bytes.count) { dst in
                bytes.withUnsafeBytes { dst.copyMemory(from: $0) }
            }
        }
        return ptr
    }
}

/// WASI preview 1 as far as a plugin may use it, with the "wasi" grant: no arguments and no environment,
/// no preopened directory (so no file can be opened), stdout and stderr into the plugin's log, proc_exit
/// as a failed call. The clock with the "clock" grant and random bytes with "random"; without them those
/// answer ENOTCAPABLE. Any other function answers ENOSYS. Errno values are WASI's.
struct WASIPreview1 {
    static let module = "wasi_snapshot_preview1"
    static let success: UInt32 = 0, badf: UInt32 = 8, fault: UInt32 = 21, inval: UInt32 = 28, nosys: UInt32 = 52, notcapable: UInt32 = 76
    static let signatures: [String: ([ValueType], [ValueType])] = [
        "args_sizes_get": ([.i32, .i32], [.i32]), "args_get": ([.i32, .i32], [.i32]),
        "environ_sizes_get": ([.i32, .i32], [.i32]), "environ_get": ([.i32, .i32], [.i32]),
        "fd_write": ([.i32, .i32, .i32, .i32], [.i32]), "fd_prestat_get": ([.i32, .i32], [.i32]),
        "proc_exit": ([.i32], []), "clock_time_get": ([.i32, .i64, .i32], [.i32]), "random_get": ([.i32, .i32], [.i32]),
        "sched_yield": ([], [.i32]),
    ]
    let name: String
    let grants: [String]

    /// Known functions with their own types; any other that returns an errno, to answer ENOSYS.
    static func canAnswer(_ name: String, _ type: FunctionType) -> Bool {
        if let (params, results) = signatures[name] { return type.parameters == params && type.results == results }
        return type.results == [.i32]
    }

    func call(_ args: [Value], _ w: WasmInstance, log: (String) -> Void) throws -> [Value] {
        func i32(_ i: Int) -> Int { if case .i32(let v) = args[i] { return Int(v) } else { return 0 } }
        func put32(_ v: UInt32, at: Int) -> Bool { w.write(at: at, [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: v >> $0) }) }
        let errno: UInt32
        switch name {
        case "args_sizes_get", "environ_sizes_get":
            errno = put32(0, at: i32(0)) && put32(0, at: i32(1)) ? WASIPreview1.success : WASIPreview1.fault
        case "args_get", "environ_get", "sched_yield":
            errno = WASIPreview1.success
        case "fd_prestat_get":
            errno = WASIPreview1.badf
        case "fd_write":
            guard i32(0) == 1 || i32(0) == 2 else { errno = WASIPreview1.badf; break }
            guard i32(2) <= 1_024 else { errno = WASIPreview1.inval; break }
            var bytes: [UInt8] = [], total = 0, ok = true
            for k in 0..<i32(2) {
                guard let base = w.u32(at: i32(1) + 8 * k), let count = w.u32(at: i32(1) + 8 * k + 4),
                      let chunk = w.read(at: Int(base), count: Int(count)) else { ok = false; break }
                total += chunk.count
                // The log keeps the first 1000 bytes; all count as written, so the module does not retry the rest.
                bytes += chunk.prefix(max(0, WasmTransport.maxLogLine - bytes.count))
            }
            if ok { ok = put32(UInt32(truncatingIfNeeded: total), at: i32(3)) }
            if ok { for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") { log(String(line)) } }
            errno = ok ? WASIPreview1.success : WASIPreview1.fault
        case "proc_exit":
            throw PluginFailure("trap: the module exited (proc_exit) with status \(i32(0))", cause: "trap")
        case "clock_time_get":
            guard grants.contains("clock") else { errno = WASIPreview1.notcapable; break }
            guard i32(0) == 0 || i32(0) == 1 else { errno = WASIPreview1.inval; break }
            var ts = timespec()
            clock_gettime(i32(0) == 0 ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts)
            let ns = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
            errno = w.write(at: i32(2), [0, 8, 16, 24, 32, 40, 48, 56].map { UInt8(truncatingIfNeeded: ns >> $0) }) ? WASIPreview1.success : WASIPreview1.fault
        case "random_get":
            guard grants.contains("random") else { errno = WASIPreview1.notcapable; break }
            guard i32(1) <= 1 << 20 else { errno = WASIPreview1.inval; break }
            var rng = SystemRandomNumberGenerator()
            let bytes = (0..<i32(1)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            errno = w.write(at: i32(0), bytes) ? WASIPreview1.success : WASIPreview1.fault
        default:
            errno = WASIPreview1.nosys
        }
        return [.i32(errno)]
    }
}

/// The host functions reach their instance through this, as they are made before it exists.
final class InstanceBox: @unchecked Sendable {
    weak var instance: WasmInstance?
}

struct MemoryLimitExceeded: Error { var pages: Int; var tableBytes = 0 }

/// Tables past the limits: too many of them, or entries that with the linear memory exceed the budget.
struct TableLimitExceeded: Error { var reason: String }

/// Holds one instance to its manifest's memory budget (limits.memoryPages × 64 KiB): linear memory and
/// table entries together, so that a module cannot take by tables what its memory limit denies it (64
/// tables of a million entries each held half a gigabyte). Memory past the budget is refused by throwing,
/// so that the call fails with "memory" rather than the module seeing memory.grow return -1 and failing in
/// some way of its own.
final class PageLimiter: ResourceLimiter, @unchecked Sendable {
    let maxPages: Int
    /// A compiled plugin has one table (the indirect function table); a few more leave room for hand-written ones.
    static let maxTables = 4
    /// What WasmKit holds per table entry (one 64-bit reference).
    static let bytesPerTableEntry = 8

    private var memoryBytes = 0
    private var tableSizes: [Int] = []
    /// While the module is instantiated, each table asked for is a new one; after, each is a table.grow.
    private var instantiating = true

    init(maxPages: Int) { self.maxPages = maxPages }

    var budget: Int { maxPages * 65_536 }
    var tableBytes: Int { tableSizes.reduce(0, +) * PageLimiter.bytesPerTableEntry }

    func instantiated() { instantiating = false }

    func limitMemoryGrowth(to desired: Int) throws -> Bool {
        let pages = (desired + 65_535) / 65_536
        if pages > maxPages { throw MemoryLimitExceeded(pages: pages) }
        if pages * 65_536 + tableBytes > budget { throw MemoryLimitExceeded(pages: pages, tableBytes: tableBytes) }
        memoryBytes = desired
        return true
    }

    func limitTableGrowth(to desired: Int) throws -> Bool {
        var sizes = tableSizes
        if instantiating || sizes.isEmpty {
            sizes.append(desired)
        } else {
            // Which table grows is not said: counting the growth from the smallest one never counts too little.
            let i = sizes.indices.min { sizes[$0] < sizes[$1] }!
            sizes[i] = max(sizes[i], desired)
        }
        if sizes.count > PageLimiter.maxTables {
            throw TableLimitExceeded(reason: "the module has more than \(PageLimiter.maxTables) tables")
        }
        let bytes = sizes.reduce(0, +) * PageLimiter.bytesPerTableEntry
        if bytes + memoryBytes > budget {
            throw TableLimitExceeded(reason: "its tables ask for \(sizes.reduce(0, +)) entries (\(bytes) bytes), which with its "
                                     + "\(memoryBytes) bytes of memory exceed its budget of \(maxPages) pages of 64 KiB (limits.memoryPages)")
        }
        tableSizes = sizes
        return true
    }
}

/// A per-thread boolean (pthread key): Swift has no thread-local stored properties on Linux.
final class ThreadFlag: @unchecked Sendable {
    private var key = pthread_key_t()
    init() { pthread_key_create(&key, nil) }
    var isSet: Bool {
        get { pthread_getspecific(key) != nil }
        set { pthread_setspecific(key, newValue ? UnsafeRawPointer(bitPattern: 1) : nil) }
    }
}
