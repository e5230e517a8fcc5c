import TwoSpeedAssessment
import TwoSpeedModel
import TwoSpeedSchema

// The results of the assessment, model, plugin, delivery, advice and campaign methods that no other
// module defines: one type and one schema each (the engine returns these types; ContractTests decodes
// real replies with them and validates those replies with the schemas). Members the engine may add
// later are ignored when decoding.

/// Any JSON value: the results the contract leaves open (plugin.call's, rpc.discover's document).
public enum AnyJSON: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([AnyJSON])
    case object([String: AnyJSON])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([AnyJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: AnyJSON].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    public subscript(key: String) -> AnyJSON? { if case .object(let o) = self { return o[key] } else { return nil } }
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
}

// MARK: Assessment

/// One kept run as assessment.history lists it.
public struct RunSummary: Codable, Sendable, Equatable {
    public var run: Int
    public var at: String
    public var asOf: String
    public var model: String
    public var revision: Int?
    public var overall: OverallResult
    public var dimensions: [String: Double]
}

/// assessment.history.
public struct RunHistory: Codable, Sendable, Equatable {
    public var portfolio: String
    public var runs: [RunSummary]
    public var change: AssessmentChange?
    public var delivery: DeliveryTrend?

    public static let schema = Schema.object("History", required: ["portfolio", "runs"], [
        "portfolio": .identifier(),
        "runs": .array(.object("RunSummary", required: ["run", "at", "asOf", "model", "overall", "dimensions"], [
            "run": .integer(min: 1), "at": .formatted(.timestamp), "asOf": .formatted(.timestamp),
            "model": .identifier(), "revision": .integer(min: 1), "overall": ResultSchemas.overall,
            "dimensions": .map(.number(min: 1, max: 5))])),
        "change": ResultSchemas.change,
        "delivery": DeliveryTrend.schema.described("the four keys of recorded delivery events by window, newest first")])
}

/// One model of assessment.model.list.
public struct ModelSummary: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var version: String
    public var builtIn: Bool
    public var dimensions: Int
    public var criteria: Int
    /// The plugin that provides the model, for plugin models.
    public var plugin: String?
    public init(_ m: AssessmentModel, builtIn: Bool, plugin: String? = nil) {
        id = m.id; name = m.name; version = m.version; self.builtIn = builtIn
        dimensions = m.dimensions.count; criteria = m.criteria.count; self.plugin = plugin
    }
}

/// assessment.model.list.
public struct ModelList: Codable, Sendable, Equatable {
    public var models: [ModelSummary]
    public init(models: [ModelSummary]) { self.models = models }

    public static let schema = Schema.object("ModelList", required: ["models"], [
        "models": .array(.object("ModelSummary", required: ["id", "name", "version", "builtIn", "dimensions", "criteria"], [
            "id": .identifier(), "name": .name(), "version": .name(), "builtIn": .boolean(),
            "dimensions": .integer(min: 1), "criteria": .integer(min: 1), "plugin": .identifier()]))])
}

/// assessment.model.put.
public struct ModelPutResult: Codable, Sendable, Equatable {
    public var id: String
    public var created: Bool
    public var dimensions: Int
    public var criteria: Int
    public init(id: String, created: Bool, dimensions: Int, criteria: Int) {
        self.id = id; self.created = created; self.dimensions = dimensions; self.criteria = criteria
    }

    public static let schema = Schema.object("ModelPutResult", required: ["id", "created", "dimensions", "criteria"], [
        "id": .identifier(), "created": .boolean(), "dimensions": .integer(min: 1), "criteria": .integer(min: 1)])
}

/// assessment.model.get.
public struct ModelResult: Codable, Sendable, Equatable {
    public var model: AssessmentModel
    public init(model: AssessmentModel) { self.model = model }

    public static let schema = Schema.object("ModelResult", required: ["model"], ["model": AssessmentModel.schema])
}

/// assessment.model.delete and campaign.delete: what was deleted.
public struct Deleted: Codable, Sendable, Equatable {
    public var id: String
    public var deleted: Bool
    public init(id: String, deleted: Bool) { self.id = id; self.deleted = deleted }
}

/// analysis.pitfalls.
public struct PitfallList: Codable, Sendable, Equatable {
    public var pitfalls: [Finding]
    public init(pitfalls: [Finding]) { self.pitfalls = pitfalls }

