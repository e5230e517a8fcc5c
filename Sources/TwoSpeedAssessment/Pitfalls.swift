import TwoSpeedModel

/// One detected pitfall: which entities, the evidence for each, and what to do.
public struct Finding: Codable, Sendable, Equatable {
    public var pitfall: String
    public var name: String
    public var severity: String
    /// The first `Pitfalls.listLimit` subjects and their evidence; `subjectCount` says how many in all.
    public var subjects: [Subject]
    public var subjectCount: Int
    public var evidence: [String]
    public var recommendation: String
    /// The article the pitfall comes from.
    public var source: String
    /// Criteria of the default model the pitfall drags down; fixing it lifts them.
    public var criteria: [String]
    /// The check plugin that found it; the engine's own findings leave it out.
    public var plugin: String?
    /// Every subject ("kind/id", sorted) when `subjects` lists only the first `Pitfalls.listLimit`: what a
    /// recommendation's key is made of, so that the order of the portfolio's arrays cannot change it. Not encoded.
    public var allSubjects: [String]? = nil

    enum CodingKeys: String, CodingKey {
        case pitfall, name, severity, subjects, subjectCount, evidence, recommendation, source, criteria, plugin
    }

    /// What the result says: `allSubjects` is not part of it.
    public static func == (a: Finding, b: Finding) -> Bool {
        a.pitfall == b.pitfall && a.name == b.name && a.severity == b.severity && a.subjects == b.subjects
            && a.subjectCount == b.subjectCount && a.evidence == b.evidence && a.recommendation == b.recommendation
            && a.source == b.source && a.criteria == b.criteria && a.plugin == b.plugin
    }

    public init(pitfall: String, name: String, severity: String, subjects: [Subject], subjectCount: Int, evidence: [String],
                recommendation: String, source: String, criteria: [String], plugin: String?) {
        self.pitfall = pitfall; self.name = name; self.severity = severity; self.subjects = subjects
        self.subjectCount = subjectCount; self.evidence = evidence; self.recommendation = recommendation
        self.source = source; self.criteria = criteria; self.plugin = plugin
    }
}

/// A pitfall of DOMAIN.md's table and how it shows in the data.
struct Pitfall: Sendable {
    let id: String
    let name: String
    let severity: String
    let source: String
    let criteria: [String]
    let effort: Double
    let detect: @Sendable (PortfolioContext) -> (subjects: [Subject], evidence: [String], recommendation: String)?
}

public enum Pitfalls {
    public static var ids: [String] { all.map(\.id) }

    /// How many subjects and evidence lines a finding carries in an assessment result; analysis.pitfalls
    /// can return them all.
    public static let listLimit = 50

    public static func detect(_ ctx: PortfolioContext, limit: Int? = listLimit) -> [Finding] {
        all.compactMap { p in
            guard let (subjects, evidence, rec) = p.detect(ctx), !subjects.isEmpty else { return nil }
            let n = limit ?? Int.max
            var f = Finding(pitfall: p.id, name: p.name, severity: p.severity, subjects: Array(subjects.prefix(n)),
                            subjectCount: subjects.count, evidence: Array(evidence.prefix(n)),
                            recommendation: rec, source: p.source, criteria: p.criteria, plugin: nil)
            if subjects.count > n { f.allSubjects = AdviceKey.canonical(subjects) }
            return f
        }
    }

    static func effort(of pitfall: String) -> Double { all.first { $0.id == pitfall }?.effort ?? 3 }

    static let mckinsey = "McKinsey, 'A two-speed IT architecture for the digital enterprise'"

    /// "a", "a and b", "a, b and c".
    static func listed(_ xs: [String]) -> String {
        xs.count <= 2 ? xs.joined(separator: " and ") : xs.dropLast().joined(separator: ", ") + " and " + xs.last!
    }

    /// Names listed as a person writes them: “A”, “B” and “C”, or “A”, “B”, “C” and 2 more; titles of
    /// products, systems and objectives quoted, people's names not.
    static func names(_ s: [Subject]) -> String {
        let n = s.map { $0.kind == "manager" ? $0.name : "\u{201C}\($0.name)\u{201D}" }
        return n.count <= 3 ? listed(n) : n.prefix(3).joined(separator: ", ") + " and \(n.count - 3) more"
    }

