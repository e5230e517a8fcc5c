import TwoSpeedModel

/// Indexes of one portfolio, built once per assessment so that every fact, pitfall and analysis runs
/// in time linear in the portfolio (hash lookups, no nested scans).
public final class PortfolioContext {
    public let portfolio: Portfolio
    /// The date the assessment speaks for (YYYY-MM-DD...): the latest date in the portfolio unless given.
    public let asOf: String

    /// Every entity by kind and id, for names in sentences.
    let index: PortfolioIndex
    let productByID: [String: Product]
    let managerByID: [String: Manager]
    let systemByID: [String: System]
    let metricByID: [String: Metric]
    let okrByID: [String: OKR]
    /// Objectives that an objective of another department rolls up to, directly or through others.
    let okrsLinkedFromOtherDepartments: Set<String>
    let departmentByID: [String: Department]
    let journeyByID: [String: Journey]
    /// Products that are not retired: the ones the operating model is about now.
    let activeProducts: [Product]
    /// Products owned by each manager.
    let productsByOwner: [String: [Product]]
    /// Distinct owners of the products covering each stage ("journey/stage").
    let ownersByStage: [String: [String]]
    let productsByStage: [String: [String]]
    let metricsByStage: [String: [String]]
    /// Metrics each product can influence directly.
    let metricsByProduct: [String: [String]]
    let experimentsByProduct: [String: [Experiment]]
    /// The DORA tier of each system that has delivery figures.
    let tierBySystem: [String: SpeedTier]
    /// Systems whose delivery figures were computed from recorded events (DeliveryOverlay).
    public internal(set) var deliveryFromEvents = Set<String>()
    /// Product managers: managers who own at least one active product.
    let productManagers: [Manager]
    /// Systems linked by an interface, in either direction.
    let neighbours: [String: [String]]
    /// For each system tied by direct or file couplings to a system in DORA's low cluster, the next
    /// system on the shortest such chain: one breadth-first search backwards from all slow systems.
    let slowCouplings: (next: [String: String], count: Int)
    /// The connected group of systems (through any interface) each system belongs to, and whether the
    /// group holds a back-end system.
    let componentOf: [String: Int]
    let componentHasBackEnd: [Int: Bool]
    /// Which kinds of entity and which fields any source filled: what is not is unknown, never none.
    let known: Known

    struct Known {
        var journeys, experiments, teams, metrics, okrs, interfaces: Bool
        var problems, justifications, sizing, iterations: Bool
        /// Whether any source described the products' reasons (a problem or a justification): then a product
        /// with no problem states none. A catalog or a spreadsheet of names describes neither.
        var reasons: Bool { problems || justifications }
        /// Whether any source described the managers beyond their names (skills, origin, training, mentor or
        /// decision rights): then a manager with no training has none. An import of owners describes nobody.
        var profiles: Bool

        init(_ p: Portfolio) {
            journeys = !p.journeys.isEmpty
            experiments = !p.experiments.isEmpty
            teams = !p.teams.isEmpty
            metrics = !p.metrics.isEmpty
            okrs = !p.okrs.isEmpty
            interfaces = p.systems.contains { !$0.interfaces.isEmpty }
            problems = p.products.contains { !($0.problem ?? "").isEmpty }
            justifications = p.products.contains { $0.justification != nil }
            // Value alone (a spreadsheet's value column) cannot be set against resources: sizing is recorded
            // once some product has both, or RICE or WSJF inputs.
            sizing = p.products.contains { ($0.value != nil && $0.resources != nil) || $0.rice != nil || $0.wsjf != nil }
            iterations = p.products.contains { $0.lastIteration != nil }
            profiles = p.managers.contains { !$0.skills.isEmpty || $0.origin != nil || !$0.training.isEmpty || $0.mentor != nil || $0.decisionRights != nil }
        }
    }

    /// Entities whose owner names something outside the portfolio ("product/checkout"): neither owned nor
    /// unowned, but unknown until an import brings the owner (a catalog's groups come from an org provider).
    let ownerOutside: Set<String>