    public static let schema = Schema.object("PitfallList", required: ["pitfalls"], ["pitfalls": .array(ResultSchemas.finding)])
}

// MARK: Plugins

/// plugin.unload.
public struct Unloaded: Codable, Sendable, Equatable {
    public var name: String
    public var unloaded: Bool
    public init(name: String, unloaded: Bool) { self.name = name; self.unloaded = unloaded }
}

/// The plugin host's vocabularies as the contract lists them (TwoSpeedPlugins, which the clients do not
/// link, has the same lists; a test holds them equal).
public enum PluginVocabulary {
    public static let extensionPoints = ["check", "model", "metrics", "render"]
    public static let kinds = ["in-process", "process", "wasm"]
    public static let grantNames = ["engine", "wasi", "clock", "random"]
    public static let readable = EntityKind.allCases.map(\.collection) + ["answers"]
    public static let statuses = ["ready", "backoff", "restarting", "error"]
}

public enum PluginSchemas {
    public static let info = Schema.object("PluginInfo", required: ["manifest", "status"], [
        "name": .identifier(), "version": .name(), "kind": .oneOf(PluginVocabulary.kinds),
        "extensionPoints": .array(.oneOf(PluginVocabulary.extensionPoints)), "formats": .array(.identifier()),
        "reads": .array(.oneOf(PluginVocabulary.readable), "the parts of a portfolio a check plugin is shown (absent: all of it)"),
        "manifest": .string(), "status": .oneOf(PluginVocabulary.statuses), "lastError": .string(),
        "calls": .integer(min: 0), "restarts": .integer(min: 0),
        "callMicroseconds": .integer("time in calls to the plugin, from its request written to its response read", min: 0),
        "reason": .array(.object(required: ["pointer", "reason"], ["pointer": .string(), "reason": .string()])),
        "wasm": .object("WasmInfo", "a wasm plugin's limits, grants and use", required: ["limits", "grants", "moduleBytes", "usage"], [
            "limits": .object(required: ["fuel", "memoryPages", "responseBytes"], [
                "fuel": .integer(min: 1), "memoryPages": .integer(min: 1), "responseBytes": .integer(min: 1)]),
            "grants": .array(.oneOf(PluginVocabulary.grantNames)),
            "moduleBytes": .integer("the module's size", min: 0),
            "usage": .object(required: ["calls", "fuelSpent", "lastCallFuel", "traps", "failures", "instances", "pooled", "log"], [
                "calls": .integer(min: 0), "fuelSpent": .integer("fuel burnt by all calls", min: 0),
                "lastCallFuel": .integer("fuel burnt by the last call", min: 0),
                "traps": .integer("calls that trapped, ran out of fuel or went over the memory limit", min: 0),
                "failures": .map(.integer(min: 1), "failed calls by data.failure"),
                "instances": .integer("instances made", min: 0), "pooled": .integer("instances waiting for a call", min: 0),
                "log": .array(.string(), "the last lines the module logged (twospeed.log)", maxItems: 10)]),
        ]),
    ])
}

/// One plugin of plugin.list, or the plugin plugin.load loaded (the wasm block's details left as JSON).
public struct PluginEntry: Codable, Sendable, Equatable {
    public var name: String?
    public var version: String?
    public var kind: String?
    public var extensionPoints: [String]?
    public var formats: [String]?
    public var reads: [String]?
    public var manifest: String
    public var status: String
    public var lastError: String?
    public var calls: Int?
    public var restarts: Int?
    public var callMicroseconds: Int?
    public var reason: [ValidationIssue]?
    public var wasm: AnyJSON?
}

/// plugin.list.
public struct PluginList: Codable, Sendable, Equatable {
    public var plugins: [PluginEntry]
    public static let schema = Schema.object(required: ["plugins"], ["plugins": .array(PluginSchemas.info)])
}

// MARK: Delivery

