import TwoSpeedModel

/// A figure derived from the portfolio itself, with the words that explain it.
public struct FactValue: Codable, Sendable, Equatable {
    public var id: String
    public var value: Double
    /// e.g. "3 of 4 front-end systems reach the back end only through APIs".
    public var detail: String
    public var subjects: [Subject]?
    /// Every subject ("kind/id", sorted) when `subjects` lists only the first few: what a recommendation's
    /// key is made of, so that the order of the portfolio's arrays cannot change it. Not encoded.
    public var allSubjects: [String]? = nil

    enum CodingKeys: String, CodingKey { case id, value, detail, subjects }

    /// What the result says: `allSubjects` is not part of it.
    public static func == (a: FactValue, b: FactValue) -> Bool {
        a.id == b.id && a.value == b.value && a.detail == b.detail && a.subjects == b.subjects
    }

    public init(id: String, value: Double, detail: String, subjects: [Subject]?, allSubjects: [String]? = nil) {
        self.id = id; self.value = value; self.detail = detail; self.subjects = subjects; self.allSubjects = allSubjects
    }
}

/// A derived fact: how to compute it from a portfolio and what it means.
public struct Fact: Sendable {
    public var id: String
    public var description: String
    let compute: @Sendable (PortfolioContext) -> FactValue?
}

/// The catalog of facts a model's criteria may name. Shares are 0..1. A fact is unknown (nil) when the data
/// cannot say: the portfolio holds nothing it could be about, a kind of entity it depends on was never
/// recorded (no experiments, no journeys, no teams), or a field no source filled (no manager's skills).
/// Unknown is never zero: an import from a catalog carries no skills, and that is not a lack of skills.
/// `needs` says, per fact, what would answer it.
public enum FactCatalog {
    public static let facts: [Fact] = architecture + definition + ownership + testAndLearn + talent
        + collaboration + incentives + strategy + customer + culture + delivery

