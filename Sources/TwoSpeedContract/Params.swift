import TwoSpeedModel
import TwoSpeedRPC
import TwoSpeedSchema

// The params of the portfolio and entity methods: the struct a client encodes and the list the engine
// validates (and rpc.discover prints), side by side. Property order is param order, since params may
// be given by position. ContractTests checks each struct against its list.

public enum ContractParams {
    public static let ifRevision = Param("ifRevision", .integer(min: 0), required: false,
                                         "apply only if the portfolio is at this revision (optimistic concurrency)")
    static let portfolio = Param("portfolio", ContractSchemas.portfolioID, "the portfolio")
    static let kind = Param("kind", ContractSchemas.kind, "the kind")
    static let entityID = Param("id", .identifier(), "the entity's id")
}

/// portfolio.put.
public struct PutParams: Encodable, Sendable {
    public var portfolio: Portfolio
    public var ifRevision: Int?
    public init(portfolio: Portfolio, ifRevision: Int? = nil) { self.portfolio = portfolio; self.ifRevision = ifRevision }

    public static let params = [Param("portfolio", ModelSchemas.portfolio, "the portfolio document"), ContractParams.ifRevision]
}

/// portfolio.get.
public struct GetParams: Codable, Sendable, Equatable {
    public var id: String
    public init(id: String) { self.id = id }

    public static let params = [Param("id", ContractSchemas.portfolioID, "the portfolio")]
}

/// portfolio.delete.
public struct DeleteParams: Codable, Sendable {
    public var id: String
    public var ifRevision: Int?
    public init(id: String, ifRevision: Int? = nil) { self.id = id; self.ifRevision = ifRevision }

    public static let params = [Param("id", ContractSchemas.portfolioID, "the portfolio"), ContractParams.ifRevision]
}

/// entity.get.
public struct EntityGetParams: Codable, Sendable, Equatable {
    public var portfolio: String
    public var kind: EntityKind
    public var id: String
    public init(portfolio: String, kind: EntityKind, id: String) { self.portfolio = portfolio; self.kind = kind; self.id = id }

    public static let params = [ContractParams.portfolio, ContractParams.kind, ContractParams.entityID]
}

/// entity.list.
public struct EntityListParams: Codable, Sendable, Equatable {
    public var portfolio: String
    public var kind: EntityKind
    public init(portfolio: String, kind: EntityKind) { self.portfolio = portfolio; self.kind = kind }

    public static let params = [ContractParams.portfolio, ContractParams.kind]
}

/// entity.upsert, with the entity as any Encodable (Product, Metric, ...). Its list is UpsertParamList.params
/// (a generic type has no stored statics).
public struct UpsertParams<E> {
    public var portfolio: String
    public var kind: EntityKind
    public var entity: E
    public var ifRevision: Int?
    public init(portfolio: String, kind: EntityKind, entity: E, ifRevision: Int? = nil) {
        self.portfolio = portfolio; self.kind = kind; self.entity = entity; self.ifRevision = ifRevision
    }
}

extension UpsertParams: Encodable where E: Encodable {}
extension UpsertParams: Decodable where E: Decodable {}
extension UpsertParams: Sendable where E: Sendable {}
/// The engine takes the entity as sent: it is validated by the schema of its kind, then stored as it came.
extension UpsertParams: CarriesRawJSON where E == RawJSON {}

public enum UpsertParamList {
    public static let params = [ContractParams.portfolio, ContractParams.kind,
                                Param("entity", ContractSchemas.entity, "the entity, by the schema of its kind"), ContractParams.ifRevision]
}

/// entity.remove.
public struct RemoveParams: Codable, Sendable {
    public var portfolio: String
    public var kind: EntityKind
    public var id: String
    public var ifRevision: Int?
    public init(portfolio: String, kind: EntityKind, id: String, ifRevision: Int? = nil) {
        self.portfolio = portfolio; self.kind = kind; self.id = id; self.ifRevision = ifRevision
    }

    public static let params = [ContractParams.portfolio, ContractParams.kind, ContractParams.entityID, ContractParams.ifRevision]
}

/// metric.observe.
public struct ObserveParams: Codable, Sendable {
    public var portfolio: String
    public var metric: String
    public var observations: [Observation]
    public var ifRevision: Int?
    public init(portfolio: String, metric: String, observations: [Observation], ifRevision: Int? = nil) {
        self.portfolio = portfolio; self.metric = metric; self.observations = observations; self.ifRevision = ifRevision
    }

    public static let params = [ContractParams.portfolio, Param("metric", .identifier(), "the metric"),
                                Param("observations", .array(ModelSchemas.observation, minItems: 1, maxItems: 1_000_000),
                                      "the observations to append"),
                                ContractParams.ifRevision]
}

// The params of the methods callers poll read themselves without Codable (ParamsReadable); ContractTests
// decodes the same params both ways and compares.

extension GetParams: ParamsReadable {
    public init(reading r: ParamsReader) throws { self.init(id: try r.string("id")) }
}

extension EntityGetParams: ParamsReadable {
    public init(reading r: ParamsReader) throws {
        self.init(portfolio: try r.string("portfolio"), kind: try r.term("kind"), id: try r.string("id"))
    }
}

extension EntityListParams: ParamsReadable {
    public init(reading r: ParamsReader) throws { self.init(portfolio: try r.string("portfolio"), kind: try r.term("kind")) }
}
