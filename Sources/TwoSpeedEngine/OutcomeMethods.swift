import TwoSpeedAssessment
import TwoSpeedContract
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedRPC
import TwoSpeedSchema
import TwoSpeedStore

extension Engine {
    func outcomeMethods() -> [Method] {
        [Method(Contract.recommendationOutcomes) { [unowned self] p, call in try outcomes(p.portfolio, call.pointer("portfolio")) }]
    }

    static func day(_ s: String) -> Double? { EventTime.parse(s).map { Double($0) / 86_400 } }

    func outcomes(_ pid: String, _ pointer: JSONPointer) throws -> OutcomeReport {
        // One read of the kept runs gives both the history's run list and the dimension scores: each read of
        // the runs' table costs about as much as their results are long (SQLite walks each row's overflow pages).
        _ = try snapshot(pid, pointer)
        let runs: [KeptRun]
        do { runs = try store.runSummaries(portfolio: pid, model: nil) } catch let e as StoreError { throw RPCError(store: e) }
        let history = try adviceHistoryValue(pid, pointer, headers: runs.map { (seq: $0.seq, model: $0.model) })
        return try outcomeReport(pid, pointer, history: history, summaries: runs)
    }

    /// `until` (days since 1970): the last day whose observations count, for a history up to an earlier run.
    /// `summaries`: the kept runs' summaries when the caller has read them already.
    func outcomeReport(_ pid: String, _ pointer: JSONPointer, history: AdviceHistory, until: Double? = nil,
                       summaries runs: [KeptRun]? = nil) throws -> OutcomeReport {
        let sp = try snapshot(pid, pointer)
        let portfolio = sp.portfolio
        var summaries: [Int: [String: Double]] = [:]
        do {
            for r in try runs ?? store.runSummaries(portfolio: pid, model: nil) {
                guard case .success(let j) = try JSON.parse(r.body) else { continue }
                var dims: [String: Double] = [:]
                j["dimensions"]?.forEachMember { k, v in if let d = v.doubleValue { dims[k] = d } }
                summaries[r.seq] = dims
            }
        } catch let e as StoreError { throw RPCError(store: e) }
        let runIndex = Dictionary(history.runs.enumerated().map { ($1.run, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [AdviceOutcome] = [], withoutAim: [String] = []
        for e in history.advice where e.status == .resolved {
            guard let r = e.resolvedAt, let i = runIndex[r], i > 0 else { continue }
            let run = history.runs[i], prev = history.runs[i - 1]
            guard let t0 = Engine.day(prev.asOf), let t1 = Engine.day(run.asOf) else { continue }
            guard let m = try? model(run.model, pointer), let aim = m.aims.first(where: { $0.rule == e.rule }) else {
                withoutAim.append(e.key)
                continue
            }
            // As of the history's last run when it stops at an earlier run: nothing observed after it.
            let lo = t0 - Double(aim.horizonDays), hi = min(t1 + Double(aim.horizonDays), until ?? .infinity)
            let changes = history.runs.filter { $0.modelChanged && (Engine.day($0.asOf).map { $0 >= lo && $0 <= hi } ?? false) }
            let modelChange = changes.isEmpty ? nil
                : "the model or the engine changed inside the window, at run " + changes.map { "\($0.run) (\($0.asOf.prefix(10)))" }.joined(separator: ", ")
            /// Points of a series, placed before or after the resolution; those between the two runs left out.
            func place(_ day: Double, _ value: Double) -> Outcomes.Point? {
                guard day >= lo, day <= hi else { return nil }
                if day <= t0 { return .init(t: day - t1, value: value, after: false) }
                if day >= t1 { return .init(t: day - t1, value: value, after: true) }
                return nil
            }
            func outcome(_ source: String, _ series: String, _ name: String, _ measure: String, _ direction: String, _ points: [Outcomes.Point],
                         controls: [(id: String, points: [Outcomes.Point])] = []) {
                var est = Outcomes.segmented(points)
                // Against subjects that did not act, when there are enough of them with enough points.
                let usable = controls.filter { c in
                    c.points.filter { !$0.after }.count >= Outcomes.minimumPoints && c.points.filter(\.after).count >= Outcomes.minimumPoints
                }
                var did: Outcomes.Estimate? = nil
                if est != nil, usable.count >= Outcomes.minimumControls {
                    did = Outcomes.differenceInDifferences(treated: [points], controls: usable.map(\.points))
                    if let did { est = did }
                }
                let nb = points.filter { !$0.after }.count, na = points.count - nb
                let significant = est.map { $0.low > 0 || $0.high < 0 }
                var note = est == nil
                    ? "insufficient data: \(nb) point\(nb == 1 ? "" : "s") before and \(na) after; at least \(Outcomes.minimumPoints) on each side are needed"
                    : "an association, not a cause: the level moved by \(round4(est!.shift)) (95% interval \(round4(est!.low)) to \(round4(est!.high))) with the trend before it taken out"
                if let modelChange { note += "; \(modelChange)" }
                if did != nil {
                    note += "; difference-in-differences against \(usable.count) series of subjects the same rule still flags, which did not act"
                }
                var o = AdviceOutcome(key: e.key, rule: e.rule, title: e.title, resolvedAt: r, from: prev.asOf, to: run.asOf, source: source,
                                      series: series, name: name, measure: measure, direction: direction, horizonDays: aim.horizonDays,
                                      status: est == nil ? "insufficient data" : "estimated", before: nb, after: na, estimate: est,
                                      significant: significant,
                                      improved: est.map { ($0.low > 0 && direction == Direction.higher) || ($0.high < 0 && direction == Direction.lower) },
                                      modelChange: modelChange, note: note)
                if did != nil {
                    o.method = "difference-in-differences"
                    o.controls = usable.map(\.id)
                }
                out.append(o)
            }
            if let d = aim.dimension {
                // Runs are placed by their order, not only their dates: two runs may speak for the same date.
                let points = history.runs.enumerated().compactMap { j, x -> Outcomes.Point? in
                    guard let day = Engine.day(x.asOf), let v = summaries[x.run]?[d], day >= lo, day <= hi else { return nil }
                    return .init(t: day - t1, value: v, after: j >= i)
                }
                outcome("dimension", d, m.dimensions.first { $0.id == d }?.name ?? d, "dimension score", Direction.higher.rawValue, points)
            }
            // The subjects that acted: those of the advice the same rule no longer flags at the resolving run.
            // The comparison: subjects the rule flags both at the run before and at the resolving run.
            func flagged(at run: Int) -> Set<String> {
                Set(history.advice.filter { x in
                    x.rule == e.rule && x.runs.contains { $0.run == run && [.open, .dismissed, .regressed].contains($0.status) }
                }.flatMap { $0.subjects.map { "\($0.kind)/\($0.id)" } })
            }
            let stillFlagged = flagged(at: r)
            let acted = e.subjects.filter { !stillFlagged.contains("\($0.kind)/\($0.id)") }
            let subjects = acted.isEmpty ? e.subjects : acted
            let actedIDs = Set(subjects.map { "\($0.kind)/\($0.id)" })
            let comparison = stillFlagged.intersection(flagged(at: prev.run)).subtracting(actedIDs)
            func metrics(_ ids: Set<String>, _ category: String) -> [Metric] {
                let okrMetrics = Set(portfolio.okrs.filter { ids.contains("okr/" + $0.id) }.flatMap { $0.keyResults.compactMap(\.metric) })
                return portfolio.metrics.filter { m in
                    m.category == category && (m.products.contains { ids.contains("product/" + $0) } || m.managers.contains { ids.contains("manager/" + $0) }
                                               || okrMetrics.contains(m.id))
                }
            }
            let products = Set(subjects.filter { $0.kind == "product" }.map(\.id))
            var systems = Set(subjects.filter { $0.kind == "system" }.map(\.id))
            for x in portfolio.products where products.contains(x.id) { systems.formUnion(x.systems) }
            for measure in aim.measures {
                if measure.source == "metric", let category = measure.category {
                    let treated = metrics(actedIDs, category)
                    let treatedIDs = Set(treated.map(\.id))
                    func series(_ m: Metric) -> [Outcomes.Point] { m.observations.compactMap { o in Engine.day(o.at).flatMap { place($0, o.value) } } }
                    let controls = metrics(comparison, category).filter { !treatedIDs.contains($0.id) }.prefix(50).map { ($0.id, series($0)) }
                    for metric in treated {
                        outcome("metric", metric.id, metric.name, category, measure.direction ?? metric.direction, series(metric),
                                controls: controls.map { (id: $0.0, points: $0.1) })
                    }
                } else if measure.source == "four-key", let key = measure.key, !systems.isEmpty, deliveryStore != nil {
                    let weeks = Int(((hi - lo) / 7).rounded(.up)) + 1
                    let until = Int64((hi + 1) * 86_400)
                    let w = try fourKeys(pid, until: until, days: 7, windows: weeks)
                    for system in systems.sorted() where w.systemsWithEvents.contains(system) {
                        var points: [Outcomes.Point] = []
                        for k in 0..<weeks {
                            let b = w.bounds(k)
                            guard let f = w.figures(window: k, systems: [system]).first else { continue }
                            let value: Double?
                            switch key {
                            case "deploysPerMonth": value = f.deploysPerMonth
                            case "leadTimeHours": value = f.leadTimeHours
                            case "changeFailureRate": value = f.changeFailureRate
                            default: value = f.recoveryHours
                            }
                            // A week is placed by its end before the resolution and by its start after it.
                            let from = Double(b.from) / 86_400, to = Double(b.to) / 86_400
                            guard let v = value, from >= lo else { continue }
                            if to <= t0 { points.append(.init(t: to - t1, value: v, after: false)) }
                            else if from >= t1, to <= hi + 1 { points.append(.init(t: from - t1, value: v, after: true)) }
                        }
                        let name = portfolio.systems.first { $0.id == system }?.name ?? system
                        outcome("four-key", system, name, key, measure.direction ?? (key == "deploysPerMonth" ? Direction.higher : Direction.lower).rawValue,
                                points.sorted { $0.t < $1.t })
                    }
                }
            }
        }
        return OutcomeReport(portfolio: pid,
                             method: "segmented regression per series: value = a + b·days + c·after, c the level shift at the resolving run "
                                + "with the trend before it taken out; points between the run before and the resolving run are left out; "
                                + "the noise may be serially correlated: a feasible GLS (Prais–Winsten) with the residuals' lag-one autocorrelation, "
                                + "bias-corrected and kept within [0, 0.9]; 95% interval from Student's t with n − k − 1 degrees of freedom (k coefficients; one more for the autocorrelation). For metrics, when at least "
                                + "\(Outcomes.minimumControls) series of subjects the same rule still flags (which did not act) have enough points, "
                                + "difference-in-differences instead: one intercept per series, a common trend and shift, and the treated "
                                + "series' extra shift after the resolution",
                             association: "an association, not a cause: nothing was randomized, and other changes in the same window move the same measures",
                             alpha: Outcomes.alpha, minimumPoints: Outcomes.minimumPoints, outcomes: out, withoutAim: withoutAim)
    }
}

private func round4(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }
