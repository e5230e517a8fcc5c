/// The portfolio model of DOMAIN.md as plain Swift values. Field names are the wire names.
/// Optional fields are left out of the JSON when absent; lists are always present.

public struct Department: Codable, Sendable, Equatable, Identified {
    public var id: String
    public var name: String
    public var kind: String
    public init(id: String, name: String, kind: String) { self.id = id; self.name = name; self.kind = kind }
}

public struct Organization: Codable, Sendable, Equatable {
    public var name: String
    public var industry: String?
    public var departments: [Department]

    public init(name: String, industry: String? = nil, departments: [Department] = []) {
        self.name = name; self.industry = industry; self.departments = departments
    }

}

public struct Stage: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
}

/// A customer journey as ordered stages, or a life event (buying a car, moving house).
public struct Journey: Codable, Sendable, Equatable, Identified {
    public var id: String
    public var name: String
    public var kind: String?
    /// The customer segment the journey serves; products of several divisions serving one segment
    /// without a shared journey are the "product silos" pitfall.
    public var segment: String?
    public var stages: [Stage]
}

/// RICE inputs: reach per period, impact 0.25..3, confidence 0..1, effort in person-months.
public struct RICE: Codable, Sendable, Equatable {
    public var reach: Double
    public var impact: Double
    public var confidence: Double
    public var effort: Double
}

/// SAFe WSJF inputs on relative (Fibonacci) scores.
public struct WSJF: Codable, Sendable, Equatable {
    public var businessValue: Double
    public var timeCriticality: Double
    public var riskReduction: Double
    public var jobSize: Double
}

/// A digital product: a customer experience, not an application.
public struct Product: Codable, Sendable, Equatable, Identified {
    public var id: String
    public var name: String
    public var problem: String?
    public var justification: String?
    public var stages: [String]
    public var owner: String?
    public var team: String?
    public var department: String?
    public var segment: String?
    public var status: String
    /// Estimated development resources, person-weeks.
    public var resources: Double?
    /// Expected value per year, in the organization's currency.
    public var value: Double?
    public var sourcing: String?
    public var systems: [String]
    public var okrs: [String]
    public var launched: String?
    public var lastIteration: String?
    public var rice: RICE?
    public var wsjf: WSJF?

    public init(id: String, name: String, status: String = ProductStatus.idea.rawValue, stages: [String] = []) {
        self.id = id; self.name = name; self.status = status; self.stages = stages
        systems = []; okrs = []
    }

}

public struct Manager: Codable, Sendable, Equatable, Identified {
    public var id: String
    public var name: String
    public var origin: String?
    public var skills: [String]
    public var training: [String]
    public var mentor: String?
    public var decisionRights: String?
    public var department: String?
    /// The metrics this manager is measured on.
    public var measuredOn: [String]

}

public struct Team: Codable, Sendable, Equatable, Identified {
    public var id: String
    public var name: String
    public var size: Int
    public var roles: [String]
    public var manager: String?
    /// Whether the product manager sits and works with the engineers.
    public var codevelopment: Bool?
    public var department: String?

}

/// DORA's four keys, as measured for one system.
public struct Delivery: Codable, Sendable, Equatable {
    public var deploysPerMonth: Double?
    public var leadTimeHours: Double?
    public var changeFailureRate: Double?
    public var recoveryHours: Double?

    public init(deploysPerMonth: Double?, leadTimeHours: Double?, changeFailureRate: Double?, recoveryHours: Double?) {
        self.deploysPerMonth = deploysPerMonth; self.leadTimeHours = leadTimeHours
        self.changeFailureRate = changeFailureRate; self.recoveryHours = recoveryHours
    }
}

public struct Interface: Codable, Sendable, Equatable {
    public var to: String
    public var kind: String
}

public struct System: Codable, Sendable, Equatable, Identified {
    public var id: String
    public var name: String
    public var layer: String
    public var architecture: String?
    public var delivery: Delivery?
    public var interfaces: [Interface]
    public var owner: String?
    public var department: String?
    public var sourcing: String?
    /// Where the system is in its life (a Backstage catalog's spec.lifecycle).
    public var status: String?

}

public struct Observation: Codable, Sendable, Equatable {
    public var at: String
    public var value: Double
    public var source: String?

    public init(at: String, value: Double, source: String? = nil) {
        self.at = at; self.value = value; self.source = source
    }
}

public struct Metric: Codable, Sendable, Equatable, Identified {
    public var id: String
    public var name: String
    public var category: String
    public var unit: String?
    public var direction: String
    public var baseline: Double?
    public var target: Double?
    public var observations: [Observation]
    /// The products and managers that can influence this metric directly.
    public var products: [String]
    public var managers: [String]

    enum CodingKeys: String, CodingKey { case id, name, category, unit, direction, baseline, target, observations, products, managers }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        category = try c.decode(String.self, forKey: .category)
        unit = try c.decodeIfPresent(String.self, forKey: .unit)
        direction = try c.decodeIfPresent(String.self, forKey: .direction) ?? Direction.higher.rawValue
        baseline = try c.decodeIfPresent(Double.self, forKey: .baseline)
        target = try c.decodeIfPresent(Double.self, forKey: .target)
        observations = try c.decodeIfPresent([Observation].self, forKey: .observations) ?? []
        products = try c.decodeIfPresent([String].self, forKey: .products) ?? []
        managers = try c.decodeIfPresent([String].self, forKey: .managers) ?? []
    }
}