    func ownerUnresolved(_ kind: EntityKind, _ id: String) -> Bool { ownerOutside.contains(kind.rawValue + "/" + id) }

    /// " (skills not recorded for 3)": the part of a share left out because no source filled the field.
    func unrecorded(_ n: Int, _ field: String) -> String { n > 0 ? " (\(field) not recorded for \(n))" : "" }

    /// `fallback` (the run's date) stands for "now" when the data mentions no date at all.
    public init(_ p: Portfolio, asOf: String? = nil, fallback: String? = nil) {
        portfolio = p
        index = PortfolioIndex(p)
        productByID = Dictionary(p.products.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        managerByID = Dictionary(p.managers.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        systemByID = Dictionary(p.systems.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        metricByID = Dictionary(p.metrics.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        okrByID = Dictionary(p.okrs.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let okrs = okrByID
        var linked = Set<String>()
        for o in p.okrs where !o.departments.isEmpty {
            let own = Set(o.departments)
            var seen: Set<String> = [o.id]
            var up = o.parent.flatMap { okrs[$0] }
            while let a = up, seen.insert(a.id).inserted {
                if !own.isSubset(of: Set(a.departments)) { linked.insert(a.id) }
                up = a.parent.flatMap { okrs[$0] }
            }
        }
        okrsLinkedFromOtherDepartments = linked
        departmentByID = Dictionary(p.organization.departments.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        journeyByID = Dictionary(p.journeys.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        activeProducts = p.products.filter { $0.status != ProductStatus.retired }

        var byOwner: [String: [Product]] = [:]
        var owners: [String: [String]] = [:]
        var products: [String: [String]] = [:]
        for prod in activeProducts {
            if let o = prod.owner { byOwner[o, default: []].append(prod) }
            for s in prod.stages {
                products[s, default: []].append(prod.id)
                if let o = prod.owner, !(owners[s]?.contains(o) ?? false) { owners[s, default: []].append(o) }
            }
        }
        productsByOwner = byOwner
        ownersByStage = owners
        productsByStage = products

        var metricsByProduct: [String: [String]] = [:]
        for m in p.metrics { for prod in m.products { metricsByProduct[prod, default: []].append(m.id) } }
        self.metricsByProduct = metricsByProduct
        var metricsByStage: [String: [String]] = [:]
        for prod in activeProducts {
            for s in prod.stages {
                for m in metricsByProduct[prod.id] ?? [] where !(metricsByStage[s]?.contains(m) ?? false) {
                    metricsByStage[s, default: []].append(m)
                }
            }
        }
        self.metricsByStage = metricsByStage

        var ex: [String: [Experiment]] = [:]
        for e in p.experiments { ex[e.product, default: []].append(e) }
        experimentsByProduct = ex

        var tiers: [String: SpeedTier] = [:]
        // Speed is throughput (cadence and lead time); stability is shown beside it in the speed analysis.
        for s in p.systems { if let d = s.delivery, let t = SpeedTier.throughput(d) { tiers[s.id] = t } }
        tierBySystem = tiers
        productManagers = p.managers.filter { byOwner[$0.id] != nil }
        var nb: [String: [String]] = [:]
        for s in p.systems { for i in s.interfaces { nb[s.id, default: []].append(i.to); nb[i.to, default: []].append(s.id) } }
        neighbours = nb

        var hardInbound: [String: [String]] = [:]
        for s in p.systems { for i in s.interfaces where i.kind == InterfaceKind.direct || i.kind == InterfaceKind.file { hardInbound[i.to, default: []].append(s.id) } }
        var next: [String: String] = [:]
        var queue = p.systems.filter { tiers[$0.id] == .low }.map(\.id)
        var seen = Set(queue)
        var head = 0
        while head < queue.count {
            let id = queue[head]
            head += 1
            for from in hardInbound[id] ?? [] where seen.insert(from).inserted {
                next[from] = id
                queue.append(from)
            }
        }
        slowCouplings = (next, next.count)

        var comp: [String: Int] = [:]
        var hasBack: [Int: Bool] = [:]
        let layerOf = Dictionary(p.systems.map { ($0.id, $0.layer) }, uniquingKeysWith: { a, _ in a })
        var n = 0
        for s in p.systems where comp[s.id] == nil {
            var stack = [s.id]
            comp[s.id] = n
            var back = false
            while let id = stack.popLast() {
                if layerOf[id] == Layer.backEnd { back = true }
                for x in nb[id] ?? [] where comp[x] == nil { comp[x] = n; stack.append(x) }
            }
            hasBack[n] = back
            n += 1
        }
        componentOf = comp
        componentHasBackEnd = hasBack
        known = Known(p)
        ownerOutside = Set(p.unresolved.filter { $0.field == "owner" }.map { $0.kind + "/" + $0.id })

        // The latest date mentioned anywhere stands for "now", so that an assessment of the same data
        // gives the same answer whenever it runs.
        if let asOf {
            self.asOf = asOf
        } else {
            var latest = ""
            for m in p.metrics { for o in m.observations where o.at > latest { latest = o.at } }
            for prod in p.products {
                if let d = prod.lastIteration, d > latest { latest = d }
                if let d = prod.launched, d > latest { latest = d }
            }
            for e in p.experiments { if let d = e.started, d > latest { latest = d } }
            self.asOf = latest.isEmpty ? String((fallback ?? "1970-01-01").prefix(10)) : String(latest.prefix(10))
        }
    }

    func name(_ kind: EntityKind, _ id: String) -> String {
        guard let i = index.position(kind, id) else { return id }
        return portfolio.displayName(kind, at: i)
    }

    func subject(_ kind: EntityKind, _ id: String) -> Subject { Subject(kind: kind.rawValue, id: id, name: name(kind, id)) }

    /// The segment a product serves: its own, else the segment of a journey it covers.
    func segment(of product: Product) -> String? {
        if let s = product.segment { return s }
        for ref in product.stages {
            if let j = ref.split(separator: "/").first, let seg = journeyByID[String(j)]?.segment { return seg }
        }
        return nil
    }

    /// Words that name an output, what was delivered rather than what it achieved: releases shipped on
    /// schedule, tickets closed per sprint, on-time delivery. McKinsey: engineers "measured according to the
    /// speed with which they respond to the business's request ... and not the result of those changes".
    static let outputWords = ["on schedule", "on-schedule", "on time", "on-time", "ticket", "story point", "velocity",
                              "per sprint", "releases shipped", "releases delivered", "release frequency", "features shipped",
                              "features delivered", "requests closed", "requests delivered", "requests answered",
                              "delivered on", "delivery date", "deadline", "throughput"]

    /// Whether a metric measures output (delivery) rather than a business outcome: its category says so, or
    /// its name does when it is filed under efficiency or other. A metric filed as a customer or sales
    /// outcome keeps its words' business meaning ("parcels delivered on time" is the customer's promise kept).
    func isOutput(_ metric: Metric) -> Bool {
        if metric.category == "delivery" { return true }
        guard metric.category == "efficiency" || metric.category == "other" else { return false }
        let name = metric.name.lowercased()
        return Self.outputWords.contains { name.contains($0) }
    }

    /// Whether an owner is accountable: a manager who may only take requests is not (McKinsey contrasts
    /// accountable product managers with staff who "gather requirements and execute requests").
    func accountable(_ owner: String?) -> Bool {
        guard let owner else { return false }
        return managerByID[owner]?.decisionRights != DecisionRights.requestsOnly
    }

    /// Metrics the manager can influence directly: named as an influencer, or through a product they own.
    func influenceable(_ metric: Metric, by manager: String) -> Bool {
        if metric.managers.contains(manager) { return true }
        let owned = productsByOwner[manager] ?? []
        return owned.contains { metric.products.contains($0.id) }
    }
}

/// An entity a finding or figure is about.
public struct Subject: Codable, Sendable, Equatable, Hashable {
    public var kind: String
    public var id: String
    public var name: String
    public init(kind: String, id: String, name: String) { self.kind = kind; self.id = id; self.name = name }
}