public enum DeliverySchemas {
    public static let change = Schema.object("Change", required: ["id", "committed"], [
        "id": .identifier("the change (commit) id"), "committed": .formatted(.timestamp, "when it was committed")])
    public static let deployment = Schema.object("Deployment", required: ["id", "system", "time"], [
        "id": .identifier("the deployment's id; recording it again replaces it"),
        "system": .identifier("the system deployed (a system of the portfolio)"),
        "time": .formatted(.timestamp, "when it reached production"),
        "failed": .boolean("the deployment failed (default false)"),
        "changes": .anyOf([.array(change, maxItems: 100_000),
                           .map(.formatted(.timestamp), "change id → commit time: the compact form, cheaper to parse")],
                          "the changes it carries, with their commit times: a list, or an object from change id to commit time")])
    public static let incident = Schema.object("Incident", required: ["id", "system", "started"], [
        "id": .identifier("the incident's id; recording it again replaces it"),
        "system": .identifier("the system that failed"),
        "started": .formatted(.timestamp, "when the failure began"),
        "resolved": Schema.formatted(.timestamp, "when service was restored (absent or null while open)").nullableCopy(),
        "cause": .identifier("the deployment that caused it, when known")])
    public static let counts = Schema.object("RecordCounts", required: ["created", "updated", "unchanged", "skipped"], [
        "created": .integer(min: 0), "updated": .integer(min: 0), "unchanged": .integer(min: 0), "skipped": .integer(min: 0)])
    public static let figures = ResultSchemas.fourKeys
    public static let window = Schema.object("FourKeysWindow", required: ["from", "to", "systems", "labelNotes"], [
        "from": .formatted(.timestamp), "to": .formatted(.timestamp), "systems": .array(figures), "all": figures,
        "labelNotes": .array(.object("LabelNotes", required: ["system", "notes"], ["system": .identifier(), "notes": .array(.string())]),
                             "systems whose tier or stability label (DORA 2024's nearest cluster) differs from what their keys say one by "
                             + "one (each against the fastest cluster whose figure it meets), and why")])
}

extension Schema {
    public func nullableCopy() -> Schema { var s = self; s.nullable = true; return s }
}

public struct RecordKindResult: Codable, Sendable, Equatable {
    public var created: Int; public var updated: Int; public var unchanged: Int; public var skipped: Int
    public init(created: Int, updated: Int, unchanged: Int, skipped: Int) {
        self.created = created; self.updated = updated; self.unchanged = unchanged; self.skipped = skipped
    }
}

/// delivery.record.
public struct RecordResult: Codable, Sendable, Equatable {
    public var portfolio: String
    public var deployments: RecordKindResult
    public var incidents: RecordKindResult
    /// Every bad event, with the pointer of what is wrong; the first of `problemCount`.
    public var problems: [ValidationIssue]
    public var problemCount: Int
    public init(portfolio: String, deployments: RecordKindResult, incidents: RecordKindResult, problems: [ValidationIssue], problemCount: Int) {
        self.portfolio = portfolio; self.deployments = deployments; self.incidents = incidents; self.problems = problems
        self.problemCount = problemCount
    }

    public static let schema = Schema.object("RecordResult", required: ["portfolio", "deployments", "incidents", "problems", "problemCount"], [
        "portfolio": .identifier(), "deployments": DeliverySchemas.counts, "incidents": DeliverySchemas.counts,
        "problems": .array(.object(required: ["pointer", "reason"], ["pointer": .string(), "reason": .string()])),
        "problemCount": .integer(min: 0)])
}

public struct LabelNotes: Codable, Sendable, Equatable {
    public var system: String; public var notes: [String]
    public init(system: String, notes: [String]) { self.system = system; self.notes = notes }
}

public struct MetricsWindow: Codable, Sendable, Equatable {
    public var from: String
    public var to: String
    public var systems: [FourKeys.Figures]
    /// Every system's events pooled.
    public var all: FourKeys.Figures?
    /// Systems whose tier or stability label differs from what their keys say one by one, and why.
    public var labelNotes: [LabelNotes]
    public init(from: String, to: String, systems: [FourKeys.Figures], all: FourKeys.Figures?, labelNotes: [LabelNotes]) {
        self.from = from; self.to = to; self.systems = systems; self.all = all; self.labelNotes = labelNotes
    }
}

/// delivery.metrics.
public struct MetricsResult: Codable, Sendable, Equatable {
    public var portfolio: String
    public var definitions: String
    public var days: Int
    /// Newest first.
    public var windows: [MetricsWindow]
    public init(portfolio: String, definitions: String, days: Int, windows: [MetricsWindow]) {
        self.portfolio = portfolio; self.definitions = definitions; self.days = days; self.windows = windows
    }

    public static let schema = Schema.object("MetricsResult", required: ["portfolio", "definitions", "days", "windows"], [
        "portfolio": .identifier(), "definitions": .string(), "days": .integer(min: 1),
        "windows": .array(DeliverySchemas.window)])
}
