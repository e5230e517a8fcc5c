import TwoSpeedModel
import TwoSpeedSchema

// The results of the portfolio and entity methods: one Swift type and one schema each. The engine
// returns (or builds the same JSON as) these types and lists these schemas in rpc.discover; the clients
// decode them. ContractTests checks every type against its schema and against real replies.
// Members the engine may add later are ignored when decoding.

/// Schemas that several results share.
public enum ContractSchemas {
    public static let portfolioID = Schema.identifier("portfolio id")
    public static let kind = Schema.oneOf(Vocabulary.entityKinds, "entity kind")
    public static let timestamp = Schema.formatted(.timestamp)
    public static let entity = Schema.dependent(EntityKind.allCases.map(\.schema), "the entity, by the schema of its kind")
    public static let entityResult = Schema.object("EntityResult", required: ["kind", "entity"], ["kind": kind, "entity": entity])
    public static let entityList = Schema.object("EntityList", required: ["kind", "entities"], ["kind": kind, "entities": .array(entity)])
}

public struct StoreInfo: Codable, Sendable, Equatable {
    public var path: String
    public var inMemory: Bool
    public var schemaVersion: Int

    public init(path: String, inMemory: Bool, schemaVersion: Int) {
        self.path = path; self.inMemory = inMemory; self.schemaVersion = schemaVersion
    }

    public static let schema = Schema.object(required: ["path", "inMemory", "schemaVersion"], [
        "path": .string(), "inMemory": .boolean(), "schemaVersion": .integer()])
}

/// engine.info.
public struct EngineInfo: Codable, Sendable, Equatable {
    public var version: String
    public var abiVersion: Int
    public var store: StoreInfo
    public var portfolios: Int
    public var counts: Counts

    public init(version: String, abiVersion: Int, store: StoreInfo, portfolios: Int, counts: Counts) {
        self.version = version; self.abiVersion = abiVersion; self.store = store; self.portfolios = portfolios; self.counts = counts
    }

    public static let schema = Schema.object("EngineInfo", required: ["version", "abiVersion", "store", "portfolios", "counts"], [
        "version": .string(), "abiVersion": .integer(), "store": StoreInfo.schema,
        "portfolios": .integer(min: 0), "counts": Counts.schema])
}

/// portfolio.put.
public struct PutResult: Codable, Sendable, Equatable {
    public var id: String
    public var revision: Int
    public var created: Bool
    public var updated: String
    public var counts: Counts

    public init(id: String, revision: Int, created: Bool, updated: String, counts: Counts) {
        self.id = id; self.revision = revision; self.created = created; self.updated = updated; self.counts = counts
    }

    public static let schema = Schema.object("PutResult", required: ["id", "revision", "created", "updated", "counts"], [
        "id": ContractSchemas.portfolioID, "revision": .integer(min: 1), "created": .boolean(),
        "updated": ContractSchemas.timestamp, "counts": Counts.schema])
}

/// portfolio.get.
public struct PortfolioRecord: Codable, Sendable, Equatable {
    public var portfolio: Portfolio
    public var revision: Int
    public var updated: String

    public init(portfolio: Portfolio, revision: Int, updated: String) {
        self.portfolio = portfolio; self.revision = revision; self.updated = updated
    }

    public static let schema = Schema.object("GetResult", required: ["portfolio", "revision", "updated"], [
        "portfolio": ModelSchemas.portfolio, "revision": .integer(min: 1), "updated": ContractSchemas.timestamp])
}

/// One portfolio of portfolio.list.
public struct PortfolioSummary: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var industry: String?
    public var revision: Int
    public var updated: String
    public var counts: Counts

    public init(id: String, name: String, industry: String?, revision: Int, updated: String, counts: Counts) {
        self.id = id; self.name = name; self.industry = industry; self.revision = revision; self.updated = updated
        self.counts = counts
    }

    public static let schema = Schema.object("Summary", required: ["id", "name", "revision", "updated", "counts"], [
        "id": ContractSchemas.portfolioID, "name": .name(), "industry": .oneOf(Vocabulary.industries),
        "revision": .integer(min: 1), "updated": ContractSchemas.timestamp, "counts": Counts.schema])
}

/// portfolio.list.
public struct PortfolioList: Codable, Sendable, Equatable {
    public var portfolios: [PortfolioSummary]

    public init(portfolios: [PortfolioSummary]) { self.portfolios = portfolios }

    public static let schema = Schema.object("ListResult", required: ["portfolios"], ["portfolios": .array(PortfolioSummary.schema)])
}

/// portfolio.delete.
public struct DeleteResult: Codable, Sendable, Equatable {
    public var id: String
    public var deleted: Bool

    public init(id: String, deleted: Bool) { self.id = id; self.deleted = deleted }

    public static let schema = Schema.object("DeleteResult", required: ["id", "deleted"], [
        "id": ContractSchemas.portfolioID, "deleted": .boolean()])
}

