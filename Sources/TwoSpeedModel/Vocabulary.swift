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
    public static let productStatuses = ["idea", "discovery", "mvp", "rollout", "live", "retired"]
    public static let sourcings = ["in-house", "external-developer", "acquired"]
    /// Why a product is on the roadmap: a validated user problem, or something else (DOMAIN.md's
    /// "roadmap without a problem" pitfall reads this).
    public static let justifications = ["user-problem", "competitor-feature", "top-down-plan", "regulation", "cost-saving"]
    public static let managerOrigins = ["marketing", "sales", "operations", "it", "finance", "customer-service",
                                        "product", "external-hire", "other"]
    public static let skills = ["business", "technology", "ux-design", "agile-delivery", "finance", "marketing",
                                "engineering", "data", "customer-empathy", "problem-solving", "creativity",
                                "communication", "leadership"]
    /// May redefine the product; may order its backlog; or only takes requests (a request taker).
    public static let decisionRights = ["redefine", "prioritize", "requests-only"]
    public static let layers = ["front-end", "back-end", "platform"]
    /// A system's life, in the words of Backstage's spec.lifecycle plus "retired".
    public static let systemStatuses = ["experimental", "production", "deprecated", "retired"]
    public static let architectures = ["monolith", "modular", "microservices", "saas", "packaged"]
    public static let interfaceKinds = ["api", "event", "direct", "file"]
    /// The categories of the McKinsey survey exhibit (DOMAIN.md), plus "delivery" for output measures
    /// such as release speed, which the "unfair or output metrics" pitfall looks for.
    public static let metricCategories = ["profit", "customer-behavior", "customer-satisfaction", "efficiency",
                                          "current-sales", "future-sales", "brand-awareness", "digital-roi",
                                          "delivery", "other"]
    public static let directions = Direction.allCases.map(\.rawValue)
    public static let decisions = ["pending", "expand", "iterate", "roll-back"]
    public static let entityKinds = EntityKind.allCases.map(\.rawValue)
}

/// Which way a measure is better (a metric's direction, an experiment's outcome, an aim's measure).
public enum Direction: String, Codable, Sendable, CaseIterable {
    case higher, lower
}
