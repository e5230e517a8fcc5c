import TwoSpeedJSON
import TwoSpeedSchema

/// The checks a schema cannot express: ids unique in their collection, references that resolve, and
/// the invariants between fields. Every failure names its JSON pointer inside the portfolio document.
extension Portfolio {
    public func checkReferences(at base: JSONPointer = .root, into issues: inout IssueList) {
        let ix = Index(self)
        for kind in EntityKind.allCases { unique(kind, base, &issues) }

        for (i, j) in journeys.enumerated() {
            var seen: [String: Int] = [:]
            for (k, s) in j.stages.enumerated() {
                if let first = seen[s.id] {
                    issues.add(base / "journeys" / i / "stages" / k / "id",
                               "duplicate stage id \"\(s.id)\" (first at \(base / "journeys" / i / "stages" / first))")
                } else { seen[s.id] = k }
            }
        }
        var answered: [String: Int] = [:]
        for (i, a) in answers.enumerated() {
            if let first = answered[a.criterion] {
                issues.add(base / "answers" / i / "criterion",
                           "criterion \"\(a.criterion)\" is answered twice (first at \(base / "answers" / first))")
            } else { answered[a.criterion] = i }
        }
        for (i, p) in products.enumerated() { ix.check(p, at: base / "products" / i, into: &issues) }
        for (i, m) in managers.enumerated() { ix.check(m, at: base / "managers" / i, into: &issues) }
        for (i, t) in teams.enumerated() { ix.check(t, at: base / "teams" / i, into: &issues) }
        for (i, s) in systems.enumerated() { ix.check(s, at: base / "systems" / i, into: &issues) }
        for (i, m) in metrics.enumerated() { ix.check(m, at: base / "metrics" / i, into: &issues) }
        for (i, o) in okrs.enumerated() { ix.check(o, at: base / "okrs" / i, into: &issues) }
        for (i, e) in experiments.enumerated() { ix.check(e, at: base / "experiments" / i, into: &issues) }
        checkUnresolved(at: base / "unresolved", into: &issues)
    }

    /// Each unresolved reference names an entity the portfolio holds, once, and a field that entity
    /// leaves unset: a link is either resolved or unresolved, never both.
    private func checkUnresolved(at base: JSONPointer, into issues: inout IssueList) {
        guard !unresolved.isEmpty else { return }
        var positions: [EntityKind: [String: Int]] = [:]
        var seen: [UnresolvedReference: Int] = [:]
        for (i, u) in unresolved.enumerated() {
            guard let kind = EntityKind(rawValue: u.kind) else {
                issues.add(base / i / "kind", "no entity kind \"\(u.kind)\""); continue
            }
            if positions[kind] == nil {
                var m: [String: Int] = [:]
                for (k, id) in ids(of: kind).enumerated() where m[id] == nil { m[id] = k }
                positions[kind] = m
            }
            guard let at = positions[kind]?[u.id] else {
                issues.add(base / i / "id", "no \(kind.rawValue) with id \"\(u.id)\""); continue
            }
            var key = u
            key.source = nil
            if let first = seen[key] {
                issues.add(base / i, "the same unresolved reference twice (first at \(base / first))"); continue
            }
            seen[key] = i
            if let value = singleReference(kind, at: at, field: u.field), let value {
                issues.add(base / i / "field", "\(kind.rawValue) \"\(u.id)\" has \(u.field) \"\(value)\": a reference is resolved or unresolved, not both")
            }
        }
    }

    /// The value of a single-valued reference field (nil: not such a field; .some(nil): unset).
    private func singleReference(_ kind: EntityKind, at i: Int, field: String) -> String?? {
        switch (kind, field) {
        case (.system, "owner"): return .some(systems[i].owner)
        case (.system, "department"): return .some(systems[i].department)
        case (.product, "owner"): return .some(products[i].owner)
        case (.product, "team"): return .some(products[i].team)
        case (.product, "department"): return .some(products[i].department)
        case (.team, "manager"): return .some(teams[i].manager)
        case (.team, "department"): return .some(teams[i].department)
        case (.manager, "department"): return .some(managers[i].department)
        case (.manager, "mentor"): return .some(managers[i].mentor)
        default: return nil
        }
    }

    /// Forgets the unresolved references of an entity whose field has since been set (by hand, or by
    /// an import that brought the target); true when there were some.
    @discardableResult
    public mutating func dropResolved(_ kind: EntityKind, at i: Int) -> Bool {
        guard !unresolved.isEmpty else { return false }
        let id = kind.info.ids(self)[i]
        var kept = unresolved
        kept.removeAll { u in
            u.kind == kind.rawValue && u.id == id && (singleReference(kind, at: i, field: u.field) ?? nil) != nil
        }
        guard kept.count != unresolved.count else { return false }
        unresolved = kept
        return true
    }

    /// The unresolved references an entity makes.
    public func unresolved(of kind: EntityKind, id: String) -> [UnresolvedReference] {
        unresolved.filter { $0.kind == kind.rawValue && $0.id == id }
    }

    private func unique(_ kind: EntityKind, _ base: JSONPointer, _ issues: inout IssueList) {
        let at = JSONPointer(base.tokens + kind.collectionPointer)
        let ids = kind.info.ids(self)
        var seen: [String: Int] = [:]
        seen.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() {
            if let first = seen[id] {
                issues.add(at / i / "id", "duplicate id \"\(id)\" (first at \(at / first))")
            } else { seen[id] = i }
        }
    }

    /// Id sets of a portfolio, built once per check.
    struct Index {
        let departments: Set<String>, journeys: Set<String>, stages: Set<String>, products: Set<String>,
            managers: Set<String>, teams: Set<String>, systems: Set<String>, metrics: Set<String>
        let okrs: Set<String>
        let okrParent: [String: String?]

        init(_ p: Portfolio) {
            departments = Set(p.organization.departments.map(\.id))
            journeys = Set(p.journeys.map(\.id))
            var st = Set<String>()
            for j in p.journeys { for s in j.stages { st.insert(j.id + "/" + s.id) } }
            stages = st
            products = Set(p.products.map(\.id))
            managers = Set(p.managers.map(\.id))
            teams = Set(p.teams.map(\.id))
            systems = Set(p.systems.map(\.id))
            metrics = Set(p.metrics.map(\.id))
            var parents: [String: String?] = [:]
            for o in p.okrs where parents[o.id] == nil { parents[o.id] = o.parent }
            okrParent = parents
            okrs = Set(parents.keys)
        }

        func ref(_ id: String?, _ set: Set<String>, _ what: String, _ at: JSONPointer, _ issues: inout IssueList) {
            guard let id, !set.contains(id) else { return }
            issues.add(at, "no \(what) with id \"\(id)\"")
        }

        func refs(_ ids: [String], _ set: Set<String>, _ what: String, _ at: JSONPointer, _ issues: inout IssueList) {
            for (i, id) in ids.enumerated() { ref(id, set, what, at / i, &issues) }
        }

        func check(_ p: Product, at: JSONPointer, into issues: inout IssueList) {
            for (i, s) in p.stages.enumerated() where !stages.contains(s) {
                let j = s.split(separator: "/").first.map(String.init) ?? s
                issues.add(at / "stages" / i, journeys.contains(j) ? "journey \"\(j)\" has no stage \"\(s.dropFirst(j.count + 1))\""
                                                                    : "no journey with id \"\(j)\"")
            }
            ref(p.owner, managers, "manager", at / "owner", &issues)
            ref(p.team, teams, "team", at / "team", &issues)
            ref(p.department, departments, "department", at / "department", &issues)
            refs(p.systems, systems, "system", at / "systems", &issues)
            refs(p.okrs, okrs, "OKR", at / "okrs", &issues)
        }

        func check(_ m: Manager, at: JSONPointer, into issues: inout IssueList) {
            ref(m.mentor, managers, "manager", at / "mentor", &issues)
            if m.mentor == m.id { issues.add(at / "mentor", "a manager cannot mentor themselves") }
            ref(m.department, departments, "department", at / "department", &issues)
            refs(m.measuredOn, metrics, "metric", at / "measuredOn", &issues)
        }

        func check(_ t: Team, at: JSONPointer, into issues: inout IssueList) {
            ref(t.manager, managers, "manager", at / "manager", &issues)
            ref(t.department, departments, "department", at / "department", &issues)
        }

        func check(_ s: System, at: JSONPointer, into issues: inout IssueList) {
            for (i, f) in s.interfaces.enumerated() {
                ref(f.to, systems, "system", at / "interfaces" / i / "to", &issues)
                if f.to == s.id { issues.add(at / "interfaces" / i / "to", "a system cannot interface with itself") }
            }
            ref(s.owner, managers, "manager", at / "owner", &issues)
            ref(s.department, departments, "department", at / "department", &issues)
        }

        func check(_ m: Metric, at: JSONPointer, into issues: inout IssueList) {
            refs(m.products, products, "product", at / "products", &issues)
            refs(m.managers, managers, "manager", at / "managers", &issues)
        }

        func check(_ o: OKR, at: JSONPointer, into issues: inout IssueList) {
            refs(o.departments, departments, "department", at / "departments", &issues)
            for (i, k) in o.keyResults.enumerated() { ref(k.metric, metrics, "metric", at / "keyResults" / i / "metric", &issues) }
            guard let parent = o.parent else { return }
            guard okrParent[parent] != nil else { return issues.add(at / "parent", "no OKR with id \"\(parent)\"") }
            // Walk up the chain; meeting this OKR again means a cycle.
            var seen: Set<String> = [o.id]
            var next: String? = parent
            while let n = next {
                if !seen.insert(n).inserted {
                    return issues.add(at / "parent", "parent objectives form a cycle through \"\(n)\"")
                }
                next = okrParent[n] ?? nil
            }
        }

        func check(_ e: Experiment, at: JSONPointer, into issues: inout IssueList) {
            ref(e.product, products, "product", at / "product", &issues)
            ref(e.metric, metrics, "metric", at / "metric", &issues)
            for i in e.rollout.indices.dropFirst() where e.rollout[i] <= e.rollout[i - 1] {
                issues.add(at / "rollout" / i, "rollout shares must increase from stage to stage")
            }
            if e.stage >= e.rollout.count {
                issues.add(at / "stage", "stage \(e.stage) is past the last rollout stage (\(e.rollout.count - 1))")
            }
            for (name, arm) in [("control", e.control), ("variant", e.variant)] {
                if let arm, arm.conversions > arm.users {
                    issues.add(at / name / "conversions", "\(arm.conversions) conversions exceed \(arm.users) users")
                }
            }
        }
    }
}
