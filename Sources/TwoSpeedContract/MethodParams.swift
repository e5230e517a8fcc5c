import TwoSpeedAssessment
import TwoSpeedModel
import TwoSpeedRPC

// The params of every method besides the portfolio and entity ones (Params.swift): one struct each,
// its stored properties the method's params in by-position order (ContractTests holds each to its
// spec's list). The engine's handlers get these, decoded; the clients encode them. A struct marked
// CarriesRawJSON keeps a member as the caller's JSON (the engine stores or validates it as it came);
// its clients encode another struct of the same shape (see TwoSpeedClient's call(_:encoding:)).

/// portfolio.put as the engine receives it: the document kept as sent, for the store.
public struct PutReceived: Decodable, CarriesRawJSON {
    public var portfolio: RawJSON
    public var ifRevision: Int?
}

/// The methods that take a portfolio id and nothing else.
public struct PortfolioParams: Codable, Sendable, Equatable {
    public var portfolio: String
    public init(portfolio: String) { self.portfolio = portfolio }
}

/// assessment.run.
public struct AssessmentRunParams: Codable, Sendable, Equatable {
    public var portfolio: String
    public var model: String?
    public var answers: [Answer]?
    public var asOf: String?
    public var prioritization: PrioritizationMethod?
    public var keep: Bool?
    public init(portfolio: String, model: String? = nil, answers: [Answer]? = nil, asOf: String? = nil,
                prioritization: PrioritizationMethod? = nil, keep: Bool? = nil) {
        self.portfolio = portfolio; self.model = model; self.answers = answers; self.asOf = asOf
        self.prioritization = prioritization; self.keep = keep
    }
}

/// assessment.get.
public struct AssessmentGetParams: Codable, Sendable, Equatable {
    public var portfolio: String
    public var run: Int?
    public init(portfolio: String, run: Int? = nil) { self.portfolio = portfolio; self.run = run }
}

/// assessment.history.
public struct AssessmentHistoryParams: Codable, Sendable, Equatable {
    public var portfolio: String
    public var model: String?
    public var compare: [Int]?
    public init(portfolio: String, model: String? = nil, compare: [Int]? = nil) {
        self.portfolio = portfolio; self.model = model; self.compare = compare
    }
}

/// assessment.model.put.
public struct ModelPutParams: Codable, Sendable, Equatable {
    public var model: AssessmentModel
    public init(model: AssessmentModel) { self.model = model }
}

/// assessment.model.get and assessment.model.delete.
public struct ModelIDParams: Codable, Sendable, Equatable {
    public var id: String
    public init(id: String) { self.id = id }
}

/// analysis.prioritize.
public struct PrioritizeParams: Codable, Sendable, Equatable {
    public var portfolio: String
    public var method: PrioritizationMethod?
    public init(portfolio: String, method: PrioritizationMethod? = nil) { self.portfolio = portfolio; self.method = method }
}

/// experiment.evaluate: an experiment of a portfolio, or counts given directly.
public struct ExperimentParams: Codable, Sendable, Equatable {
    public var portfolio: String?
    public var experiment: String?
    public var control: ArmCounts?
    public var variant: ArmCounts?
    public var plannedShare: Double?
    public var rollout: [Double]?
    public var stage: Int?
    public var confidence: Double?
    public var direction: Direction?
    public init(portfolio: String? = nil, experiment: String? = nil, control: ArmCounts? = nil, variant: ArmCounts? = nil,
                plannedShare: Double? = nil, rollout: [Double]? = nil, stage: Int? = nil, confidence: Double? = nil,
                direction: Direction? = nil) {
        self.portfolio = portfolio; self.experiment = experiment; self.control = control; self.variant = variant
        self.plannedShare = plannedShare; self.rollout = rollout; self.stage = stage; self.confidence = confidence
        self.direction = direction
    }
}

/// report.render: a result given, or a portfolio's kept run.
public struct RenderParams: Codable, Sendable, Equatable {
    public var format: String
    public var result: AssessmentResult?
    public var previous: AssessmentResult?
    public var portfolio: String?
    public var run: Int?
    public var width: Int?
    public init(format: String, result: AssessmentResult? = nil, previous: AssessmentResult? = nil, portfolio: String? = nil,
                run: Int? = nil, width: Int? = nil) {
        self.format = format; self.result = result; self.previous = previous; self.portfolio = portfolio; self.run = run; self.width = width
    }
}

/// plugin.load.
public struct PluginLoadParams: Codable, Sendable, Equatable {
    public var manifest: String
    public init(manifest: String) { self.manifest = manifest }
}