    public static let ids: [String] = facts.map(\.id)
    static let byID: [String: Fact] = Dictionary(facts.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })

    public static func compute(_ id: String, _ ctx: PortfolioContext) -> FactValue? { byID[id]?.compute(ctx) }

    /// A share with its sentence; nil when nothing is counted.
    static func share(_ id: String, _ n: Int, _ d: Int, _ what: String, _ which: String,
                      missing: [Subject] = [], emptyIsZero: String? = nil) -> FactValue? {
        guard d > 0 else {
            return emptyIsZero.map { FactValue(id: id, value: 0, detail: $0, subjects: nil) }
        }
        return FactValue(id: id, value: Double(n) / Double(d), detail: "\(n) of \(d) \(what) \(which)",
                         subjects: missing.isEmpty ? nil : Array(missing.prefix(20)),
                         allSubjects: missing.count > 20 ? AdviceKey.canonical(missing) : nil)
    }

    static func fact(_ id: String, _ description: String, _ f: @escaping @Sendable (PortfolioContext) -> FactValue?) -> Fact {
        Fact(id: id, description: description, compute: f)
    }

    /// What would answer each fact when the data cannot: the fields to fill or the import that brings them.
    /// A test holds that every fact has an entry.
    public static let needs: [String: String] = [
        "frontEndDecoupled": "the systems' interfaces (systems[].interfaces: api, event, direct or file), e.g. from a catalog's dependsOn",
        "frontEndFast": "front-end systems' delivery figures (systems[].delivery) or their deployment logs (import --from deployments)",
        "frontEndUngated": "the systems' interfaces and the back ends' delivery figures or deployment logs",
        "interfacesDecoupled": "the systems' interfaces (systems[].interfaces)",
        "productsWithProblem": "the problem each product solves (products[].problem)",
        "productsAsExperiences": "the customer journeys and their stages (journeys), and the stages each product covers (products[].stages)",
        "productsWithMetrics": "the products' success metrics (metrics, with metrics[].products)",
        "productsSized": "each product's expected value and resources, or RICE or WSJF inputs (products[].value, resources, rice, wsjf)",
        "stagesSingleOwner": "the customer journeys and their stages (journeys), and the products covering them with their owners",
        "productsOwned": "the products' owners (products[].owner)",
        "managersEmpowered": "the product managers' decision rights (managers[].decisionRights)",
        "productsTested": "the experiments run on the products (experiments)",
        "rolloutsStaged": "the experiments run on the products, with their rollout steps and metric (experiments)",
        "experimentsMeasured": "the experiments run on the products, with control and variant counts (experiments)",
        "managersBusinessAndTech": "the product managers' skills (managers[].skills)",
        "managersDeveloped": "the product managers' training and mentors (managers[].training, mentor)",
        "managersSoftSkills": "the product managers' skills (managers[].skills)",
        "managersFromNewPools": "where each product manager came from (managers[].origin)",
        "teamsCodeveloping": "whether each team's product manager works with the engineers (teams[].codevelopment)",
        "teamsSmall": "the teams and their sizes (teams)",
        "productsWithTeam": "the teams (teams) and each product's team (products[].team)",
        "measuresInfluenceable": "the metrics each manager is measured on (managers[].measuredOn)",
        "managersOnOutcomes": "the metrics each manager is measured on (managers[].measuredOn)",
        "metricsTracked": "the metrics, their targets and observations (metrics)",
        "productsFromUserProblems": "why each product is on the roadmap (products[].justification) or the problem it solves (products[].problem)",
        "okrsShared": "the objectives and the departments that own them (okrs)",
        "productsOnOKRs": "the objectives (okrs) and the ones each product serves (products[].okrs)",
        "segmentsUnified": "the customer segments of the journeys or products (journeys[].segment, products[].segment) and the products' departments",
        "productsOnSharedPlatforms": "the systems each product uses (products[].systems) and the platform systems",
        "stagesCovered": "the customer journeys and their stages (journeys), and the stages each product covers",
        "experimentsDecided": "the experiments run on the products, with their decisions (experiments)",
        "productsIterated": "when each live product was last improved (products[].lastIteration)",
        "systemsFast": "the systems' delivery figures or deployment logs (import --from deployments)",
        "medianDeploysPerMonth": "the systems' delivery figures or deployment logs (import --from deployments)",
        "medianLeadTimeHours": "the systems' delivery figures or deployment logs (import --from deployments)",
        "medianChangeFailureRate": "the systems' delivery figures, or deployment and incident logs",
        "medianRecoveryHours": "the systems' delivery figures, or incident logs (import --from incidents)",
    ]

    static let businessSkills: Set<String> = ["business", "marketing", "finance"]
    static let techSkills: Set<String> = ["technology", "engineering", "data"]
    static let softSkills: Set<String> = ["customer-empathy", "problem-solving", "creativity", "communication"]
    static let experimentStatuses = Set([ProductStatus.mvp, .rollout, .live].map(\.rawValue))
    static let liteStatuses = Set([ProductStatus.discovery, .mvp, .rollout].map(\.rawValue))
    /// A pending experiment with no plan of its own is due a decision after a quarter: front-end changes
    /// go out in weeks (McKinsey), so a lite test undecided for months has stalled. Younger ones are still
    /// collecting.
    static let decisionDueDays = 91

    /// Whether a pending experiment is due its decision on `asOf`: once it has run its planned days and
    /// reached its planned users (each where planned), or, with no plan, once it has run a quarter.
    static func decisionDue(_ e: Experiment, asOf: String) -> Bool {
        guard e.decision == Decision.pending, let days = e.started.flatMap({ daysBetween($0, asOf) }) else { return false }
        if e.plannedDays == nil && e.plannedUsers == nil { return days >= decisionDueDays }
        if let planned = e.plannedDays, days < planned { return false }
        if let planned = e.plannedUsers, (e.control?.users ?? 0) + (e.variant?.users ?? 0) < planned { return false }
        return true
    }

    // MARK: 1 Two-speed architecture

    static let architecture: [Fact] = [
        fact("frontEndDecoupled", "Share of front-end systems that reach back-end systems only through APIs or events.") { c in
            // No interface recorded anywhere: how front ends reach the back end is unknown, not decoupled.
            guard c.known.interfaces else { return nil }
            let fe = c.portfolio.systems.filter { $0.layer == Layer.frontEnd }
            let coupled = fe.filter { s in s.interfaces.contains { i in
                (i.kind == InterfaceKind.direct || i.kind == InterfaceKind.file) && c.systemByID[i.to]?.layer == Layer.backEnd } }
            return share("frontEndDecoupled", fe.count - coupled.count, fe.count, "front-end systems",
                         "reach the back end only through APIs or events", missing: coupled.map { c.subject(.system, $0.id) })
        },
        fact("frontEndFast", "Share of front-end systems (with delivery figures) in DORA's elite or high cluster.") { c in
            let fe = c.portfolio.systems.filter { $0.layer == Layer.frontEnd && c.tierBySystem[$0.id] != nil }
            let slow = fe.filter { c.tierBySystem[$0.id]! < .high }
            return share("frontEndFast", fe.count - slow.count, fe.count, "front-end systems",
                         "release in days or weeks (DORA elite or high)", missing: slow.map { c.subject(.system, $0.id) })
        },
        fact("frontEndUngated", "Share of front-end systems not tied, through direct or file couplings, to a system in DORA's low cluster.") { c in
            // Without interfaces or any system's delivery figures no wait can be seen: unknown, not ungated.
            guard c.known.interfaces, !c.tierBySystem.isEmpty else { return nil }
            let fe = c.portfolio.systems.filter { $0.layer == Layer.frontEnd }
            let gated = fe.filter { c.slowCouplingPath(from: $0.id) != nil }
            return share("frontEndUngated", fe.count - gated.count, fe.count, "front-end systems",
                         "release without waiting on a slow system's cycle", missing: gated.map { c.subject(.system, $0.id) })
        },
        fact("interfacesDecoupled", "Share of all system interfaces that are APIs or events rather than direct or file couplings.") { c in
            var n = 0, d = 0
            for s in c.portfolio.systems { for i in s.interfaces { d += 1; if i.kind == InterfaceKind.api || i.kind == InterfaceKind.event { n += 1 } } }
            return share("interfacesDecoupled", n, d, "interfaces", "are APIs or events")
        },
    ]

    // MARK: 2 Product definition

    static let definition: [Fact] = [
        fact("productsWithProblem", "Share of active products that state the user or business problem they solve.") { c in
            guard c.known.reasons else { return nil }
            let missing = c.activeProducts.filter { ($0.problem ?? "").isEmpty }
            return share("productsWithProblem", c.activeProducts.count - missing.count, c.activeProducts.count,
                         "products", "state the problem they solve", missing: missing.map { c.subject(.product, $0.id) })
        },
        fact("productsAsExperiences", "Share of active products defined by the journey stages they cover.") { c in
            // Without journeys there are no stages to define a product by: unknown, not application-shaped.
            guard c.known.journeys else { return nil }
            let missing = c.activeProducts.filter { $0.stages.isEmpty }
            return share("productsAsExperiences", c.activeProducts.count - missing.count, c.activeProducts.count,
                         "products", "cover named journey stages", missing: missing.map { c.subject(.product, $0.id) })
        },
        fact("productsWithMetrics", "Share of active products with at least one success metric they influence.") { c in
            guard c.known.metrics else { return nil }
            let missing = c.activeProducts.filter { (c.metricsByProduct[$0.id] ?? []).isEmpty }
            return share("productsWithMetrics", c.activeProducts.count - missing.count, c.activeProducts.count,
                         "products", "have a success metric", missing: missing.map { c.subject(.product, $0.id) })
        },
        fact("productsSized", "Share of active products with expected value and development resources (or RICE or WSJF inputs).") { c in
            guard c.known.sizing else { return nil }
            let missing = c.activeProducts.filter { !(($0.value != nil && $0.resources != nil) || $0.rice != nil || $0.wsjf != nil) }
            return share("productsSized", c.activeProducts.count - missing.count, c.activeProducts.count,
                         "products", "can be prioritized by value against resources", missing: missing.map { c.subject(.product, $0.id) })
        },
    ]

    // MARK: 3 Ownership and accountability

    static let ownership: [Fact] = [
        fact("stagesSingleOwner", "Share of journey stages with exactly one accountable product manager.") { c in
            var n = 0, d = 0
            var off: [Subject] = []
            for j in c.portfolio.journeys {
                for s in j.stages {
                    d += 1
                    let owners = c.ownersByStage[j.id + "/" + s.id] ?? []
                    // A stage whose only products have owners outside the portfolio: unknown, not unowned.
                    if owners.isEmpty, let ps = c.productsByStage[j.id + "/" + s.id], ps.contains(where: { c.ownerUnresolved(.product, $0) }) {
                        d -= 1; continue
                    }
                    // One owner, and an accountable one: a request taker does not own the stage.
                    if owners.count == 1 && c.accountable(owners[0]) { n += 1 }
                    else { off.append(Subject(kind: "stage", id: j.id + "/" + s.id, name: j.name + ": " + s.name)) }
                }
            }
            return share("stagesSingleOwner", n, d, "stages", "have exactly one accountable product manager", missing: off)
        },
        fact("productsOwned", "Share of active products past the idea stage with an accountable owner.") { c in
            // An idea waits its turn in the prioritization; a manager is owed once it is taken up (McKinsey:
            // products are identified and classified, then assigned to product managers).
            // An owner who only takes requests is not accountable ownership (McKinsey).
            // An owner outside the import is unknown: neither owned nor unowned, left out of the share.
            let all = c.activeProducts.filter { $0.status != ProductStatus.idea }
            let taken = all.filter { !c.ownerUnresolved(.product, $0.id) }
            let missing = taken.filter { !c.accountable($0.owner) }
            return share("productsOwned", taken.count - missing.count, taken.count,
                         "products", "have an accountable owner" + (all.count > taken.count ? " (\(all.count - taken.count) owned by someone outside the portfolio, unknown)" : ""),
                         missing: missing.map { c.subject(.product, $0.id) })
        },
        fact("managersEmpowered", "Product managers' decision rights: 1 may redefine the product, 0.5 may prioritize, 0 takes requests.") { c in
            // Rights no source recorded are unknown, not "takes requests".
            let pms = c.productManagers.filter { $0.decisionRights != nil }
            guard !pms.isEmpty else { return nil }
            var total = 0.0
            var takers: [Subject] = []
            for m in pms {
                switch m.decisionRights {
                case DecisionRights.redefine.rawValue: total += 1
                case DecisionRights.prioritize.rawValue: total += 0.5
                default: takers.append(c.subject(.manager, m.id))
                }
            }
            let redefine = pms.filter { $0.decisionRights == DecisionRights.redefine }.count
            return FactValue(id: "managersEmpowered", value: total / Double(pms.count),
                             detail: "\(redefine) of \(pms.count) product managers may redefine their product; \(takers.count) only take requests"
                                + c.unrecorded(c.productManagers.count - pms.count, "decision rights"),
                             subjects: takers.isEmpty ? nil : takers)
        },
    ]

    // MARK: 4 Test and learn

    static let testAndLearn: [Fact] = [
        fact("productsTested", "Share of new products (in discovery, mvp or rollout, or live for less than a year) tested with customers through an experiment.") { c in
            // Lite versions first is advice for what is new: a product live for years is not asked to start over.
            // With no experiment recorded at all, none were imported: whether products were tested is unknown.
            guard c.known.experiments else { return nil }
            let candidates = c.activeProducts.filter { p in
                if liteStatuses.contains(p.status) { return true }
                guard p.status == ProductStatus.live else { return false }
                return p.launched.flatMap { daysBetween($0, c.asOf) }.map { $0 <= 365 } ?? true
            }
            let untested = candidates.filter { (c.experimentsByProduct[$0.id] ?? []).isEmpty }
            return share("productsTested", candidates.count - untested.count, candidates.count, "products in front of customers",
                         "were tested as lite versions", missing: untested.map { c.subject(.product, $0.id) })
        },
        fact("rolloutsStaged", "Share of experiments rolled out in stages from a small share (at most 25%) with a decision metric.") { c in
            let ex = c.portfolio.experiments
            let staged = ex.filter { $0.rollout.count >= 2 && ($0.rollout.first ?? 1) <= 0.25 && $0.metric != nil }
            return share("rolloutsStaged", staged.count, ex.count, "experiments", "roll out in stages with a decision metric")
        },
        fact("experimentsMeasured", "Share of experiments with control and variant counts for their decision metric.") { c in
            let ex = c.portfolio.experiments
            let measured = ex.filter { $0.control != nil && $0.variant != nil }
            return share("experimentsMeasured", measured.count, ex.count, "experiments", "have control and variant counts")
        },
    ]

    // MARK: 5 Talent

    static let talent: [Fact] = [
        // A manager with no skills, training or origin on record is unknown on that count, not lacking it:
        // a catalog import names owners and nothing about them.
        fact("managersBusinessAndTech", "Share of product managers (with skills recorded) with both a business and a technology background.") { c in
            let pms = c.productManagers.filter { !$0.skills.isEmpty }
            let (both, missing) = partition(pms) { m in m.skills.contains { businessSkills.contains($0) } && m.skills.contains { techSkills.contains($0) } }
            return share("managersBusinessAndTech", both.count, pms.count, "product managers", "combine business and technology"
                         + c.unrecorded(c.productManagers.count - pms.count, "skills"),
                         missing: missing.map { c.subject(.manager, $0.id) })
        },
        fact("managersDeveloped", "Share of product managers with training or a mentor, once any manager's profile is recorded.") { c in
            let pms = c.productManagers
            guard c.known.profiles else { return nil }
            let dev = pms.filter { !$0.training.isEmpty || $0.mentor != nil }
            return share("managersDeveloped", dev.count, pms.count, "product managers", "have training or a mentor")
        },
        fact("managersSoftSkills", "Share of product managers (with skills recorded) with customer empathy, problem solving, creativity or communication.") { c in
            let pms = c.productManagers.filter { !$0.skills.isEmpty }
            let soft = pms.filter { m in m.skills.contains { softSkills.contains($0) } }
            return share("managersSoftSkills", soft.count, pms.count, "product managers", "bring the soft skills"
                         + c.unrecorded(c.productManagers.count - pms.count, "skills"))
        },
        fact("managersFromNewPools", "Share of product managers (with an origin recorded) who came from outside IT (marketing, sales, operations, outside hires...).") { c in
            let pms = c.productManagers.filter { $0.origin != nil }
            let fresh = pms.filter { $0.origin != "it" }
            return share("managersFromNewPools", fresh.count, pms.count, "product managers", "came from outside IT"
                         + c.unrecorded(c.productManagers.count - pms.count, "origin"))
        },
    ]

    // MARK: 6 Collaboration

    static let collaboration: [Fact] = [
        fact("teamsCodeveloping", "Share of teams whose product manager works with the engineers day to day.") { c in
            // A team whose way of working no source recorded is unknown, not a team that hands off.
            let teams = c.portfolio.teams.filter { $0.codevelopment != nil }
            let co = teams.filter { $0.codevelopment == true }
            return share("teamsCodeveloping", co.count, teams.count, "teams", "codevelop with their product manager"
                         + c.unrecorded(c.portfolio.teams.count - teams.count, "way of working"),
                         missing: teams.filter { $0.codevelopment != true }.map { c.subject(.team, $0.id) })
        },
        fact("teamsSmall", "Share of teams of ten people or fewer.") { c in
            let teams = c.portfolio.teams
            let small = teams.filter { $0.size <= 10 }
            return share("teamsSmall", small.count, teams.count, "teams", "have ten people or fewer",
                         missing: teams.filter { $0.size > 10 }.map { c.subject(.team, $0.id) })
        },
        fact("productsWithTeam", "Share of active products past the idea stage with a team.") { c in
            // An idea is not being built yet; a team is owed from discovery on (McKinsey: no build and move on).
            // With no team recorded at all, teams were never imported: unknown.
            guard c.known.teams else { return nil }
            let built = c.activeProducts.filter { $0.status != ProductStatus.idea }
            let missing = built.filter { $0.team == nil }
            return share("productsWithTeam", built.count - missing.count, built.count,
                         "products", "have a team", missing: missing.map { c.subject(.product, $0.id) })
        },
    ]

    // MARK: 7 Incentives and metrics

    static let incentives: [Fact] = [
        fact("measuresInfluenceable", "Share of the metrics managers are measured on that they can influence directly.") { c in
            var n = 0, d = 0
            var unfair: [Subject] = []
            for m in c.portfolio.managers {
                for id in m.measuredOn {
                    guard let metric = c.metricByID[id] else { continue }
                    d += 1
                    // An output (releases on schedule, tickets per sprint) is no business metric, however close.
                    if !c.isOutput(metric) && c.influenceable(metric, by: m.id) { n += 1 } else { unfair.append(c.subject(.manager, m.id)) }
                }
            }
            return share("measuresInfluenceable", n, d, "measures of managers", "are metrics they can influence directly",
                         missing: Array(Set(unfair)).sorted { $0.id < $1.id })
        },
        fact("managersOnOutcomes", "Share of product managers measured on at least one business outcome (not delivery speed).") { c in
            // Nobody's measures recorded: how managers are measured is unknown.
            guard c.portfolio.managers.contains(where: { !$0.measuredOn.isEmpty }) else { return nil }
            let pms = c.productManagers
            let (onOutcome, missing) = partition(pms) { m in m.measuredOn.contains { c.metricByID[$0].map { !c.isOutput($0) } ?? false } }
            return share("managersOnOutcomes", onOutcome.count, pms.count, "product managers", "are measured on business outcomes",
                         missing: missing.map { c.subject(.manager, $0.id) })
        },
        fact("metricsTracked", "Share of metrics with a target and an observation in the 92 days before the assessment date.") { c in
            let ms = c.portfolio.metrics
            // Dates compare as text; the window's start is computed once.
            let since = dateString(dayNumber(c.asOf).map { $0 - 92 } ?? 0)
            let (tracked, missing) = partition(ms) { m in m.target != nil && m.observations.contains { $0.at >= since } }
            return share("metricsTracked", tracked.count, ms.count, "metrics", "have a target and a recent observation",
                         missing: missing.map { c.subject(.metric, $0.id) })
        },
    ]

    // MARK: 8 Strategy alignment

    static let strategy: [Fact] = [
        fact("productsFromUserProblems", "Products justified by a validated user problem (1), by a stated problem only (0.5), or by competitors' features or a top-down plan (0).") { c in
            let ps = c.activeProducts
            // Neither a justification nor a problem recorded for any product: the roadmap's reasons are unknown.
            guard !ps.isEmpty, c.known.reasons else { return nil }
            var total = 0.0
            var off: [Subject] = []
            for p in ps {
                if p.justification == Justification.userProblem { total += 1 }
                else if p.justification == nil, !(p.problem ?? "").isEmpty { total += 0.5 }
                else { off.append(c.subject(.product, p.id)) }
            }
            let n = ps.filter { $0.justification == Justification.userProblem }.count
            return FactValue(id: "productsFromUserProblems", value: total / Double(ps.count),
                             detail: "\(n) of \(ps.count) products come from validated user problems", subjects: off.isEmpty ? nil : off)
        },
        fact("okrsShared", "Share of OKRs shared across departments: owned by several, through a parent objective, or linked to another department's objective, rolling up to it or rolled up to.") { c in
            let okrs = c.portfolio.okrs
            let (shared, missing) = partition(okrs) { c.isShared($0) }
            return share("okrsShared", shared.count, okrs.count, "objectives", "are shared across departments",
                         missing: missing.map { c.subject(.okr, $0.id) })
        },
        fact("productsOnOKRs", "Share of active products serving at least one OKR.") { c in
            guard c.known.okrs else { return nil }
            let missing = c.activeProducts.filter { $0.okrs.isEmpty }
            return share("productsOnOKRs", c.activeProducts.count - missing.count, c.activeProducts.count,
                         "products", "serve an objective", missing: missing.map { c.subject(.product, $0.id) })
        },
    ]

    // MARK: 9 Customer-centric organization

    static let customer: [Fact] = [
        fact("segmentsUnified", "Share of customer segments with no need (journey stage) served by products of several departments, each its own; the segments such products name for themselves are split too.") { c in
            let silos = c.productSilos()
            let segments = c.segmentsServed()
            // A split need splits the segment of its journey and every segment its products name for
            // themselves: the divisions' own customers (phone, internet, TV) are one customer, not three
            // unified ones.
            let split = Set(silos.flatMap { silo in [silo.segment ?? ""] + silo.products.compactMap { c.segment(of: $0) } })
            let unified = segments.filter { !split.contains($0.segment) }.count
            return share("segmentsUnified", unified, segments.count, "customer segments",
                         "meet one company rather than separate divisions",
                         missing: split.sorted().filter { !$0.isEmpty }.map { Subject(kind: "segment", id: $0, name: $0) })
        },
        fact("productsOnSharedPlatforms", "Share of active products (with systems) built on a shared platform system: one they list, or one their systems reach through an interface.") { c in
            let withSystems = c.activeProducts.filter { !$0.systems.isEmpty }
            // A platform is shared through its interfaces (an API gateway every front end calls), whether or
            // not a product lists it among its systems.
            func isPlatform(_ id: String) -> Bool { c.systemByID[id]?.layer == Layer.platform }
            let onPlatform = withSystems.filter { p in
                p.systems.contains { s in isPlatform(s) || (c.systemByID[s]?.interfaces.contains { isPlatform($0.to) } ?? false) }
            }
            let on = Set(onPlatform.map(\.id))
            return share("productsOnSharedPlatforms", onPlatform.count, withSystems.count, "products",
                         "use a shared platform (processes and data)",
                         missing: withSystems.filter { !on.contains($0.id) }.map { c.subject(.product, $0.id) })
        },
        fact("stagesCovered", "Share of journey stages that at least one active product covers.") { c in
            var n = 0, d = 0
            var gaps: [Subject] = []
            for j in c.portfolio.journeys {
                for s in j.stages {
                    d += 1
                    if c.productsByStage[j.id + "/" + s.id] != nil { n += 1 }
                    else { gaps.append(Subject(kind: "stage", id: j.id + "/" + s.id, name: j.name + ": " + s.name)) }
                }
            }
            return share("stagesCovered", n, d, "stages", "are served by a product", missing: gaps)
        },
    ]

    // MARK: 10 Culture

    static let culture: [Fact] = [
        fact("experimentsDecided", "Share of experiments due a decision that got one (expand, iterate or roll back); an experiment still inside its planned days or users (without a plan: pending for under a quarter) is still running and not counted.") { c in
            let ex = c.portfolio.experiments
            let decided = ex.filter { $0.decision != Decision.pending }
            let due = ex.filter { decisionDue($0, asOf: c.asOf) }
            // No experiment recorded: experiments were never imported, which says nothing of the culture.
            if ex.isEmpty { return nil }
            // Every experiment still inside its run: nothing is due, so nothing speaks for or against.
            return share("experimentsDecided", decided.count, decided.count + due.count, "experiments due a decision",
                         "got one (\(ex.count - decided.count - due.count) still running)",
                         missing: due.map { c.subject(.experiment, $0.id) })
        },
        fact("productsIterated", "Share of live or rolling-out products iterated in the 180 days before the assessment date.") { c in
            // No product's last iteration recorded: the field no source filled, unknown.
            guard c.known.iterations else { return nil }
            let ps = c.activeProducts.filter { $0.status == ProductStatus.live || $0.status == ProductStatus.rollout }
            let (iterated, missing) = partition(ps) { p in p.lastIteration.flatMap { daysBetween($0, c.asOf) }.map { $0 <= 180 } ?? false }
            return share("productsIterated", iterated.count, ps.count, "live products", "were improved in the last 180 days",
                         missing: missing.map { c.subject(.product, $0.id) })
        },
    ]
}

