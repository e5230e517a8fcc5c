import TwoSpeedModel

// MARK: Coverage map

public struct CoverageMap: Codable, Sendable, Equatable {
    public struct Cell: Codable, Sendable, Equatable {
        public var stage: String
        public var name: String
        public var owners: [Subject]
        /// At most `Coverage.cellLimit` products and metrics; the counts say how many in all.
        public var products: [Subject]
        public var productCount: Int
        public var metrics: [Subject]
        public var metricCount: Int
        /// "owned", "unowned" (products but no owner), "uncovered" (no product), "doubly-owned", or
        /// "owner-unknown" (no owner in the portfolio, but a product's owner lives outside it: not assessed).
        public var status: String
    }
    public struct Row: Codable, Sendable, Equatable {
        public var journey: String
        public var name: String
        public var kind: String
        public var stages: [Cell]
    }
    public var journeys: [Row]
    public var unowned: [String]
    public var doublyOwned: [String]
    /// The stages whose products' owners are outside the portfolio (unresolved references): neither owned
    /// nor unowned, but evidence needed. Absent in results kept before it existed.
    public var ownerUnknown: [String]?
}

/// Journeys × stages → owners, products and metrics; the stages with no owner and with two or more.
public enum Coverage {
    public static let cellLimit = 10

    public static func map(_ c: PortfolioContext) -> CoverageMap {
        var rows: [CoverageMap.Row] = [], unowned: [String] = [], doubly: [String] = [], ownerUnknown: [String] = []
        for j in c.portfolio.journeys {
            var cells: [CoverageMap.Cell] = []
            for s in j.stages {
                let ref = j.id + "/" + s.id
                let owners = c.ownersByStage[ref] ?? []
                let products = c.productsByStage[ref] ?? []
                // A product whose owner is an unresolved reference may well be owned: unknown, not unowned.
                let outside = owners.isEmpty && products.contains { c.ownerUnresolved(.product, $0) }
                let status = products.isEmpty ? "uncovered" : outside ? "owner-unknown" : owners.isEmpty ? "unowned"
                    : owners.count > 1 ? "doubly-owned" : "owned"
                if outside { ownerUnknown.append(ref) } else if owners.isEmpty { unowned.append(ref) }
                if owners.count > 1 { doubly.append(ref) }
                let metrics = c.metricsByStage[ref] ?? []
                cells.append(.init(stage: ref, name: s.name, owners: owners.map { c.subject(.manager, $0) },
                                   products: products.prefix(cellLimit).map { c.subject(.product, $0) }, productCount: products.count,
                                   metrics: metrics.prefix(cellLimit).map { c.subject(.metric, $0) }, metricCount: metrics.count,
                                   status: status))
            }
            rows.append(.init(journey: j.id, name: j.name, kind: j.kind ?? "journey", stages: cells))
        }
        return CoverageMap(journeys: rows, unowned: unowned, doublyOwned: doubly, ownerUnknown: ownerUnknown.isEmpty ? nil : ownerUnknown)
    }
}

// MARK: Prioritization

public struct Prioritization: Codable, Sendable, Equatable {
    public struct Item: Codable, Sendable, Equatable {
        public var rank: Int
        public var product: Subject
        public var score: Double
        /// The inputs and the arithmetic, e.g. "reach 180000 × impact 2 × confidence 0.8 / effort 9".
        public var explanation: String
    }
    public var method: String
    public var formula: String
    /// Highest first; in an assessment result only the top of the list (see `total`).
    public var ranked: [Item]
    public var total: Int
    /// Active products without the inputs the method needs.
    public var unscored: [Subject]
    public var unscoredTotal: Int
}

/// Ranks active products by value against resources, RICE or WSJF.
public enum Prioritizer {
    public static let methods = PrioritizationMethod.terms

