import TwoSpeedJSON
import TwoSpeedSchema

/// The kinds of entity a portfolio holds, by the names that methods and pointers use.
///
/// Everything that differs from kind to kind is in `EntityKind.registry` below: the collection that
/// holds it, its schema, its codec, how it is named in sentences. The model, the store, the engine's
/// cache and methods, the counts and the OpenRPC document all read it, so that a new kind is a case
/// here, a line in the registry and its type in Entities.swift.
public enum EntityKind: String, CaseIterable, Codable, Sendable {
    case department, journey, product, manager, team, system, metric, okr, experiment

    public static let registry: [EntityKind: EntityKindInfo] = {
        var r: [EntityKind: EntityKindInfo] = [:]
        func add<T: Entity>(_ kind: EntityKind, _ path: WritableKeyPath<Portfolio, [T]>, pointer: [String],
                            schema: Schema, name: @escaping @Sendable (T) -> String) {
            r[kind] = EntityKindInfo(kind: kind, path: path, pointer: pointer, schema: schema, name: name)
        }
        add(.department, \.organization.departments, pointer: ["organization", "departments"],
            schema: ModelSchemas.department) { $0.name }
        add(.journey, \.journeys, pointer: ["journeys"], schema: ModelSchemas.journey) { $0.name }
        add(.product, \.products, pointer: ["products"], schema: ModelSchemas.product) { $0.name }
        add(.manager, \.managers, pointer: ["managers"], schema: ModelSchemas.manager) { $0.name }
        add(.team, \.teams, pointer: ["teams"], schema: ModelSchemas.team) { $0.name }
        add(.system, \.systems, pointer: ["systems"], schema: ModelSchemas.system) { $0.name }
        add(.metric, \.metrics, pointer: ["metrics"], schema: ModelSchemas.metric) { $0.name }
        add(.okr, \.okrs, pointer: ["okrs"], schema: ModelSchemas.okr) { $0.objective }
        add(.experiment, \.experiments, pointer: ["experiments"], schema: ModelSchemas.experiment) { $0.id }
        return r
    }()

    public var info: EntityKindInfo { EntityKind.registry[self]! }
    /// The member of the portfolio document that holds this kind ("products"). Read on every
    /// engine.info and portfolio.list: an array index, where the registry's look-up hashes the raw value
    /// and copies the whole entry.
    public var collection: String { EntityKind.collections[ordinal] }
    /// Each kind's collection, in `allCases` order.
    static let collections: [String] = allCases.map { registry[$0]!.pointer.last! }

    /// The position in `allCases` (declaration order): what fixed-size tables by kind are indexed by.
    @inlinable public var ordinal: Int {
        switch self {
        case .department: return 0
        case .journey: return 1
        case .product: return 2
        case .manager: return 3
        case .team: return 4
        case .system: return 5
        case .metric: return 6
        case .okr: return 7
        case .experiment: return 8
        }
    }
    /// The pointer of this kind's collection inside a portfolio document.
    public var collectionPointer: [String] { info.pointer }
    public var schema: Schema { info.schema }
    /// The members of this kind kept apart from its stored JSON: a metric's observations grow by
    /// appends and live in a table of their own.
    public var detachedMembers: [String] { self == .metric ? ["observations"] : [] }
}

/// An entity type: what one collection of the portfolio holds.
public protocol Entity: Codable, Sendable, Equatable, Identified {}

extension Department: Entity {}
extension Journey: Entity {}
extension Product: Entity {}
extension Manager: Entity {}
extension Team: Entity {}
extension System: Entity {}
extension Metric: Entity {}
extension OKR: Entity {}
extension Experiment: Entity {}

/// One kind's entry in the registry: its collection, schema and codec, as functions of a portfolio
/// so that callers need not know the Swift type.
public struct EntityKindInfo: Sendable {
    public let kind: EntityKind
    public let pointer: [String]
    public let schema: Schema
    public let count: @Sendable (Portfolio) -> Int
    /// Every id of the kind in document order, in one pass.
    public let ids: @Sendable (Portfolio) -> [String]
    public let displayName: @Sendable (Portfolio, Int) -> String
    public let encode: @Sendable (Portfolio, Int, JanssonEncoder) throws -> JSONRef
    /// Decodes the entity and replaces the one at the index given, or appends it (index nil).
    public let put: @Sendable (inout Portfolio, JSONRef, Int?, JanssonDecoder) throws -> (index: Int, id: String)
    /// A loader that decodes entities one by one, as a store reads them, and assigns the collection once.
    public let loader: @Sendable () -> any EntityLoader
    public let removeAt: @Sendable (inout Portfolio, Int) -> Void

    init<T: Entity>(kind: EntityKind, path: WritableKeyPath<Portfolio, [T]>, pointer: [String], schema: Schema,
                    name: @escaping @Sendable (T) -> String) {
        self.kind = kind
        self.pointer = pointer
        self.schema = schema
        // Key paths are not Sendable in Swift 6's eyes, though they are immutable values.
        nonisolated(unsafe) let path = path
        count = { $0[keyPath: path].count }
        ids = { $0[keyPath: path].map(\.id) }
        displayName = { name($0[keyPath: path][$1]) }
        encode = { p, i, enc in try enc.encode(p[keyPath: path][i]) }
        put = { p, json, index, dec in
            var value = try dec.decode(T.self, from: json)
            if let index {
                // A member kept apart and not sent keeps what the entity has.
                if kind == .metric, json["observations"] == nil, var m = value as? Metric,
                   let old = p[keyPath: path][index] as? Metric {
                    m.observations = old.observations
                    value = m as! T
                }
                p[keyPath: path][index] = value
                return (index, value.id)
            }
            p[keyPath: path].append(value)
            return (p[keyPath: path].count - 1, value.id)
        }
        loader = { TypedLoader<T>(path) }
        removeAt = { p, i in p[keyPath: path].remove(at: i) }
    }
}

/// Builds one collection from entities decoded one at a time: a store's rows are let go as they are read.
public protocol EntityLoader: AnyObject {
    /// Decodes one entity (borrowed) and appends it.
    func add(_ json: JSONRef, _ dec: JanssonDecoder) throws
    /// Assigns the collection built so far to the portfolio.
    func finish(into p: inout Portfolio)
}

final class TypedLoader<T: Entity>: EntityLoader {
    nonisolated(unsafe) let path: WritableKeyPath<Portfolio, [T]>
    var items: [T] = []
    init(_ path: WritableKeyPath<Portfolio, [T]>) { self.path = path }
    func add(_ json: JSONRef, _ dec: JanssonDecoder) throws { items.append(try dec.decode(T.self, from: json)) }
    func finish(into p: inout Portfolio) { p[keyPath: path] = items; items = [] }
}

/// Where each entity sits in its collection, by kind and id: built once in one pass, so that a lookup
/// costs a hash, not a scan. The first of two entities with the same id wins, as the reference checks
/// report the second.
public struct PortfolioIndex: Sendable {
    private var positions: [EntityKind: [String: Int]] = [:]

    public init() {}

    public init(_ p: Portfolio) {
        for kind in EntityKind.allCases { rebuild(kind, p) }
    }

    public func position(_ kind: EntityKind, _ id: String) -> Int? { positions[kind]?[id] }

    public func contains(_ kind: EntityKind, _ id: String) -> Bool { positions[kind]?[id] != nil }

    /// The ids of one kind, as a set view.
    public func ids(_ kind: EntityKind) -> Dictionary<String, Int>.Keys { (positions[kind] ?? [:]).keys }

    public mutating func rebuild(_ kind: EntityKind, _ p: Portfolio) {
        let ids = kind.info.ids(p)
        var m: [String: Int] = [:]
        m.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() where m[id] == nil { m[id] = i }
        positions[kind] = m
    }

    public mutating func added(_ kind: EntityKind, _ id: String, at i: Int) {
        if positions[kind]?[id] == nil { positions[kind, default: [:]][id] = i }
    }
}

extension Portfolio {
    /// How many entities of one kind.
    public func count(of kind: EntityKind) -> Int { kind.info.count(self) }

    /// The ids of one kind, in document order.
    public func ids(of kind: EntityKind) -> [String] { kind.info.ids(self) }

    /// Where the entity sits: its index in its collection, or nil. A scan: hold a `PortfolioIndex`
    /// for repeated lookups.
    public func index(of kind: EntityKind, id: String) -> Int? { kind.info.ids(self).firstIndex(of: id) }

    /// The entity at `index` as a new jansson value.
    public func encodeEntity(_ kind: EntityKind, at index: Int, _ enc: JanssonEncoder = JanssonEncoder()) throws -> JSONRef {
        try kind.info.encode(self, index, enc)
    }

