import TwoSpeedModel

/// Relations several facts, pitfalls and analyses share.
extension PortfolioContext {
    /// An OKR is shared when two or more departments own it, or an objective up its parent chain is.
    func isShared(_ okr: OKR) -> Bool {
        var seen = Set<String>()
        var next: OKR? = okr
        while let o = next, seen.insert(o.id).inserted {
            if Set(o.departments).count >= 2 { return true }
            next = o.parent.flatMap { okrByID[$0] }
        }
        return false
    }

    /// The chain of direct or file couplings from a system to one in DORA's low cluster, if any
    /// (the shortest; computed for all systems at once, see `slowCouplings`).
    func slowCouplingPath(from start: String) -> [String]? {
        guard slowCouplings.next[start] != nil || tierBySystem[start] == .low else { return nil }
        var path = [start]
        var at = start
        while let n = slowCouplings.next[at] {
            path.append(n)
            if tierBySystem[n] == .low { return path }
            at = n
        }
        return nil
    }

    /// The customer segments that active products serve, with the departments serving each.
    func segmentsServed() -> [(segment: String, departments: Set<String>, products: [Product])] {
        var order: [String] = []
        var bySegment: [String: (Set<String>, [Product])] = [:]
        for p in activeProducts {
            guard let seg = segment(of: p) else { continue }
            if bySegment[seg] == nil { order.append(seg); bySegment[seg] = ([], []) }
            if let d = p.department { bySegment[seg]!.0.insert(d) }
            bySegment[seg]!.1.append(p)
        }
        return order.map { ($0, bySegment[$0]!.0, bySegment[$0]!.1) }
    }

    /// Segments served by products of several departments that share no journey: the same customer
    /// met by separate divisions (the telco's phone, internet and TV).
    func productSilos() -> [(segment: String, departments: [String], products: [Product])] {
        var out: [(segment: String, departments: [String], products: [Product])] = []
        for (seg, depts, products) in segmentsServed() where depts.count >= 2 {
            // Journeys each department's products touch; a silo when no journey is common to all.
            var journeysByDept: [String: Set<String>] = [:]
            for p in products {
                guard let d = p.department else { continue }
                for ref in p.stages { if let j = ref.split(separator: "/").first { journeysByDept[d, default: []].insert(String(j)) } }
                journeysByDept[d, default: []].formUnion([])
            }
            let common = journeysByDept.values.dropFirst().reduce(journeysByDept.values.first ?? []) { $0.intersection($1) }
            if common.isEmpty { out.append((seg, depts.sorted(), products)) }
        }
        return out
    }
}
