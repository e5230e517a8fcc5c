/// The closed vocabularies of DOMAIN.md. Kept as string lists so that the schemas, the OpenRPC
/// document and the error messages all print the same words.
public enum Vocabulary {
    public static let industries = ["retail", "banking", "insurance", "telecom", "utilities", "media",
                                    "manufacturing", "public-sector", "travel", "healthcare", "other"]
    /// Departments, with "digital" for a separate digital unit and "division" for a product or business
    /// division (the telco's phone, internet and TV divisions).
    public static let departmentKinds = ["marketing", "sales", "operations", "it", "finance", "customer-service",
                                         "digital", "product", "division", "hr", "legal", "risk", "other"]
    public static let journeyKinds = ["journey", "life-event"]
    public static let productStatuses = ProductStatus.terms
    public static let sourcings = Sourcing.terms
    /// Why a product is on the roadmap: a validated user problem, or something else (DOMAIN.md's
    /// "roadmap without a problem" pitfall reads this).
    public static let justifications = Justification.terms
    public static let managerOrigins = ["marketing", "sales", "operations", "it", "finance", "customer-service",
                                        "product", "external-hire", "other"]
    public static let skills = ["business", "technology", "ux-design", "agile-delivery", "finance", "marketing",
                                "engineering", "data", "customer-empathy", "problem-solving", "creativity",
                                "communication", "leadership"]
    /// May redefine the product; may order its backlog; or only takes requests (a request taker).
    public static let decisionRights = DecisionRights.terms
    public static let layers = Layer.terms
    /// A system's life, in the words of Backstage's spec.lifecycle plus "retired".
    public static let systemStatuses = ["experimental", "production", "deprecated", "retired"]
    public static let architectures = ["monolith", "modular", "microservices", "saas", "packaged"]
    public static let interfaceKinds = InterfaceKind.terms
    /// The categories of the McKinsey survey exhibit (DOMAIN.md), plus "delivery" for output measures
    /// such as release speed, which the "unfair or output metrics" pitfall looks for.
    public static let metricCategories = ["profit", "customer-behavior", "customer-satisfaction", "efficiency",
                                          "current-sales", "future-sales", "brand-awareness", "digital-roi",
                                          "delivery", "other"]
    public static let directions = Direction.terms
    public static let decisions = Decision.terms
    public static let entityKinds = EntityKind.allCases.map(\.rawValue)
}

// The closed vocabularies the engine, the assessment and the reports test for, as enums: code names a
// term (`system.layer == Layer.frontEnd`) instead of spelling it, and the lists above are made from them,
// so a word is written once. The model keeps the strings as stored (a field no source filled is nil).

/// A term of a closed vocabulary, compared with the model's string fields as they are stored.
public protocol VocabularyTerm: RawRepresentable, CaseIterable, Sendable where RawValue == String {}

extension VocabularyTerm {
    /// Every term, in declaration order (the order schemas and messages list them in).
    public static var terms: [String] { allCases.map(\.rawValue) }
}

public func == <T: VocabularyTerm>(lhs: String?, rhs: T) -> Bool { lhs == rhs.rawValue }
public func != <T: VocabularyTerm>(lhs: String?, rhs: T) -> Bool { lhs != rhs.rawValue }

/// A product's stage in its life.
public enum ProductStatus: String, Codable, VocabularyTerm {
    case idea, discovery, mvp, rollout, live, retired
}

/// Who builds a product.
public enum Sourcing: String, Codable, VocabularyTerm {
    case inHouse = "in-house", externalDeveloper = "external-developer", acquired
}

/// Why a product is on the roadmap.
public enum Justification: String, Codable, VocabularyTerm {
    case userProblem = "user-problem", competitorFeature = "competitor-feature", topDownPlan = "top-down-plan", regulation
    case costSaving = "cost-saving"
}

/// What a product manager may decide.
public enum DecisionRights: String, Codable, VocabularyTerm {
    case redefine, prioritize, requestsOnly = "requests-only"
}

/// A system's layer.
public enum Layer: String, Codable, VocabularyTerm {
    case frontEnd = "front-end", backEnd = "back-end", platform
}

/// How one system calls another.
public enum InterfaceKind: String, Codable, VocabularyTerm {
    case api, event, direct, file
}

/// An experiment's decision, and what an evaluation recommends (every term but pending).
public enum Decision: String, Codable, VocabularyTerm {
    case pending, expand, iterate, rollBack = "roll-back"
}

/// Which way a measure is better (a metric's direction, an experiment's outcome, an aim's measure).
public enum Direction: String, Codable, VocabularyTerm {
    case higher, lower
}