extension FactCatalog {
    // MARK: Software delivery (DORA's four keys, for models such as DORA's own)

    static func median(_ c: PortfolioContext, _ id: String, _ what: String, _ unit: String,
                       _ key: @escaping (Delivery) -> Double?) -> FactValue? {
        let values = c.portfolio.systems.compactMap { $0.delivery.flatMap(key) }.sorted()
        guard !values.isEmpty else { return nil }
        let m = values.count % 2 == 1 ? values[values.count / 2] : (values[values.count / 2 - 1] + values[values.count / 2]) / 2
        return FactValue(id: id, value: m, detail: "median \(what) of \(values.count) systems: \(fmtNumber(m, digits: 2)) \(unit)", subjects: nil)
    }

    static let delivery: [Fact] = [
        fact("systemsFast", "Share of systems (with delivery figures) in DORA's elite or high cluster.") { c in
            let known = c.portfolio.systems.filter { c.tierBySystem[$0.id] != nil }
            let fast = known.filter { c.tierBySystem[$0.id]! >= .high }
            return share("systemsFast", fast.count, known.count, "systems", "are in DORA's elite or high cluster",
                         missing: known.filter { c.tierBySystem[$0.id]! < .high }.map { c.subject(.system, $0.id) })
        },
        fact("medianDeploysPerMonth", "Median deployments per month across systems.") { c in
            median(c, "medianDeploysPerMonth", "deployment frequency", "a month") { $0.deploysPerMonth }
        },
        fact("medianLeadTimeHours", "Median lead time for changes across systems, hours.") { c in
            median(c, "medianLeadTimeHours", "lead time", "hours") { $0.leadTimeHours }
        },
        fact("medianChangeFailureRate", "Median change failure rate across systems (0..1).") { c in
            median(c, "medianChangeFailureRate", "change failure rate", "") { $0.changeFailureRate }
        },
        fact("medianRecoveryHours", "Median failed deployment recovery time across systems, hours.") { c in
            median(c, "medianRecoveryHours", "recovery time", "hours") { $0.recoveryHours }
        },
    ]
}