    /// The entity as a new jansson value, or nil when there is none.
    public func encodeEntity(_ kind: EntityKind, id: String) throws -> JSONRef? {
        guard let i = index(of: kind, id: id) else { return nil }
        return try encodeEntity(kind, at: i)
    }

    /// The name a person reads for the entity at `index` (an OKR's objective, an experiment's hypothesis).
    public func displayName(_ kind: EntityKind, at index: Int) -> String { kind.info.displayName(self, index) }

    /// Replaces the entity with the same id, or appends it. Returns its index and whether it is new.
    /// A metric given without "observations" keeps the ones it has.
    @discardableResult
    public mutating func upsert(_ kind: EntityKind, from json: JSONRef) throws -> (index: Int, created: Bool) {
        let id = json["id"]?.stringValue
        let existing = id.flatMap { index(of: kind, id: $0) }
        let r = try kind.info.put(&self, json, existing, JanssonDecoder())
        return (r.index, existing == nil)
    }

    /// Removes the entity; false when there was none.
    @discardableResult
    public mutating func remove(_ kind: EntityKind, id: String) -> Bool {
        guard let i = index(of: kind, id: id) else { return false }
        kind.info.removeAt(&self, i)
        dropUnresolved(of: kind, id: id)
        return true
    }

    /// Forgets the unresolved references of an entity that is gone; true when there were some.
    @discardableResult
    public mutating func dropUnresolved(of kind: EntityKind, id: String) -> Bool {
        let before = unresolved.count
        unresolved.removeAll { $0.kind == kind.rawValue && $0.id == id }
        return unresolved.count != before
    }

    /// The pointer of the entity at `index` inside the portfolio document.
    public static func pointer(of kind: EntityKind, index: Int) -> JSONPointer {
        JSONPointer(kind.collectionPointer + [String(index)])
    }

    /// How many of each kind, for engine.info and portfolio.list.
    public var counts: Counts {
        var c = Counts()
        for kind in EntityKind.allCases { c[kind] = count(of: kind) }
        c.observations = metrics.reduce(0) { $0 + $1.observations.count }
        return c
    }
}

/// How many entities of each kind, and observations. Its JSON members are the kinds' collections
/// ("products": 12) and "observations", taken from the registry.
public struct Counts: Codable, Sendable, Equatable {
    // By EntityKind.ordinal: engine.info sums these on every call, and a dictionary keyed by kind hashed
    // each kind's raw value (a third of engine.info's instructions under callgrind).
    private var byKind = [Int](repeating: 0, count: EntityKind.allCases.count)
    public var observations = 0

    public init() {}

    public subscript(kind: EntityKind) -> Int {
        get { byKind[kind.ordinal] }
        set { byKind[kind.ordinal] = newValue }
    }

    /// The members of a Counts object, in order.
    public static var members: [String] { EntityKind.allCases.map(\.collection) + ["observations"] }

    public static func + (a: Counts, b: Counts) -> Counts {
        var c = a
        c += b
        return c
    }

    public static func += (a: inout Counts, b: Counts) {
        for i in a.byKind.indices { a.byKind[i] += b.byKind[i] }
        a.observations += b.observations
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        for k in EntityKind.allCases {
            self[k] = try c.decodeIfPresent(Int.self, forKey: AnyCodingKey(k.collection)) ?? 0
        }
        observations = try c.decodeIfPresent(Int.self, forKey: AnyCodingKey("observations")) ?? 0
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        for k in EntityKind.allCases { try c.encode(self[k], forKey: AnyCodingKey(k.collection)) }
        try c.encode(observations, forKey: AnyCodingKey("observations"))
    }

    /// As a jansson object, built directly: engine.info and portfolio.list are what callers poll.
    public var json: JSONRef {
        let o = JSONMake.object()
        for (i, name) in EntityKind.collections.enumerated() { o.set(name, JSONMake.int(byKind[i])) }
        o.set("observations", JSONMake.int(observations))
        return o
    }

    /// Its schema, for the OpenRPC document.
    public static let schema: Schema = {
        var s = Schema(kind: .object)
        s.title = "Counts"
        s.properties = members.map { .init(name: $0, schema: .integer(min: 0), required: true) }
        return s
    }()
}

struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
