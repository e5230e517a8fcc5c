import TwoSpeedSchema

/// The schema of every entity: what validation checks and what rpc.discover prints. A test encodes a
/// fully populated value of each type and checks it against these, so the two cannot drift apart.
public enum ModelSchemas {
    static func ids(_ what: String) -> Schema { .array(.identifier(), "ids of \(what)", maxItems: 10_000, unique: true) }
    static func ref(_ what: String) -> Schema { .identifier("id of \(what)") }
    static let text = Schema.string()
    static let share = Schema.number(min: 0, max: 1)

    public static let department = Schema.object("Department", required: ["id", "name", "kind"], [
        "id": .identifier(),
        "name": .name(),
        "kind": .oneOf(Vocabulary.departmentKinds),
    ])

    public static let organization = Schema.object("Organization", required: ["name"], [
        "name": .name(),
        "industry": .oneOf(Vocabulary.industries),
        "departments": .array(department, maxItems: 10_000),
    ])

    public static let stage = Schema.object("Stage", required: ["id", "name"], [
        "id": .identifier(),
        "name": .name(),
    ])

    public static let journey = Schema.object("Journey", "A customer journey as ordered stages, or a life event.",
                                              required: ["id", "name", "stages"], [
        "id": .identifier(),
        "name": .name(),
        "kind": .oneOf(Vocabulary.journeyKinds),
        "segment": .identifier("the customer segment served"),
        "stages": .array(stage, "in the order the customer meets them", minItems: 1, maxItems: 1_000),
    ])

    public static let rice = Schema.object("RICE", required: ["reach", "impact", "confidence", "effort"], [
        "reach": .number("people or events per period", min: 0),
        "impact": .number("3 massive, 2 high, 1 medium, 0.5 low, 0.25 minimal", min: 0, max: 3),
        "confidence": .number("0..1 (1, 0.8, 0.5)", min: 0, max: 1),
        "effort": .number("person-months", exclusiveMin: 0),
    ])

    public static let wsjf = Schema.object("WSJF", required: ["businessValue", "timeCriticality", "riskReduction", "jobSize"], [
        "businessValue": .number("relative (Fibonacci) score", min: 0),
        "timeCriticality": .number("relative (Fibonacci) score", min: 0),
        "riskReduction": .number("risk reduction or opportunity enablement, relative score", min: 0),
        "jobSize": .number("relative (Fibonacci) score", exclusiveMin: 0),
    ])

    public static let product = Schema.object("Product", "A digital product: a customer experience, not an application.",
                                              required: ["id", "name", "status"], [
        "id": .identifier(),
        "name": .name(),
        "problem": .string("the user or business problem it solves"),
        "justification": .oneOf(Vocabulary.justifications, "why it is on the roadmap"),
        "stages": .array(.formatted(.stageRef), "journey stages it covers, as journey/stage", maxItems: 1_000, unique: true),
        "owner": ref("the accountable product manager"),
        "team": ref("the team"),
        "department": ref("the owning department or division"),
        "segment": .identifier("the customer segment served"),
        "status": .oneOf(Vocabulary.productStatuses),
        "resources": .number("estimated development resources, person-weeks", min: 0),
        "value": .number("expected value per year", min: 0),
        "sourcing": .oneOf(Vocabulary.sourcings),
        "systems": ids("the systems it uses"),
        "okrs": ids("the OKRs it serves"),
        "launched": .formatted(.date, "launch date"),
        "lastIteration": .formatted(.date, "date of the last release or iteration"),
        "rice": rice,
        "wsjf": wsjf,
    ])

    public static let manager = Schema.object("Manager", required: ["id", "name"], [
        "id": .identifier(),
        "name": .name(),
        "origin": .oneOf(Vocabulary.managerOrigins, "where the manager came from"),
        "skills": .array(.oneOf(Vocabulary.skills), maxItems: 100, unique: true),
        "training": .array(.name(), "programs attended", maxItems: 1_000),
        "mentor": ref("the manager's mentor (a manager)"),
        "decisionRights": .oneOf(Vocabulary.decisionRights),
        "department": ref("the department"),
        "measuredOn": ids("the metrics the manager is measured on"),
    ])

    public static let team = Schema.object("Team", required: ["id", "name", "size"], [
        "id": .identifier(),
        "name": .name(),
        "size": .integer("people", min: 1, max: 10_000),
        "roles": .array(.name(), maxItems: 1_000),
        "manager": ref("the product manager"),
        "codevelopment": .boolean("the product manager works with the engineers day to day"),
        "department": ref("the department"),
    ])

    public static let delivery = Schema.object("Delivery", "DORA's four keys for the system.", [
        "deploysPerMonth": .number(min: 0),
        "leadTimeHours": .number("commit to production", min: 0),
        "changeFailureRate": share.described("share of deployments that fail, 0..1"),
        "recoveryHours": .number("time to restore after a failed deployment", min: 0),
    ])

    public static let interface = Schema.object("Interface", required: ["to", "kind"], [
        "to": ref("the system called"),
        "kind": .oneOf(Vocabulary.interfaceKinds, "api and event decouple; direct and file couple"),
    ])