/// The items that satisfy `test` and those that do not, in one pass.
func partition<T>(_ items: [T], _ test: (T) -> Bool) -> ([T], [T]) {
    var yes: [T] = [], no: [T] = []
    for i in items { if test(i) { yes.append(i) } else { no.append(i) } }
    return (yes, no)
}

/// YYYY-MM-DD of a day number (Howard Hinnant's civil_from_days).
func dateString(_ z: Int) -> String {
    let z = z + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
    func pad(_ v: Int, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
    return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
}

/// Days from date a to date b (each "YYYY-MM-DD..." ), or nil when either is not a date.
func daysBetween(_ a: String, _ b: String) -> Int? {
    guard let x = dayNumber(a), let y = dayNumber(b) else { return nil }
    return y - x
}

/// Days since 1970-01-01 of the date at the start of `s` (Howard Hinnant's days_from_civil).
func dayNumber(_ s: String) -> Int? {
    let u = Array(s.utf8.prefix(10))
    guard u.count == 10, u[4] == 45, u[7] == 45 else { return nil }
    func num(_ r: Range<Int>) -> Int? {
        var v = 0
        for i in r { guard u[i] >= 48, u[i] <= 57 else { return nil }; v = v * 10 + Int(u[i] - 48) }
        return v
    }
    guard var y = num(0..<4), let m = num(5..<7), let d = num(8..<10) else { return nil }
    y -= m <= 2 ? 1 : 0
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}
