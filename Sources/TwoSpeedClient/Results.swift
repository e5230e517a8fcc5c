import TwoSpeedModel

// The results of the typed calls, as the engine's rpc.discover describes them. Members the engine may add
// later are ignored when decoding.

public struct StoreInfo: Codable, Sendable, Equatable {
    public var path: String
    public var inMemory: Bool
    public var schemaVersion: Int
}

public struct EngineInfo: Codable, Sendable, Equatable {
    public var version: String
    public var abiVersion: Int
    public var store: StoreInfo
    public var portfolios: Int
    public var counts: Counts
}

public struct PutResult: Codable, Sendable, Equatable {
    public var id: String
    public var revision: Int
    public var created: Bool
    public var updated: String
    public var counts: Counts
}

public struct PortfolioRecord: Codable, Sendable, Equatable {
    public var portfolio: Portfolio
    public var revision: Int
    public var updated: String
}

public struct PortfolioSummary: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var industry: String?
    public var revision: Int
    public var updated: String
    public var counts: Counts
}

public struct DeleteResult: Codable, Sendable, Equatable {
    public var id: String
    public var deleted: Bool
}

public struct EntityChange: Codable, Sendable, Equatable {
    public var kind: String
    public var id: String
    /// Upserts only: whether the entity is new.
    public var created: Bool?
    public var revision: Int
}

public struct ObserveResult: Codable, Sendable, Equatable {
    public var metric: String
    public var appended: Int
    public var total: Int
    public var revision: Int
}

struct ListResult: Codable { var portfolios: [PortfolioSummary] }
struct EntityResult<E: Decodable>: Decodable { var kind: String; var entity: E }
struct EntityListResult<E: Decodable>: Decodable { var kind: String; var entities: [E] }
