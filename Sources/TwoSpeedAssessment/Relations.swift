import TwoSpeedModel

/// Relations several facts, pitfalls and analyses share.
extension PortfolioContext {
    /// An OKR is shared when two or more departments own it or an objective up its parent chain, or when
    /// it is linked to another department's objective: it rolls up to one, or one rolls up to it
    /// (Emeritus: Marketing's brand awareness directly linked to Sales' new clients is the shared goal).
    func isShared(_ okr: OKR) -> Bool {
        var seen = Set<String>()
        var next: OKR? = okr
        let own = Set(okr.departments)
        while let o = next, seen.insert(o.id).inserted {
            if Set(o.departments).count >= 2 || !Set(o.departments).isSubset(of: own) { return true }
            next = o.parent.flatMap { okrByID[$0] }
        }
        return okrsLinkedFromOtherDepartments.contains(okr.id)
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

    /// One customer need served by products of two or more departments, each its own: so the company
    /// sees several customers where there is one (MIT Sloan's telco: one bill, three divisions). Two
    /// shapes: one journey stage covered by products of several departments (the household's billing
    /// question answered by phone, broadband and TV separately), a life event whose stages the
    /// individual products of several divisions split among them (buying a car: the bank's loan, the
    /// insurer's policy), or parallel journeys of one segment with the same stages, one per department
    /// (a "get help" journey per division). Different needs owned by different departments are not
    /// silos: that is a stage each, one owner each.
    func productSilos() -> [ProductSilo] {
        var out: [ProductSilo] = []
        var siloed = Set<String>()
        for j in portfolio.journeys {
            for st in j.stages {
                let ref = j.id + "/" + st.id
                let products = (productsByStage[ref] ?? []).compactMap { productByID[$0] }.filter { $0.status != ProductStatus.retired }
                let depts = businessDepartments(products)
                guard depts.count >= 2 else { continue }
                siloed.insert(ref)
                out.append(ProductSilo(need: "The stage \u{201C}\(st.name)\u{201D} of \u{201C}\(j.name)\u{201D}", segment: j.segment,
                                       departments: depts.sorted(), products: products))
            }
        }
        // A life event split among product divisions: its stages served by the individual products of two
        // or more divisions, each its own (MIT Sloan: USAA moved from product silos to being organized around
        // member life events, not individual products). Only divisions: stages of one journey given to
        // product managers of marketing, sales and operations are McKinsey's assignment of the experience.
        for j in portfolio.journeys where j.kind == "life-event" && !j.stages.isEmpty {
            let refs = j.stages.map { j.id + "/" + $0.id }
            guard refs.allSatisfy({ !siloed.contains($0) }) else { continue }
            var seen = Set<String>()
            let products = refs.flatMap { productsByStage[$0] ?? [] }.filter { seen.insert($0).inserted }
                .compactMap { productByID[$0] }.filter { $0.status != ProductStatus.retired }
            let divisions = Set(products.compactMap(\.department).filter { departmentByID[$0]?.kind == "division" })
            guard divisions.count >= 2 else { continue }
            siloed.formUnion(refs)
            out.append(ProductSilo(need: "The life event \u{201C}\(j.name)\u{201D}", segment: j.segment,
                                   departments: divisions.sorted(), products: products))
        }
        // Parallel journeys: same segment, same stages, served by different departments.
        var groups: [String: [Journey]] = [:]
        var order: [String] = []
        for j in portfolio.journeys where !j.stages.isEmpty {
            let key = (j.segment ?? "") + "|" + j.stages.map(\.id).sorted().joined(separator: ",")
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(j)
        }
        for key in order {
            let js = groups[key]!
            guard js.count >= 2 else { continue }
            let refs = js.flatMap { j in j.stages.map { j.id + "/" + $0.id } }
            guard refs.allSatisfy({ !siloed.contains($0) }) else { continue }
            var seen = Set<String>()
            let products = refs.flatMap { productsByStage[$0] ?? [] }.filter { seen.insert($0).inserted }
                .compactMap { productByID[$0] }.filter { $0.status != ProductStatus.retired }
            let depts = businessDepartments(products)
            guard depts.count >= 2 else { continue }
            let stages = Pitfalls.listed(js[0].stages.map { "\u{201C}\($0.name)\u{201D}" })
            out.append(ProductSilo(need: "One need (\(stages)), split into \(js.count) journeys ("
                                   + Pitfalls.listed(js.map { "\u{201C}\($0.name)\u{201D}" }) + "),",
                                   segment: js[0].segment, departments: depts.sorted(), products: products))
        }
        return out
    }
}

extension PortfolioContext {
    /// The business departments behind products. IT owning an application inside a stage is the
    /// application-owner pattern (McKinsey's payment application), reported as request takers, not a
    /// division meeting the customer on its own.
    func businessDepartments(_ products: [Product]) -> Set<String> {
        Set(products.compactMap(\.department).filter { departmentByID[$0]?.kind != "it" })
    }
}

struct ProductSilo {
    /// The stage, or the parallel journeys' stages, in words.
    var need: String
    var segment: String?
    var departments: [String]
    var products: [Product]

    /// The segments the products name for themselves, in order, each once: divisions that count the one
    /// customer as their own (MIT Sloan: "three separate customers" for one household).
    var ownSegments: [String] {
        var seen = Set<String>()
        return products.compactMap(\.segment).filter { seen.insert($0).inserted }
    }
}