/// plugin.unload.
public struct PluginNameParams: Codable, Sendable, Equatable {
    public var name: String
    public init(name: String) { self.name = name }
}

/// plugin.call as the engine receives it: the plugin's params passed on as sent.
public struct PluginCallReceived: Decodable, CarriesRawJSON {
    public var plugin: String
    public var method: String
    public var params: RawJSON?
}

/// plugin.call as a client sends it.
public struct PluginCallParams<P: Encodable>: Encodable {
    public var plugin: String
    public var method: String
    public var params: P?
    public init(plugin: String, method: String, params: P?) { self.plugin = plugin; self.method = method; self.params = params }
}

/// plugin.check.
public struct PluginCheckParams: Codable, Sendable, Equatable {
    public var plugin: String
    public var portfolio: String
    public init(plugin: String, portfolio: String) { self.plugin = plugin; self.portfolio = portfolio }
}

/// plugin.collect.
public struct PluginCollectParams: Codable, Sendable, Equatable {
    public var plugin: String
    public var portfolio: String
    public var metrics: [String]?
    public var since: String?
    public init(plugin: String, portfolio: String, metrics: [String]? = nil, since: String? = nil) {
        self.plugin = plugin; self.portfolio = portfolio; self.metrics = metrics; self.since = since
    }
}

/// delivery.record as the engine receives it: the events are checked one by one as they came, so
/// that a bad one is reported and skipped rather than failing the call.
public struct DeliveryRecordReceived: Decodable, CarriesRawJSON {
    public var portfolio: String
    public var deployments: RawJSON?
    public var incidents: RawJSON?
    public var atomic: Bool?
}

/// delivery.record as a client sends it (any encodable events).
public struct DeliveryRecordParams<D: Encodable, I: Encodable>: Encodable {
    public var portfolio: String
    public var deployments: [D]?
    public var incidents: [I]?
    public var atomic: Bool?
    public init(portfolio: String, deployments: [D]? = nil, incidents: [I]? = nil, atomic: Bool? = nil) {
        self.portfolio = portfolio; self.deployments = deployments; self.incidents = incidents; self.atomic = atomic
    }
}

/// delivery.metrics.
public struct DeliveryMetricsParams: Codable, Sendable, Equatable {
    public var portfolio: String
    public var system: String?
    public var until: String?
    public var days: Int?
    public var windows: Int?
    public init(portfolio: String, system: String? = nil, until: String? = nil, days: Int? = nil, windows: Int? = nil) {
        self.portfolio = portfolio; self.system = system; self.until = until; self.days = days; self.windows = windows
    }
}

/// recommendation.history (its own struct, so that a param of its own is one property and one Param).
public struct AdviceHistoryParams: Codable, Sendable, Equatable {
    public var portfolio: String
    /// A kept run: the history as it stood at that run.
    public var upToRun: Int?
    public init(portfolio: String, upToRun: Int? = nil) { self.portfolio = portfolio; self.upToRun = upToRun }
}

/// recommendation.dismiss.
public struct DismissParams: Codable, Sendable, Equatable {
    public var portfolio: String
    public var key: String
    public var reason: String
    public var ifRevision: Int?
    public init(portfolio: String, key: String, reason: String, ifRevision: Int? = nil) {
        self.portfolio = portfolio; self.key = key; self.reason = reason; self.ifRevision = ifRevision
    }
}

/// recommendation.reopen.
public struct ReopenParams: Codable, Sendable, Equatable {
    public var portfolio: String
    public var key: String
    public var ifRevision: Int?
    public init(portfolio: String, key: String, ifRevision: Int? = nil) { self.portfolio = portfolio; self.key = key; self.ifRevision = ifRevision }
}

/// campaign.put.
public struct CampaignPutParams: Codable, Sendable, Equatable {
    public var portfolio: String
    public var campaign: Campaign
    public var ifRevision: Int?
    public init(portfolio: String, campaign: Campaign, ifRevision: Int? = nil) {
        self.portfolio = portfolio; self.campaign = campaign; self.ifRevision = ifRevision
    }
}

/// campaign.get.
public struct CampaignIDParams: Codable, Sendable, Equatable {
    public var portfolio: String
    public var id: String
    public init(portfolio: String, id: String) { self.portfolio = portfolio; self.id = id }
}

/// campaign.delete.
public struct CampaignDeleteParams: Codable, Sendable, Equatable {
    public var portfolio: String
    public var id: String
    public var ifRevision: Int?
    public init(portfolio: String, id: String, ifRevision: Int? = nil) { self.portfolio = portfolio; self.id = id; self.ifRevision = ifRevision }
}