    public static let system = Schema.object("System", required: ["id", "name", "layer"], [
        "id": .identifier(),
        "name": .name(),
        "layer": .oneOf(Vocabulary.layers),
        "architecture": .oneOf(Vocabulary.architectures),
        "delivery": delivery,
        "interfaces": .array(interface, maxItems: 10_000),
        "owner": ref("the owning manager"),
        "department": ref("the owning department"),
        "sourcing": .oneOf(Vocabulary.sourcings),
        "status": .oneOf(Vocabulary.systemStatuses, "where the system is in its life"),
    ])

    public static let observation = Schema.object("Observation", required: ["at", "value"], [
        "at": .formatted(.timestamp),
        "value": .number(),
        "source": .name("where the figure came from"),
    ])

    public static let metric = Schema.object("Metric", required: ["id", "name", "category"], [
        "id": .identifier(),
        "name": .name(),
        "category": .oneOf(Vocabulary.metricCategories),
        "unit": .name(),
        "direction": .oneOf(Vocabulary.directions, "which way is better (default higher)"),
        "baseline": .number(),
        "target": .number(),
        "observations": .array(observation, maxItems: 10_000_000),
        "products": ids("the products that can influence it directly"),
        "managers": ids("the managers who can influence it directly"),
    ])

    public static let keyResult = Schema.object("KeyResult", required: ["description"], [
        "description": .name(),
        "metric": ref("the metric it is measured by"),
        "target": .number(),
    ])

    public static let okr = Schema.object("OKR", required: ["id", "objective"], [
        "id": .identifier(),
        "objective": .name(),
        "departments": ids("the owning departments"),
        "parent": ref("the parent objective"),
        "period": .name("e.g. 2026-H1"),
        "keyResults": .array(keyResult, maxItems: 1_000),
    ])

    public static let arm = Schema.object("ArmCounts", required: ["users", "conversions"], [
        "users": .integer(min: 0),
        "conversions": .integer(min: 0),
    ])

    public static let experiment = Schema.object("Experiment", "A lite version tested with customers and rolled out in stages.",
                                                 required: ["id", "product", "hypothesis"], [
        "id": .identifier(),
        "product": ref("the product"),
        "hypothesis": .name(),
        "liteVersion": .string("what the lite variant leaves out or changes"),
        "metric": ref("the decision metric"),
        "rollout": .array(.number(exclusiveMin: 0).with(max: 1), "variant traffic share per stage, increasing (default 0.1, 0.5, 1)",
                          minItems: 1, maxItems: 20),
        "stage": .integer("index into rollout of the running stage", min: 0),
        "control": arm,
        "variant": arm,
        "feedback": .array(.string(), maxItems: 10_000),
        "decision": .oneOf(Vocabulary.decisions),
        "started": .formatted(.date),
        "plannedDays": .integer("days from started before a decision is due", min: 1, max: 3_650),
        "plannedUsers": .integer("users over both arms before a decision is due", min: 1),
    ])

    public static let answer = Schema.object("Answer", "A self-assessment answer to one criterion.",
                                             required: ["criterion", "score"], [
        "criterion": .identifier("the criterion's id in the assessment model"),
        "score": .integer("1 (not at all) to 5 (fully)", min: 1, max: 5),
        "evidence": .string("what the score rests on", maxLength: 8_000),
    ])

    public static let unresolvedReference = Schema.object(
        "UnresolvedReference", "a reference an entity's source makes to an entity the portfolio does not hold; the field stays unset",
        required: ["kind", "id", "field", "ref"], [
        "kind": .oneOf(EntityKind.allCases.map(\.rawValue), "the referring entity's kind"),
        "id": .identifier("the referring entity's id"),
        "field": .identifier("the field the reference would fill (owner, department, interfaces)"),
        "ref": .string("the reference as written in the source (group:default/payments)", maxLength: 1_024),
        "source": .string("where it was written (path/to/catalog-info.yaml:12)", maxLength: 4_096),
    ])

    public static let portfolio = Schema.object("Portfolio", "An organization's operating model.",
                                                required: ["id", "organization"], [
        // For editors and people: the schema the document follows, and notes that travel with it
        // (a starter's "where to go next"). Accepted and not kept.
        "$schema": .string("the JSON Schema this document follows (schema/portfolio.schema.json)", maxLength: 2_048),
        "$comment": .anyOf([.string(), .array(.string(), maxItems: 1_000)], "notes for people; not kept"),
        "id": .identifier(),
        "organization": organization,
        "journeys": .array(journey, maxItems: 100_000),
        "products": .array(product, maxItems: 1_000_000),
        "managers": .array(manager, maxItems: 1_000_000),
        "teams": .array(team, maxItems: 1_000_000),
        "systems": .array(system, maxItems: 1_000_000),
        "metrics": .array(metric, maxItems: 1_000_000),
        "okrs": .array(okr, maxItems: 1_000_000),
        "experiments": .array(experiment, maxItems: 1_000_000),
        "answers": .array(answer, "the self-assessment, one answer per criterion", maxItems: 10_000),
        "unresolved": .array(unresolvedReference, "references to entities outside the portfolio (an org provider's groups)",
                             maxItems: 10_000_000),
    ])

    public static func entity(_ kind: EntityKind) -> Schema {
        switch kind {
        case .department: return department
        case .journey: return journey
        case .product: return product
        case .manager: return manager
        case .team: return team
        case .system: return system
        case .metric: return metric
        case .okr: return okr
        case .experiment: return experiment
        }
    }
}

extension Schema {
    func with(max: Double) -> Schema { var s = self; s.maximum = max; return s }
}