/// entity.get: one entity, decoded as E (Product, Metric, ... or any Decodable); its schema is
/// ContractSchemas.entityResult (a generic type has no stored statics).
public struct EntityResult<E: Decodable>: Decodable {
    public var kind: String
    public var entity: E
}

/// entity.list: every entity of a kind, decoded as E; its schema is ContractSchemas.entityList.
public struct EntityListResult<E: Decodable>: Decodable {
    public var kind: String
    public var entities: [E]
}

/// entity.upsert and entity.remove.
public struct EntityChange: Codable, Sendable, Equatable {
    public var kind: String
    public var id: String
    /// Upserts only: whether the entity is new.
    public var created: Bool?
    public var revision: Int

    public init(kind: String, id: String, created: Bool?, revision: Int) {
        self.kind = kind; self.id = id; self.created = created; self.revision = revision
    }

    public static let schema = Schema.object("EntityChange", required: ["kind", "id", "revision"], [
        "kind": ContractSchemas.kind, "id": .identifier(), "created": .boolean("upserts only: whether the entity is new"),
        "revision": .integer(min: 1)])
}

/// metric.observe.
public struct ObserveResult: Codable, Sendable, Equatable {
    public var metric: String
    public var appended: Int
    public var total: Int
    public var revision: Int

    public init(metric: String, appended: Int, total: Int, revision: Int) {
        self.metric = metric; self.appended = appended; self.total = total; self.revision = revision
    }

    public static let schema = Schema.object("ObserveResult", required: ["metric", "appended", "total", "revision"], [
        "metric": .identifier(), "appended": .integer(min: 1), "total": .integer(min: 1), "revision": .integer(min: 1)])
}

/// report.render.
public struct Rendered: Codable, Sendable, Equatable {
    public var format: String
    public var content: String
    public var mediaType: String?

    public init(format: String, content: String, mediaType: String?) {
        self.format = format; self.content = content; self.mediaType = mediaType
    }

    public static let schema = Schema.object("Rendered", required: ["format", "content"], [
        "format": .identifier("the format rendered"), "content": .string("the report", maxLength: 1 << 30),
        "mediaType": .name("text/plain, text/html or text/markdown (charset=utf-8), or what a render plugin says")])
}

/// plugin.collect.
public struct CollectResult: Codable, Sendable, Equatable {
    public var plugin: String
    public var appended: Int
    /// What was appended to each metric; a metric may have had nothing new.
    public var metrics: [ObserveResult]
    public var revision: Int

    public init(plugin: String, appended: Int, metrics: [ObserveResult], revision: Int) {
        self.plugin = plugin; self.appended = appended; self.metrics = metrics; self.revision = revision
    }

    public static let schema = Schema.object("CollectResult", required: ["plugin", "appended", "metrics", "revision"], [
        "plugin": .identifier(), "appended": .integer(min: 0), "revision": .integer(min: 1),
        "metrics": .array(.object(required: ["metric", "appended", "total", "revision"], [
            "metric": .identifier(), "appended": .integer(min: 0), "total": .integer(min: 0), "revision": .integer(min: 1)]))])
}

/// A finding as a check plugin reports it (check.run's result holds a list of these).
public struct PluginFinding: Codable, Sendable, Equatable {
    public var pitfall: String
    public var name: String
    public var severity: String
    public var subjects: [Subject]
    public var evidence: [String]
    public var recommendation: String
    public var criteria: [String]?
    public var source: String?
    public struct Subject: Codable, Sendable, Equatable {
        public var kind: String
        public var id: String
        public var name: String?
    }

    public static let schema = Schema.object("PluginFinding", required: ["pitfall", "name", "severity", "subjects", "evidence", "recommendation"], [
        "pitfall": .identifier(), "name": .name(), "severity": .oneOf(["high", "medium", "low"]),
        "subjects": .array(.object(required: ["kind", "id"], ["kind": .identifier(), "id": .string(minLength: 1, maxLength: 500), "name": .name()]),
                           minItems: 1, maxItems: 100_000),
        "evidence": .array(.string(maxLength: 8_000), maxItems: 100_000),
        "recommendation": .string(minLength: 1, maxLength: 8_000),
        "criteria": .array(.identifier(), maxItems: 100),
        "source": .string(maxLength: 2_000),
    ])
}

/// plugin.check: one check plugin's findings on a stored portfolio, as the plugin reported them.
public struct PluginCheckResult: Codable, Sendable, Equatable {
    public var plugin: String
    public var portfolio: String
    /// The portfolio's revision the plugin was shown.
    public var revision: Int
    public var findings: [PluginFinding]

    public static let schema = Schema.object("PluginCheckResult", required: ["plugin", "portfolio", "revision", "findings"], [
        "plugin": .identifier(), "portfolio": ContractSchemas.portfolioID, "revision": .integer(min: 1),
        "findings": .array(PluginFinding.schema, maxItems: 10_000)])
}