    public static func rank(_ c: PortfolioContext, method: String, limit: Int? = nil) -> Prioritization {
        var scored: [(Product, Double, String)] = []
        var unscored: [Subject] = []
        let formula: String
        switch method {
        case "rice":
            formula = "RICE = reach × impact × confidence / effort (person-months)"
            for p in c.activeProducts {
                guard let r = p.rice else { unscored.append(c.subject(.product, p.id)); continue }
                scored.append((p, r.reach * r.impact * r.confidence / r.effort,
                               "reach \(grouped(r.reach)) × impact \(n(r.impact)) × confidence \(n(r.confidence)) / effort \(n(r.effort)) person-months"))
            }
        case "wsjf":
            formula = "WSJF = (business value + time criticality + risk reduction or opportunity enablement) / job size"
            for p in c.activeProducts {
                guard let w = p.wsjf else { unscored.append(c.subject(.product, p.id)); continue }
                scored.append((p, (w.businessValue + w.timeCriticality + w.riskReduction) / w.jobSize,
                               "(\(n(w.businessValue)) + \(n(w.timeCriticality)) + \(n(w.riskReduction))) / \(n(w.jobSize))"))
            }
        default:
            formula = "expected value per year / development resources (person-weeks)"
            for p in c.activeProducts {
                guard let v = p.value, let r = p.resources, r > 0 else { unscored.append(c.subject(.product, p.id)); continue }
                scored.append((p, v / r, "expected value \(grouped(v)) a year / \(grouped(r)) person-weeks = \(grouped(v / r)) a person-week"))
            }
        }
        // Highest first; equal scores keep document order, so the ranking is stable.
        let order = scored.enumerated().sorted { a, b in a.element.1 != b.element.1 ? a.element.1 > b.element.1 : a.offset < b.offset }
            .prefix(limit ?? Int.max)
        let ranked = order.enumerated().map { i, e in
            Prioritization.Item(rank: i + 1, product: c.subject(.product, e.element.0.id), score: round4(e.element.1),
                                explanation: e.element.2)
        }
        return Prioritization(method: method, formula: formula, ranked: Array(ranked), total: scored.count,
                              unscored: Array(unscored.prefix(limit ?? Int.max)), unscoredTotal: unscored.count)
    }

    static func n(_ v: Double) -> String { fmtNumber(v, digits: 4) }

    /// A figure people compare at a glance: thousands grouped ("2,400,000"), at most two decimals.
    static func grouped(_ v: Double) -> String {
        let s = fmtNumber(v, digits: 2)
        guard !s.contains("e") else { return s }
        let negative = s.hasPrefix("-")
        let body = negative ? s.dropFirst() : Substring(s)
        let whole = Array(body.prefix { $0 != "." }), rest = body.dropFirst(whole.count)
        var out = negative ? "-" : ""
        for (i, d) in whole.enumerated() {
            if i > 0 && (whole.count - i) % 3 == 0 { out += "," }
            out.append(d)
        }
        return out + rest
    }

    /// What a score of the method is measured in, for a column's head.
    public static func scoreUnit(_ method: String) -> String {
        switch method {
        case "rice": return "RICE score (reach × impact × confidence per person-month)"
        case "wsjf": return "WSJF score (cost of delay per unit of job size)"
        default: return "Expected value a year per person-week"
        }
    }
}

// MARK: Speed tiers and couplings

public struct SpeedAnalysis: Codable, Sendable, Equatable {
    public struct SystemTier: Codable, Sendable, Equatable {
        public var system: Subject
        public var layer: String
        /// The speed tier, from deployment frequency and lead time.
        public var tier: String?
        /// The tier change failure rate and recovery time point to, beside speed rather than in it.
        public var stability: String?
        /// The tier each key alone points to.
        public var byKey: [String: String]
        public var delivery: Delivery?
        /// "events" (computed from recorded deployments and incidents) or "entered", when some system
        /// of the portfolio has recorded events.
        public var source: String? = nil
    }
    public struct Coupling: Codable, Sendable, Equatable {
        public var from: Subject
        public var to: Subject
        public var kind: String
        public var fromTier: String?
        public var toTier: String?
        /// A direct or file coupling from a faster system to a slower one: its releases wait.
        public var blocking: Bool
        public var reason: String
    }
    public var reference: String
    public var systems: [SystemTier]
    /// Count of systems per layer and tier: layers["front-end"]["elite"].
    public var layers: [String: [String: Int]]
    public var couplings: [Coupling]
}

public enum SpeedTiers {
    public static func analyze(_ c: PortfolioContext) -> SpeedAnalysis {
        var systems: [SpeedAnalysis.SystemTier] = []
        var layers: [String: [String: Int]] = [:]
        for s in c.portfolio.systems {
            let tier = c.tierBySystem[s.id]
            let byKey = s.delivery.map { SpeedTier.perKey($0).mapValues(\.rawValue) } ?? [:]
            systems.append(.init(system: c.subject(.system, s.id), layer: s.layer, tier: tier?.rawValue,
                                 stability: s.delivery.flatMap { SpeedTier.stability($0) }?.rawValue, byKey: byKey, delivery: s.delivery,
                                 source: c.deliveryFromEvents.isEmpty || s.delivery == nil ? nil
                                     : c.deliveryFromEvents.contains(s.id) ? "events" : "entered"))
            layers[s.layer, default: [:]][tier?.rawValue ?? "unknown", default: 0] += 1
        }
        var couplings: [SpeedAnalysis.Coupling] = []
        for s in c.portfolio.systems {
            for i in s.interfaces {
                guard let to = c.systemByID[i.to] else { continue }
                let ft = c.tierBySystem[s.id], tt = c.tierBySystem[to.id]
                guard let ft, let tt, tt < ft else { continue }
                let hard = i.kind == InterfaceKind.direct || i.kind == InterfaceKind.file
                let reason = hard
                    ? "\(s.name) (\(ft.rawValue)) is coupled by \(i.kind) to \(to.name) (\(tt.rawValue)): its changes wait on the slower release cycle"
                    : "\(s.name) (\(ft.rawValue)) calls \(to.name) (\(tt.rawValue)) through an \(i.kind == InterfaceKind.api ? "API" : "event interface"): decoupled"
                couplings.append(.init(from: c.subject(.system, s.id), to: c.subject(.system, to.id), kind: i.kind,
                                       fromTier: ft.rawValue, toTier: tt.rawValue, blocking: hard, reason: reason))
            }
        }
        couplings.sort { $0.blocking && !$1.blocking }
        return SpeedAnalysis(reference: DORA.citation, systems: systems, layers: layers, couplings: couplings)
    }
}