    /// The singular or the plural form, by how many subjects a sentence is about.
    static func agree(_ s: [Subject], _ one: String, _ many: String) -> String { s.count == 1 ? one : many }

    static let all: [Pitfall] = [
        Pitfall(id: "looking-outside-for-speed", name: "Looking outside for speed", severity: "high", source: mckinsey,
                criteria: ["architecture.decoupled", "ownership.products"], effort: 3) { c in
            var subjects: [Subject] = [], evidence: [String] = []
            for p in c.activeProducts where p.sourcing == Sourcing.externalDeveloper {
                let reaches = p.systems.contains { c.reachesBackEnd($0) }
                // An owner outside the import may well be internal: unknown, not "no internal owner".
                let ownerless = p.owner == nil && !c.ownerUnresolved(.product, p.id)
                guard !reaches || ownerless else { continue }
                subjects.append(c.subject(.product, p.id))
                var why = ["\u{201C}\(p.name)\u{201D} is built by an external developer"]
                if !reaches {
                    let sys = p.systems.map { "\u{201C}\(c.name(.system, $0))\u{201D}" }
                    why.append(p.systems.isEmpty ? "it uses no system that reaches the back end"
                               : (sys.count == 1 ? "its system \(sys[0]) has" : "its systems \(listed(sys)) have") + " no interface to any back-end system")
                }
                if ownerless { why.append("it has no internal owner") }
                evidence.append(why.joined(separator: "; "))
            }
            return (subjects, evidence, "Bring \(names(subjects)) under an internal product manager and integrate " + agree(subjects, "it", "them") + " with the back end through an API, so " + agree(subjects, "it does not stay a discrete application", "they do not stay discrete applications") + " that " + agree(subjects, "is", "are") + " hard to integrate.")
        },
        Pitfall(id: "build-it-and-move-on", name: "Build it and move on", severity: "medium", source: mckinsey,
                criteria: ["culture.iterate", "ownership.products", "collaboration.teams"], effort: 2) { c in
            var subjects: [Subject] = [], evidence: [String] = []
            for p in c.activeProducts where p.status == ProductStatus.live {
                var why: [String] = []
                if p.owner == nil && !c.ownerUnresolved(.product, p.id) { why.append("no owner") }
                // A missing team or iteration counts only where teams or iterations are recorded at all.
                if p.team == nil && c.known.teams { why.append("no team") }
                let iterated = p.lastIteration.map { it in p.launched.map { it > $0 } ?? true } ?? false
                let observed = (c.metricsByProduct[p.id] ?? []).contains { mid in
                    c.metricByID[mid]?.observations.contains { o in p.launched.map { o.at > $0 } ?? true } ?? false
                }
                if !iterated && !observed && (c.known.iterations || c.known.metrics) {
                    why.append("neither an iteration nor a metric observation since launch")
                }
                guard !why.isEmpty else { continue }
                subjects.append(c.subject(.product, p.id))
                evidence.append("\u{201C}\(p.name)\u{201D} is live with " + listed(why))
            }
            return (subjects, evidence, "Give " + agree(subjects, "", "each of ") + "\(names(subjects)) a standing owner and team, measure " + agree(subjects, "it", "them") + " and keep iterating, rather than moving on to the next digital priority.")
        },
        Pitfall(id: "separate-digital-organization", name: "A separate digital organization out of step", severity: "high",
                source: mckinsey, criteria: ["strategy.shared-okrs", "architecture.interfaces"], effort: 4) { c in
            let depts = c.portfolio.organization.departments
            let traditional = Set(depts.filter { $0.kind != "digital" }.map(\.id))
            guard !traditional.isEmpty else { return nil }
            var subjects: [Subject] = [], evidence: [String] = []
            for d in depts where d.kind == "digital" {
                // In step (McKinsey): clear roles shared with the traditional camp. An objective shared with a
                // business department, or joint work on products: a product of one side owned or staffed by
                // the other. Wiring its front ends into the legacy core is not being in step.
                let sharesOKR = c.portfolio.okrs.contains { o in
                    c.departmentsAlongChain(o).contains(d.id) && !c.departmentsAlongChain(o).isDisjoint(with: traditional)
                }
                let teamDept = Dictionary(c.portfolio.teams.map { ($0.id, $0.department) }, uniquingKeysWith: { a, _ in a })
                let deptOf = { (p: Product) -> [String?] in [p.department, p.owner.flatMap { c.managerByID[$0]?.department }, p.team.flatMap { teamDept[$0] ?? nil }] }
                let joint = c.activeProducts.contains { p in
                    let sides = deptOf(p).compactMap { $0 }
                    return sides.contains(d.id) && sides.contains { traditional.contains($0) }
                }
                guard !sharesOKR && !joint else { continue }
                subjects.append(c.subject(.department, d.id))
                let own = c.activeProducts.filter { $0.department == d.id }.map { "\u{201C}\($0.name)\u{201D}" }
                var why = "\(d.name) shares no objective and no product, team or owner with the business departments"
                if !own.isEmpty { why += " (its products: \(listed(own)))" }
                // Its front ends wired straight into the back end: a symptom, reported as legacy governance too.
                let direct = c.portfolio.systems.filter { $0.department == d.id }.flatMap { s in
                    s.interfaces.filter { i in (i.kind == InterfaceKind.direct || i.kind == InterfaceKind.file) && c.systemByID[i.to]?.layer == Layer.backEnd }
                        .map { "\u{201C}\(s.name)\u{201D} writes straight into \u{201C}\(c.name(.system, $0.to))\u{201D}" }
                }
                if !direct.isEmpty { why += "; " + listed(direct) + ", around the back end's owners" }
                evidence.append(why)
            }
            return (subjects, evidence, "Put \(names(subjects)) in step with the rest of the business: objectives shared with the traditional departments, joint teams with clear roles on both sides, and " + agree(subjects, "its", "their") + " systems reaching the legacy back ends through interfaces their owners keep.")
        },
        Pitfall(id: "platforms-without-reorientation", name: "Platforms without reorientation", severity: "medium",
                source: mckinsey, criteria: ["definition.experiences"], effort: 3) { c in
            // McKinsey: companies "adopt the same technology platforms that online companies are using and
            // assume this alone will solve their alignment problems. It is not enough just to reorganize around
            // platforms." A pattern of the company, not of one product: it fires once, when modern platforms
            // stand and most of the products taken up are still not defined by the experiences they serve.
            // A product without an owner is an ownership finding, not this one. Without journeys recorded at all
            // the products' stages are unknown, and so is this pitfall.
            let modern = c.portfolio.systems.filter { $0.architecture == "microservices" || $0.architecture == "saas" }
            guard !modern.isEmpty, c.known.journeys else { return nil }
            let taken = c.activeProducts.filter { $0.status != ProductStatus.idea }
            let undefined = taken.filter { $0.stages.isEmpty }
            guard !taken.isEmpty, 2 * undefined.count > taken.count else { return nil }
            let subjects = undefined.map { c.subject(.product, $0.id) }
            let platforms = listed(modern.prefix(3).map { "\u{201C}\($0.name)\u{201D}" })
            let evidence = ["\(undefined.count) of \(taken.count) products cover no customer-experience stage (\(names(subjects))) although modern platforms are in place (\(modern.count) microservices or SaaS systems, e.g. \(platforms)): the company reorganized around platforms, not around customer experiences"]
            return (subjects, evidence, "Reorient the product organization around customer experiences, not only platforms: define \(names(subjects)) by the journey stages " + agree(subjects, "it serves", "they serve") + ", each with one accountable product manager.")
        },
        Pitfall(id: "legacy-governance-for-digital", name: "Legacy governance for digital", severity: "high",
                source: mckinsey, criteria: ["architecture.fast-front-end", "architecture.ungated"], effort: 4) { c in
            // McKinsey: front-end features "are rolled out in weeks rather than months", against "quarterly
            // internal software upgrades". A front end is at back-end speed when its own cadence is months
            // (DORA's low cluster), or when a direct coupling ties it to a slow system it depends on; never by
            // comparison with the company's fastest back end (a fast vendor back end makes no front end slow).
            var subjects: [Subject] = [], evidence: [String] = []
            // Two remedies for two causes: a front end released slowly needs its own release process; one
            // held by a direct coupling needs an API between it and the slow system.
            var slow: [Subject] = [], coupled: [Subject] = []
            for s in c.portfolio.systems where s.layer == Layer.frontEnd {
                var why: [String] = []
                if let t = c.tierBySystem[s.id], t == .low {
                    why.append("is released at back-end speed, in months rather than weeks (DORA \(t.rawValue) on deployment frequency and lead time)")
                    slow.append(c.subject(.system, s.id))
                }
                if let path = c.slowCouplingPath(from: s.id) {
                    let names = path.dropFirst().map { "\u{201C}\(c.name(.system, $0))\u{201D}" }
                    why.append("is coupled directly to \(names.joined(separator: " → ")), which releases in DORA's low cluster")
                    coupled.append(c.subject(.system, s.id))
                }
                guard !why.isEmpty else { continue }
                subjects.append(c.subject(.system, s.id))
                evidence.append("Front end \u{201C}\(s.name)\u{201D} " + why.joined(separator: " and "))
            }
            var steps: [String] = []
            if !slow.isEmpty {
                steps.append("Give \(names(slow)) " + agree(slow, "a release process of its own", "each a release process of its own")
                             + ", released in weeks, not at the back end's quarterly pace")
            }
            if !coupled.isEmpty {
                steps.append((slow.isEmpty ? "Put" : "put") + " an API between \(names(coupled)) and the slow back end "
                             + agree(coupled, "it writes into", "they write into") + ", so that "
                             + agree(coupled, "its", "their") + " releases stop waiting on the back end's")
            }
            return (subjects, evidence, steps.joined(separator: "; ") + ".")
        },
        Pitfall(id: "request-takers", name: "Request takers, application owners", severity: "medium",
                source: mckinsey, criteria: ["ownership.rights", "ownership.stages"], effort: 2) { c in
            var subjects: [Subject] = [], evidence: [String] = []
            let systemOwners = Set(c.portfolio.systems.compactMap(\.owner))
            for m in c.portfolio.managers {
                var why: [String] = []
                if m.decisionRights == DecisionRights.requestsOnly { why.append("may only take requests") }
                let ownsExperience = (c.productsByOwner[m.id] ?? []).contains { !$0.stages.isEmpty }
                if systemOwners.contains(m.id) && !ownsExperience && c.known.journeys { why.append("owns applications but no experience stage") }
                else if systemOwners.contains(m.id), let owned = c.productsByOwner[m.id], owned.count == 1, owned[0].systems.count == 1,
                        owned[0].stages.contains(where: { (c.ownersByStage[$0] ?? []).count > 1 }) {
                    // An application owner (McKinsey's payment application) inside another manager's stage;
                    // several divisions' product managers on one stage are product silos instead.
                    why.append("owns one application (\u{201C}\(owned[0].name)\u{201D}) inside a stage another manager owns")
                }
                guard !why.isEmpty else { continue }
                subjects.append(c.subject(.manager, m.id))
                evidence.append("\(m.name) " + why.joined(separator: " and "))
            }
            return (subjects, evidence, "Make \(names(subjects)) " + agree(subjects, "a product manager rather than a request taker: give them", "product managers rather than request takers: give each") + " a whole experience stage and the right to redefine the product.")
        },
        Pitfall(id: "unfair-or-output-metrics", name: "Unfair or output metrics", severity: "medium",
                source: mckinsey, criteria: ["incentives.influenceable", "incentives.outcomes"], effort: 2) { c in
            var subjects: [Subject] = [], evidence: [String] = []
            for m in c.portfolio.managers where !m.measuredOn.isEmpty {
                let metrics = m.measuredOn.compactMap { c.metricByID[$0] }
                // Two different faults (McKinsey): an output (how fast requests are delivered, not what they
                // achieved) is unfair as the only measure even when the manager moves it; an outcome is
                // unfair when none of the manager's products can move it.
                let outputs = metrics.filter { c.isOutput($0) }
                let unfair = metrics.filter { !c.isOutput($0) && !c.influenceable($0, by: m.id) }
                let outputOnly = !metrics.isEmpty && outputs.count == metrics.count
                guard !unfair.isEmpty || outputOnly else { continue }
                subjects.append(c.subject(.manager, m.id))
                var why: [String] = []
                func q(_ xs: [Metric]) -> String { listed(xs.map { "\u{201C}\($0.name)\u{201D}" }) }
                if outputOnly {
                    why.append("is measured only on " + (outputs.count == 1 ? "an output metric, " : "output metrics, ") + q(outputs)
                               + ": how fast requests are delivered, not the result of the change")
                }
                if !unfair.isEmpty {
                    why.append((outputOnly ? "and on " : "is measured on ") + q(unfair) + ", which none of their products can move")
                }
                evidence.append("\(m.name) " + why.joined(separator: " "))
            }
            return (subjects, evidence, "Measure \(names(subjects)) on business outcomes their own products can move, such as conversion, sales or satisfaction, not on how fast requests are answered.")
        },
        Pitfall(id: "roadmap-without-a-problem", name: "Roadmap without a problem", severity: "medium",
                source: "'About the gap between hands-on product management and company strategy'",
                criteria: ["strategy.user-problems", "definition.problem"], effort: 1) { c in
            var subjects: [Subject] = [], evidence: [String] = []
            for p in c.activeProducts {
                var why: [String] = []
                if (p.problem ?? "").isEmpty && c.known.reasons { why.append("states no user problem") }
                if p.justification == Justification.competitorFeature { why.append("is justified by competitors' features") }
                if p.justification == Justification.topDownPlan { why.append("comes from a finished top-down plan") }
                guard !why.isEmpty else { continue }
                subjects.append(c.subject(.product, p.id))
                evidence.append("\u{201C}\(p.name)\u{201D} " + why.joined(separator: " and "))
            }
            return (subjects, evidence, "Take \(names(subjects)) back to the user problem " + agree(subjects, "it", "each") + " should solve; test that problem with users before building further.")
        },
        Pitfall(id: "product-silos", name: "Product silos", severity: "high",
                source: "MIT Sloan, 'How the digital marketplace is redefining customer relationships'",
                criteria: ["customer.one-customer", "ownership.stages"], effort: 5) { c in
            var subjects: [Subject] = [], evidence: [String] = []
            var seen = Set<String>()
            for silo in c.productSilos() {
                let depts = silo.departments.map { c.name(.department, $0) }
                for p in silo.products where seen.insert(p.id).inserted { subjects.append(c.subject(.product, p.id)) }
                let who = silo.segment.map { "the same \($0)" } ?? "the same customers"
                evidence.append("\(silo.need) is served for \(who) by \(listed(depts)), each through its own product ("
                                + silo.products.map { "\u{201C}\($0.name)\u{201D}" }.joined(separator: ", ") + "): \(depts.count) customers where there is one"
                                + (silo.ownSegments.count >= 2 ? ", counted as \(listed(silo.ownSegments.map { "\u{201C}\($0)\u{201D}" }))" : ""))
            }
            return (subjects, evidence, "Recognize one customer across products: organize \(names(subjects)) around one shared journey or life event with one customer view, not around the divisions.")
        },
        Pitfall(id: "siloed-objectives", name: "Siloed objectives", severity: "low",
                source: "Emeritus, 'Why internal product managers are the key to successful DT initiatives'",
                criteria: ["strategy.shared-okrs"], effort: 2) { c in
            var subjects: [Subject] = [], evidence: [String] = []
            for o in c.portfolio.okrs where !o.departments.isEmpty && !c.isShared(o) {
                subjects.append(c.subject(.okr, o.id))
                evidence.append("\u{201C}\(o.objective)\u{201D} belongs to \(listed(o.departments.map { c.name(.department, $0) })) alone and links to no shared objective")
            }
            return (subjects, evidence, "Link \(names(subjects)) to an objective shared across departments, so that everyone works toward the same goals.")
        },
    ]
}

extension PortfolioContext {
    /// Whether a system is connected, through interfaces in either direction, to a back-end system
    /// other than itself.
    func reachesBackEnd(_ id: String) -> Bool {
        guard let c = componentOf[id], componentHasBackEnd[c] == true else { return false }
        // A back-end system alone in its group reaches nothing but itself.
        return systemByID[id]?.layer != Layer.backEnd || !(neighbours[id] ?? []).isEmpty
    }

    /// The departments of an OKR and of the objectives above it.
    func departmentsAlongChain(_ okr: OKR) -> Set<String> {
        var out = Set<String>(), seen = Set<String>()
        var next: OKR? = okr
        while let o = next, seen.insert(o.id).inserted {
            out.formUnion(o.departments)
            next = o.parent.flatMap { okrByID[$0] }
        }
        return out
    }
}