public struct KeyResult: Codable, Sendable, Equatable {
    public var description: String
    public var metric: String?
    public var target: Double?
}

public struct OKR: Codable, Sendable, Equatable, Identified {
    public var id: String
    public var objective: String
    public var departments: [String]
    public var parent: String?
    public var period: String?
    public var keyResults: [KeyResult]

}

/// Users and conversions of one arm for the decision metric.
public struct ArmCounts: Codable, Sendable, Equatable {
    public var users: Int
    public var conversions: Int
}

/// A lite version tested with customers and rolled out in stages (10% → 50% → 100%).
public struct Experiment: Codable, Sendable, Equatable, Identified {
    public var id: String
    public var product: String
    public var hypothesis: String
    public var liteVersion: String?
    public var metric: String?
    /// Traffic share of the variant at each rollout stage, increasing, each in (0, 1].
    public var rollout: [Double]
    /// Index into `rollout` of the stage running now.
    public var stage: Int
    public var control: ArmCounts?
    public var variant: ArmCounts?
    public var feedback: [String]
    public var decision: String
    public var started: String?
    /// The run planned before a decision is due: days from `started`, and users over both arms. Until
    /// both are reached the experiment is still collecting, and asking for its decision would be early.
    public var plannedDays: Int?
    public var plannedUsers: Int?

    enum CodingKeys: String, CodingKey {
        case id, product, hypothesis, liteVersion, metric, rollout, stage, control, variant, feedback, decision, started
        case plannedDays, plannedUsers
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        product = try c.decode(String.self, forKey: .product)
        hypothesis = try c.decode(String.self, forKey: .hypothesis)
        liteVersion = try c.decodeIfPresent(String.self, forKey: .liteVersion)
        metric = try c.decodeIfPresent(String.self, forKey: .metric)
        rollout = try c.decodeIfPresent([Double].self, forKey: .rollout) ?? [0.1, 0.5, 1.0]
        stage = try c.decodeIfPresent(Int.self, forKey: .stage) ?? 0
        control = try c.decodeIfPresent(ArmCounts.self, forKey: .control)
        variant = try c.decodeIfPresent(ArmCounts.self, forKey: .variant)
        feedback = try c.decodeIfPresent([String].self, forKey: .feedback) ?? []
        decision = try c.decodeIfPresent(String.self, forKey: .decision) ?? Decision.pending.rawValue
        started = try c.decodeIfPresent(String.self, forKey: .started)
        plannedDays = try c.decodeIfPresent(Int.self, forKey: .plannedDays)
        plannedUsers = try c.decodeIfPresent(Int.self, forKey: .plannedUsers)
    }
}

/// A self-assessment answer to one criterion of an assessment model, on 1 (not at all) to 5 (fully).
public struct Answer: Codable, Sendable, Equatable {
    public var criterion: String
    public var score: Int
    public var evidence: String?

    public init(criterion: String, score: Int, evidence: String? = nil) {
        self.criterion = criterion; self.score = score; self.evidence = evidence
    }
}

/// A link an entity's source makes to something the portfolio does not hold (a catalog component owned
/// by a group that an org provider, not the catalog, knows). The referring entity keeps the field
/// unset: the link is neither resolved nor absent, so the assessment treats the fact as unknown.
/// An import that later brings the target resolves it and drops it from the list.
public struct UnresolvedReference: Codable, Sendable, Equatable, Hashable {
    /// The referring entity's kind, as `EntityKind` names it ("system").
    public var kind: String
    /// The referring entity's id.
    public var id: String
    /// The field the reference would fill ("owner", "department", "interfaces").
    public var field: String
    /// The reference as written in the source ("group:default/payments").
    public var ref: String
    /// Where it was written ("path/to/catalog-info.yaml:12").
    public var source: String?

    public init(kind: String, id: String, field: String, ref: String, source: String? = nil) {
        self.kind = kind; self.id = id; self.field = field; self.ref = ref; self.source = source
    }
}

/// Anything with an id that is unique within its collection.
public protocol Identified {
    var id: String { get }
}

/// A whole operating model.
public struct Portfolio: Codable, Sendable, Equatable {
    public var id: String
    public var organization: Organization
    public var journeys: [Journey]
    public var products: [Product]
    public var managers: [Manager]
    public var teams: [Team]
    public var systems: [System]
    public var metrics: [Metric]
    public var okrs: [OKR]
    public var experiments: [Experiment]
    /// The organization's self-assessment, criterion by criterion.
    public var answers: [Answer]
    /// References its sources made to entities it does not hold (optional in input, default empty).
    public var unresolved: [UnresolvedReference]

    public init(id: String, organization: Organization) {
        self.id = id; self.organization = organization
        journeys = []; products = []; managers = []; teams = []; systems = []; metrics = []; okrs = []; experiments = []; answers = []
        unresolved = []
    }

}