// MARK: OKR alignment

public struct OKRAlignment: Codable, Sendable, Equatable {
    public struct Objective: Codable, Sendable, Equatable {
        public var okr: Subject
        public var departments: [String]
        public var parent: String?
        public var shared: Bool
        /// At most ten contributing products; `productCount` says how many in all.
        public var products: [Subject]
        public var productCount: Int
        public var keyResults: [KeyResultStatus]
    }
    public struct KeyResultStatus: Codable, Sendable, Equatable {
        public var description: String
        public var metric: String?
        /// Latest observation and target, where known.
        public var latest: Double?
        public var target: Double?
        /// No metric, or a metric no product can influence.
        public var orphan: Bool
    }
    public var objectives: [Objective]
    public var sharedShare: Double?
    public var orphanKeyResults: Int
    /// At most fifty; `productsWithoutObjectiveCount` says how many in all.
    public var productsWithoutObjective: [Subject]
    public var productsWithoutObjectiveCount: Int
}

public enum OKRs {
    public static func align(_ c: PortfolioContext) -> OKRAlignment {
        var productsByOKR: [String: [String]] = [:]
        for p in c.activeProducts { for o in p.okrs { productsByOKR[o, default: []].append(p.id) } }
        var orphans = 0, shared = 0
        var objectives: [OKRAlignment.Objective] = []
        for o in c.portfolio.okrs {
            let isShared = c.isShared(o)
            if isShared { shared += 1 }
            let krs = o.keyResults.map { kr -> OKRAlignment.KeyResultStatus in
                let m = kr.metric.flatMap { c.metricByID[$0] }
                let orphan = m == nil || (m!.products.isEmpty && m!.managers.isEmpty)
                if orphan { orphans += 1 }
                return .init(description: kr.description, metric: kr.metric, latest: m?.observations.last?.value,
                             target: kr.target ?? m?.target, orphan: orphan)
            }
            let contributors = productsByOKR[o.id] ?? []
            objectives.append(.init(okr: c.subject(.okr, o.id), departments: o.departments, parent: o.parent, shared: isShared,
                                    products: contributors.prefix(10).map { c.subject(.product, $0) },
                                    productCount: contributors.count, keyResults: krs))
        }
        let without = c.activeProducts.filter { $0.okrs.isEmpty }
        return OKRAlignment(objectives: objectives,
                            sharedShare: c.portfolio.okrs.isEmpty ? nil : round4(Double(shared) / Double(c.portfolio.okrs.count)),
                            orphanKeyResults: orphans,
                            productsWithoutObjective: without.prefix(50).map { c.subject(.product, $0.id) },
                            productsWithoutObjectiveCount: without.count)
    }
}

// MARK: Accountability

public struct Accountability: Codable, Sendable, Equatable {
    public struct ManagerShare: Codable, Sendable, Equatable {
        public var manager: Subject
        public var measuredOn: Int
        public var influenceable: Int
        /// influenceable / measuredOn; nil when the manager is measured on nothing.
        public var share: Double?
        public var notInfluenceable: [Subject]
        public var products: Int
    }
    public var managers: [ManagerShare]
}

public enum AccountabilityAnalysis {
    public static func analyze(_ c: PortfolioContext) -> Accountability {
        Accountability(managers: c.portfolio.managers.map { m in
            let metrics = m.measuredOn.compactMap { c.metricByID[$0] }
            let unfair = metrics.filter { !c.influenceable($0, by: m.id) }
            let ok = metrics.count - unfair.count
            return .init(manager: c.subject(.manager, m.id), measuredOn: metrics.count, influenceable: ok,
                         share: metrics.isEmpty ? nil : round4(Double(ok) / Double(metrics.count)),
                         notInfluenceable: unfair.map { c.subject(.metric, $0.id) },
                         products: c.productsByOwner[m.id]?.count ?? 0)
        })
    }
}

/// How analysis.prioritize (and assessment.run's prioritization) ranks products.
public enum PrioritizationMethod: String, Codable, VocabularyTerm {
    case value, rice, wsjf
}
