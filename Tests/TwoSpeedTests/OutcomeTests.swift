import CJansson
import XCTest
@testable import TwoSpeedEngine
@testable import TwoSpeedAssessment
import TwoSpeedJSON
import TwoSpeedRPC

/// SplitMix64: a deterministic, seeded generator, so every figure below is reproducible.
struct SeededRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// Box–Muller.
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}

/// A date (YYYY-MM-DD) `days` after 1970-01-01 (Hinnant's civil-from-days).
func civilDate(_ days: Int) -> String {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
    func pad(_ v: Int, _ n: Int) -> String { String(repeating: "0", count: max(0, n - String(v).count)) + String(v) }
    return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
}

final class OutcomeTests: XCTestCase {
    func testStudentTQuantilesMatchTheTables() {
        // Two-sided 95% critical values from any t table.
        for (df, q) in [(1.0, 12.706), (3.0, 3.182), (10.0, 2.228), (30.0, 2.042), (1_000.0, 1.962)] {
            XCTAssertEqual(StudentT.quantile(0.975, df: df), q, accuracy: 0.001, "df \(df)")
        }
        XCTAssertEqual(StudentT.cdf(0, df: 5), 0.5, accuracy: 1e-12)
    }

    /// The layout of the synthetic company's series: weekly points, a linear trend, unit noise, the
    /// change between two monthly runs (points between them left out), `shift` after it.
    static func series(seed: UInt64, shift: Double, trend: Double = 0.02, changeBetween: (Double, Double) = (90, 120)) -> [Outcomes.Point] {
        var rng = SeededRandom(state: seed)
        var out: [Outcomes.Point] = []
        for week in 0..<52 {
            let day = Double(week * 7)
            let y = 10 + trend * day + rng.normal() + (day >= changeBetween.1 ? shift : 0)
            if day <= changeBetween.0 { out.append(.init(t: day - changeBetween.1, value: y, after: false)) }
            else if day >= changeBetween.1 { out.append(.init(t: day - changeBetween.1, value: y, after: true)) }
        }
        return out
    }

    func testTheIntervalCoversAnInjectedShiftAtItsLevel() {
        var covered = 0
        let n = 400
        for seed in 1...UInt64(n) {
            guard let e = Outcomes.segmented(OutcomeTests.series(seed: seed, shift: 2.5)) else { return XCTFail("no estimate") }
            if e.low <= 2.5 && 2.5 <= e.high { covered += 1 }
        }
        // 95% intervals: expect 380 of 400; binomial sd ≈ 4.4.
        print("coverage: \(covered) of \(n)")
        XCTAssertGreaterThanOrEqual(Double(covered) / Double(n), 0.92, "coverage \(covered)/\(n)")
    }

    /// No real effect, a trend and noise: over 200 seeds a significant shift is reported in at most
    /// alpha's share of them.
    func testNoEffectIsSignificantInAtMostAlphasShareOfSeeds() {
        var significant = 0
        for seed in 1...200 as ClosedRange<UInt64> {
            guard let e = Outcomes.segmented(OutcomeTests.series(seed: seed &* 7_919, shift: 0)) else { return XCTFail("no estimate") }
            if e.low > 0 || e.high < 0 { significant += 1 }
        }
        print("null: \(significant) of 200 seeds significant at alpha \(Outcomes.alpha)")
        XCTAssertLessThanOrEqual(Double(significant) / 200, Outcomes.alpha, "with these seeds: 5 of 200 (6 before the fit allowed for correlation)")
        XCTAssertEqual(OutcomeTests.binomialBound(n: 600, p: 0.05, tail: 0.01), 43)
    }

    /// The same layout with noise that carries over from week to week (AR(1), lag-one correlation
    /// `rho`, unit variance), as slow measures do.
    static func correlatedSeries(seed: UInt64, shift: Double, rho: Double) -> [Outcomes.Point] {
        var rng = SeededRandom(state: seed)
        var out: [Outcomes.Point] = []
        var e = rng.normal()
        for week in 0..<52 {
            let day = Double(week * 7)
            if week > 0 { e = rho * e + (1 - rho * rho).squareRoot() * rng.normal() }
            let y = 10 + 0.02 * day + e + (day >= 120 ? shift : 0)
            if day <= 90 { out.append(.init(t: day - 120, value: y, after: false)) }
            else if day >= 120 { out.append(.init(t: day - 120, value: y, after: true)) }
        }
        return out
    }

    /// Serially correlated noise (ρ 0.3) and no effect: the interval allows for the correlation, so
    /// false alarms stay within the 1% binomial bound of alpha. The near miss, the same fit taking the
    /// points for independent ones (the estimator before), raises about three times as many.
    func testCorrelatedNoiseDoesNotRaiseFalseAlarms() {
        var alarms = 0, naive = 0, covered = 0
        let n = 400
        for seed in 1...UInt64(n) {
            let points = OutcomeTests.correlatedSeries(seed: seed &* 15_485_863, shift: 0, rho: 0.3)
            guard let e = Outcomes.segmented(points), let o = Outcomes.segmented(points, independent: true) else { return XCTFail("no estimate") }
            if e.low > 0 || e.high < 0 { alarms += 1 }
            if o.low > 0 || o.high < 0 { naive += 1 }
            guard let s = Outcomes.segmented(OutcomeTests.correlatedSeries(seed: seed &* 15_485_863, shift: 2.5, rho: 0.3)) else { return XCTFail() }
            if s.low <= 2.5 && 2.5 <= s.high { covered += 1 }
        }
        print("correlated null (rho 0.3): \(alarms) of \(n) significant; as if independent: \(naive); coverage of +2.5: \(covered)")
        let bound = OutcomeTests.binomialBound(n: n, p: Outcomes.alpha, tail: 0.01)
        XCTAssertLessThanOrEqual(alarms, bound)
        XCTAssertGreaterThan(naive, bound, "the near miss: taking the points for independent ones raises too many")
        XCTAssertGreaterThanOrEqual(covered, 370)
    }

    /// The smallest k with P(X > k) < tail for X ~ Binomial(n, p).
    static func binomialBound(n: Int, p: Double, tail: Double) -> Int {
        func pmf(_ k: Int) -> Double {
            let ways: Double = lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
            let odds: Double = Double(k) * log(p) + Double(n - k) * log(1 - p)
            return exp(ways + odds)
        }
        var cdf = 0.0
        for k in 0...n {
            cdf += pmf(k)
            if 1 - cdf < tail { return k }
        }
        return n
    }

    func testTooFewPointsOnASideIsInsufficientNotAnEstimate() {
        let points = OutcomeTests.series(seed: 1, shift: 1).filter { $0.after || $0.t > -45 }
        XCTAssertEqual(points.filter { !$0.after }.count, 2)
        XCTAssertNil(Outcomes.segmented(points))
        // The near miss: three before is enough.
        XCTAssertNotNil(Outcomes.segmented(OutcomeTests.series(seed: 1, shift: 1).filter { $0.after || $0.t > -52 }))
    }

    // MARK: Through the engine

    func ok(_ e: Engine, _ method: String, _ params: String, file: StaticString = #filePath, line: UInt = #line) -> JSONRef {
        let r = e.request(method, params)
        XCTAssertNil(r.error, "\(method): \(r.text)", file: file, line: line)
        return r.result ?? JSONMake.null()
    }

    func entity(_ e: Engine, _ kind: String, _ id: String) -> JSONRef {
        ok(e, "entity.get", #"{"portfolio":"retailer","kind":"\#(kind)","id":"\#(id)"}"#)["entity"]!
    }

    func upsert(_ e: Engine, _ kind: String, _ entity: JSONRef) {
        _ = ok(e, "entity.upsert", #"{"portfolio":"retailer","kind":"\#(kind)","entity":\#(JSONText.dump(entity))}"#)
    }

    struct Acted { var rule: String; var metric: String; var beforeRun: Int; var shift: Double }

    /// A synthetic company: the retailer with three measures of its own, assessed monthly over 12 kept
    /// runs against a house model whose aims point each of three rules at one of them. Its people act
    /// on the three pieces of advice just before runs 4, 6 and 8; from halfway between that run and the
    /// one before, the measure the advice aims at moves by `shift` (trend 0.02 a day, unit noise).
    /// `runs`: the monthly runs that are kept (the measures are observed every month all the same).
    func company(seed: UInt64, acted: [Acted], changeModelBeforeRun: Int? = nil, runs kept: ClosedRange<Int> = 1...12) throws -> (Engine, JSONRef) {
        let e = try Engine(path: nil)
        let doc = parse(retailerText)
        for (id, category, direction) in [("locator-conversion", "customer-behavior", "higher"), ("locator-sessions", "future-sales", "higher"),
                                          ("it-run-cost", "efficiency", "lower")] {
            let products = id == "it-run-cost" ? "[]" : #"["store-locator"]"#
            doc["metrics"]!.append(parse(#"{"id":"\#(id)","name":"\#(id)","category":"\#(category)","direction":"\#(direction)","products":\#(products)}"#))
        }
        for o in doc["okrs"]!.elements where o["id"]?.stringValue == "okr-it-cost" {
            o.set("keyResults", parse(#"[{"description":"IT run cost index down","metric":"it-run-cost"}]"#))
        }
        _ = ok(e, "portfolio.put", "{\"portfolio\":\(JSONText.dump(doc))}")
        doc.release()
        let model = ok(e, "assessment.model.get", #"{"id":"twospeed-default"}"#)["model"]!
        model.set("id", JSONMake.string("house"))
        model.set("aims", parse(#"""
            [{"rule":"roadmap-without-a-problem","horizonDays":180,"measures":[{"source":"metric","category":"customer-behavior"}]},
             {"rule":"siloed-objectives","horizonDays":180,"measures":[{"source":"metric","category":"efficiency"}]},
             {"rule":"looking-outside-for-speed","horizonDays":180,"measures":[{"source":"metric","category":"future-sales"}]}]
            """#))
        _ = ok(e, "assessment.model.put", "{\"model\":\(JSONText.dump(model))}")

        let d0 = 20_094   // 2025-01-06
        var rng = SeededRandom(state: seed)
        // Every week's value of each metric, drawn once.
        var values: [String: [(day: Int, value: Double)]] = [:]
        for m in ["locator-conversion", "locator-sessions", "it-run-cost"] {
            let a = acted.first { $0.metric == m }
            values[m] = (0..<52).map { w in
                let day = w * 7
                let change = a.map { 30 * ($0.beforeRun - 1) + 15 } ?? Int.max
                return (day, 50 + 0.02 * Double(day) + rng.normal() + (day >= change ? a!.shift : 0))
            }
        }
        for run in 1...12 {
            let (from, to) = ((run - 1) * 30, run * 30)
            for (m, series) in values {
                let obs = series.filter { (run == 1 ? $0.day >= from : $0.day > from) && $0.day <= to }
                    .map { #"{"at":"\#(civilDate(d0 + $0.day))","value":\#($0.value)}"# }
                if !obs.isEmpty { _ = ok(e, "metric.observe", #"{"portfolio":"retailer","metric":"\#(m)","observations":[\#(obs.joined(separator: ","))]}"#) }
            }
            for a in acted where a.beforeRun == run {
                switch a.rule {
                case "roadmap-without-a-problem":
                    let p = entity(e, "product", "store-locator")
                    p.set("problem", JSONMake.string("Shoppers cannot see which store near them has an item in stock"))
                    json_object_del(p, "justification")
                    upsert(e, "product", p)
                case "siloed-objectives":
                    let o = entity(e, "okr", "okr-it-cost")
                    o.set("parent", JSONMake.string("okr-online-growth"))
                    upsert(e, "okr", o)
                default:
                    let p = entity(e, "product", "store-locator")
                    p.set("owner", JSONMake.string("pm-front"))
                    upsert(e, "product", p)
                    let s = entity(e, "system", "locator-app")
                    s.set("interfaces", parse(#"[{"to":"order-service","kind":"api"}]"#))
                    upsert(e, "system", s)
                }
            }
            if run == changeModelBeforeRun {
                // A rule changes: a dimension weighs more.
                model["dimensions"]![0]!.set("weight", JSONMake.double(2))
                _ = ok(e, "assessment.model.put", "{\"model\":\(JSONText.dump(model))}")
            }
            if kept.contains(run) {
                _ = ok(e, "assessment.run", #"{"portfolio":"retailer","model":"house","asOf":"\#(civilDate(d0 + to))"}"#)
            }
        }
        return (e, ok(e, "recommendation.outcomes", #"{"portfolio":"retailer"}"#))
    }

    static let acted = [Acted(rule: "roadmap-without-a-problem", metric: "locator-conversion", beforeRun: 4, shift: 2.5),
                        Acted(rule: "siloed-objectives", metric: "it-run-cost", beforeRun: 6, shift: -4),
                        Acted(rule: "looking-outside-for-speed", metric: "locator-sessions", beforeRun: 8, shift: 3)]

    func testAcrossTwelveRunsEachOutcomeIntervalCoversTheInjectedShift() throws {
        let (e, report) = try company(seed: 2_026, acted: OutcomeTests.acted)
        let m = e.dispatcher.ordered.first { $0.name == "recommendation.outcomes" }!
        XCTAssertEqual(m.result.validate(report).issues.map(\.reason), [])
        let h = ok(e, "recommendation.history", #"{"portfolio":"retailer"}"#)
        let outcomes = report["outcomes"]!.elements
        for a in OutcomeTests.acted {
            let entry = h["advice"]!.elements.first { $0["rule"]?.stringValue == a.rule && $0["status"]?.stringValue == "resolved" }
            XCTAssertEqual(entry?["resolvedAt"]?.intValue, Int64(a.beforeRun), a.rule)
            guard let o = outcomes.first(where: { $0["rule"]?.stringValue == a.rule && $0["series"]?.stringValue == a.metric }) else {
                XCTFail("no outcome for \(a.rule): \(JSONText.dump(report))"); continue
            }
            XCTAssertEqual(o["status"]?.stringValue, "estimated")
            let low = o["estimate"]!["low"]!.doubleValue!, high = o["estimate"]!["high"]!.doubleValue!
            print("outcome \(a.rule): shift \(a.shift), estimate \(o["estimate"]!["shift"]!.doubleValue!), interval [\(low), \(high)]")
            XCTAssertTrue(low <= a.shift && a.shift <= high, "\(a.rule): \(a.shift) outside [\(low), \(high)]")
            XCTAssertEqual(o["improved"]?.boolValue, true, "\(a.rule) moved its measure the better way")
            XCTAssertTrue(o["note"]!.stringValue!.contains("an association, not a cause"))
            XCTAssertNil(o["modelChange"])
        }
        XCTAssertEqual(outcomes.count, 3, "one outcome per aimed measure: \(JSONText.dump(report))")
    }

    /// What an outcome estimates, without the run numbers (which count the kept runs).
    static func estimates(_ report: JSONRef) -> [String] {
        report["outcomes"]!.elements.map { JSONText.dump($0, without: ["resolvedAt"]) }
    }

    /// The same company with no real effect, through the engine: over 200 seeds, a significant shift
    /// in at most alpha's share of the outcomes.
    ///
    /// Each company keeps runs 3 to 8 of its 12, which is where all three outcomes are decided: the
    /// advice is resolved at runs 4, 6 and 8, and an estimate reads only the resolving run, the run
    /// before it (their dates bound the window) and the measures' observations, which are all recorded.
    /// Runs 1, 2 and 9 to 12 say again that the advice is open or resolved, and cost half the test's time.
    /// The first seeds check that the estimates come out the same as with all 12 runs.
    func testTheSameCompanyWithoutEffectStaysQuiet() throws {
        let null = OutcomeTests.acted.map { Acted(rule: $0.rule, metric: $0.metric, beforeRun: $0.beforeRun, shift: 0) }
        var significant = 0, total = 0
        for seed in 1...200 as ClosedRange<UInt64> {
            let (_, report) = try company(seed: seed, acted: null, runs: 3...8)
            if seed <= 3 {
                let (_, all) = try company(seed: seed, acted: null)
                XCTAssertEqual(OutcomeTests.estimates(report), OutcomeTests.estimates(all), "seed \(seed): runs 3 to 8 estimate otherwise than all 12")
            }
            for o in report["outcomes"]!.elements {
                total += 1
                if o["significant"]?.boolValue == true { significant += 1 }
                // No comparison series has points in this window: no choice between estimators here.
                XCTAssertEqual(o["method"]?.stringValue, "segmented regression")
            }
        }
        print("null through the engine: \(significant) of \(total) outcomes significant at alpha \(Outcomes.alpha)")
        XCTAssertEqual(total, 600)
        // With these seeds: 24 of 600 (4.0%). Ordinary least squares, exact under this independent noise, had a
        // false-alarm rate of alpha itself and gave 31 of 600 (5.2%); the fit that allows for serial
        // correlation never assumes less than independence, so its rate is below alpha here.
        XCTAssertLessThanOrEqual(Double(significant) / Double(total), Outcomes.alpha, "\(significant) of \(total)")
    }

    /// A model change inside an outcome's window is named on it (and only there).
    func testAModelChangeInsideTheWindowIsNamed() throws {
        let (_, report) = try company(seed: 7, acted: OutcomeTests.acted, changeModelBeforeRun: 11)
        let outcomes = report["outcomes"]!.elements
        // Resolved at run 8 (day 240): its window reaches day 420, past run 11 (day 330).
        let late = outcomes.first { $0["rule"]?.stringValue == "looking-outside-for-speed" }
        XCTAssertTrue(late?["modelChange"]?.stringValue?.contains("run 11") ?? false, JSONText.dump(report))
        XCTAssertTrue(late?["note"]?.stringValue?.contains("run 11") ?? false)
        // Resolved at run 4 (day 120): its window ends at day 300, before the change.
        let early = outcomes.first { $0["rule"]?.stringValue == "roadmap-without-a-problem" }
        XCTAssertNotNil(early)
        XCTAssertNil(early?["modelChange"])
    }

    /// On the retailer with the default model: the looking-outside advice aims at the architecture
    /// dimension and the systems' lead time. Two runs give one score on each side: insufficient data,
    /// not an estimate; without delivery events there is no lead-time series at all.
    func testTwoRunsAreInsufficientData() throws {
        let e = try Engine(path: nil)
        _ = ok(e, "portfolio.put", "{\"portfolio\":\(retailerText)}")
        _ = ok(e, "assessment.run", #"{"portfolio":"retailer","asOf":"2026-05-01"}"#)
        let p = entity(e, "product", "store-locator")
        p.set("owner", JSONMake.string("pm-front"))
        upsert(e, "product", p)
        let s = entity(e, "system", "locator-app")
        s.set("interfaces", parse(#"[{"to":"order-service","kind":"api"}]"#))
        upsert(e, "system", s)
        _ = ok(e, "assessment.run", #"{"portfolio":"retailer","asOf":"2026-06-01"}"#)
        let report = ok(e, "recommendation.outcomes", #"{"portfolio":"retailer"}"#)
        let outcomes = report["outcomes"]!.elements
        XCTAssertEqual(outcomes.count, 1, JSONText.dump(report))
        XCTAssertEqual(outcomes.first?["source"]?.stringValue, "dimension")
        XCTAssertEqual(outcomes.first?["series"]?.stringValue, "architecture")
        XCTAssertEqual(outcomes.first?["status"]?.stringValue, "insufficient data")
        XCTAssertNil(outcomes.first?["estimate"])
        XCTAssertEqual(outcomes.first?["before"]?.intValue, 1)
        XCTAssertEqual(outcomes.first?["after"]?.intValue, 1)
        XCTAssertEqual(e.request("recommendation.outcomes", #"{"portfolio":"nope"}"#).pointer, "/portfolio")
    }

    // MARK: Difference-in-differences

    /// Four products on a roadmap without a problem; the store locator's people state its problem before
    /// run 4, the others do not. A shock hits every product's conversion at the same time (+5), the
    /// action adds +2.5 to the store locator's alone. Against the three that did not act, the estimate
    /// is the +2.5, not the +7.5 a before/after of the store locator alone would see.
    func testDifferenceInDifferencesTakesOutAShockEveryoneSaw() throws {
        let e = try Engine(path: nil)
        let doc = parse(retailerText)
        let others = ["checkout", "front-page", "search"]
        for p in doc["products"]!.elements where others.contains(p["id"]!.stringValue!) {
            p.set("justification", JSONMake.string("competitor-feature"))
        }
        for id in ["store-locator"] + others {
            doc["metrics"]!.append(parse(#"{"id":"conv-\#(id)","name":"Conversion of \#(id)","category":"customer-behavior","direction":"higher","products":["\#(id)"]}"#))
        }
        _ = ok(e, "portfolio.put", "{\"portfolio\":\(JSONText.dump(doc))}")
        doc.release()
        let d0 = 20_094
        var rng = SeededRandom(state: 42)
        var values: [String: [(day: Int, value: Double)]] = [:]
        for id in ["store-locator"] + others {
            values["conv-" + id] = (0..<52).map { w in
                let day = w * 7
                let shock = day >= 105 ? 5.0 : 0, effect = id == "store-locator" && day >= 105 ? 2.5 : 0
                return (day, 20 + 0.02 * Double(day) + rng.normal() + shock + effect)
            }
        }
        for run in 1...12 {
            let (from, to) = ((run - 1) * 30, run * 30)
            for (m, series) in values {
                let obs = series.filter { (run == 1 ? $0.day >= from : $0.day > from) && $0.day <= to }
                    .map { #"{"at":"\#(civilDate(d0 + $0.day))","value":\#($0.value)}"# }
                if !obs.isEmpty { _ = ok(e, "metric.observe", #"{"portfolio":"retailer","metric":"\#(m)","observations":[\#(obs.joined(separator: ","))]}"#) }
            }
            if run == 4 {
                let p = entity(e, "product", "store-locator")
                p.set("problem", JSONMake.string("Shoppers cannot see which store near them has an item in stock"))
                json_object_del(p, "justification")
                upsert(e, "product", p)
            }
            _ = ok(e, "assessment.run", #"{"portfolio":"retailer","asOf":"\#(civilDate(d0 + to))"}"#)
        }
        let report = ok(e, "recommendation.outcomes", #"{"portfolio":"retailer"}"#)
        let m = e.dispatcher.ordered.first { $0.name == "recommendation.outcomes" }!
        XCTAssertEqual(m.result.validate(report).issues.map(\.reason), [])
        let outcomes = report["outcomes"]!.elements.filter { $0["rule"]?.stringValue == "roadmap-without-a-problem" && $0["source"]?.stringValue == "metric" }
        // Only the product that acted is measured; the others are the comparison.
        XCTAssertEqual(outcomes.map { $0["series"]!.stringValue! }, ["conv-store-locator"], JSONText.dump(report))
        guard let o = outcomes.first else { return }
        XCTAssertEqual(o["method"]?.stringValue, "difference-in-differences")
        XCTAssertEqual(Set(o["controls"]?.elements.map { $0.stringValue! } ?? []), ["conv-checkout", "conv-front-page", "conv-search"])
        let low = o["estimate"]!["low"]!.doubleValue!, high = o["estimate"]!["high"]!.doubleValue!
        print("difference-in-differences: effect 2.5, shock 5, estimate \(o["estimate"]!["shift"]!.doubleValue!), interval [\(low), \(high)]")
        XCTAssertTrue(low <= 2.5 && 2.5 <= high, "[\(low), \(high)]")
        XCTAssertTrue(high < 7.5, "the shock everyone saw is not counted")
        // The near miss: the store locator's series alone, before against after, takes the shock for the effect.
        let alone = values["conv-store-locator"]!.compactMap { v -> Outcomes.Point? in
            v.day <= 90 ? .init(t: Double(v.day - 120), value: v.value, after: false)
                : v.day >= 120 ? .init(t: Double(v.day - 120), value: v.value, after: true) : nil
        }
        let seg = Outcomes.segmented(alone)!
        XCTAssertTrue(seg.low > 2.5, "a before/after alone sees \(seg.shift)")
        // One comparison series is not enough.
        XCTAssertNil(Outcomes.differenceInDifferences(treated: [alone], controls: [alone]))
    }

    /// The difference-in-differences under no effect (a shock everyone sees, each series its own level):
    /// over 200 seeds, false alarms within the 1% binomial bound of alpha; with an effect of 2, the
    /// interval covers it at about its level.
    func testDifferenceInDifferencesIsCalibrated() {
        func series(_ rng: inout SeededRandom, level: Double, effect: Double) -> [Outcomes.Point] {
            (0..<52).compactMap { w -> Outcomes.Point? in
                let day = Double(w * 7)
                let y = level + 0.02 * day + rng.normal() + (day >= 120 ? 5 + effect : 0)
                return day <= 90 ? .init(t: day - 120, value: y, after: false) : day >= 120 ? .init(t: day - 120, value: y, after: true) : nil
            }
        }
        var alarms = 0, covered = 0
        for seed in 1...200 as ClosedRange<UInt64> {
            var rng = SeededRandom(state: seed &* 104_729)
            let null = Outcomes.differenceInDifferences(treated: [series(&rng, level: 10, effect: 0)],
                                                        controls: [series(&rng, level: 20, effect: 0), series(&rng, level: 30, effect: 0),
                                                                   series(&rng, level: 5, effect: 0)])!
            if null.low > 0 || null.high < 0 { alarms += 1 }
            let real = Outcomes.differenceInDifferences(treated: [series(&rng, level: 10, effect: 2)],
                                                        controls: [series(&rng, level: 20, effect: 0), series(&rng, level: 30, effect: 0),
                                                                   series(&rng, level: 5, effect: 0)])!
            if real.low <= 2 && 2 <= real.high { covered += 1 }
        }
        print("difference-in-differences: \(alarms) of 200 null seeds significant; \(covered) of 200 intervals cover the effect")
        XCTAssertLessThanOrEqual(alarms, OutcomeTests.binomialBound(n: 200, p: Outcomes.alpha, tail: 0.01))
        XCTAssertGreaterThanOrEqual(covered, 180)
    }

    // MARK: Four keys

    /// The looking-outside advice aims (in the built-in model) at the lead time of the store locator's
    /// system. Deployments recorded weekly: changes wait about 1,000 hours before the fix and about 300
    /// after it; the outcome is the weekly lead time's shift, with its interval, from the events.
    func testAFourKeyOutcomeFromRecordedDeliveries() throws {
        let e = try Engine(path: nil)
        _ = ok(e, "portfolio.put", "{\"portfolio\":\(retailerText)}")
        let d0 = 20_094
        var rng = SeededRandom(state: 11)
        var deployments: [String] = []
        for w in 0..<52 {
            let day = w * 7 + 3
            let lead = (day >= 105 ? 300.0 : 1_000.0) + 30 * rng.normal()
            let at = Int64(d0 + day) * 86_400 + 12 * 3_600
            let committed = at - Int64(lead * 3_600)
            func stamp(_ t: Int64) -> String {
                let s = Int(t % 86_400)
                func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
                return civilDate(Int(t / 86_400)) + "T\(pad(s / 3_600)):\(pad(s / 60 % 60)):\(pad(s % 60))Z"
            }
            deployments.append(#"{"id":"d\#(w)","system":"locator-app","time":"\#(stamp(at))","changes":[{"id":"c\#(w)","committed":"\#(stamp(committed))"}]}"#)
        }
        _ = ok(e, "delivery.record", #"{"portfolio":"retailer","deployments":[\#(deployments.joined(separator: ","))]}"#)
        for run in 1...12 {
            if run == 4 {
                let p = entity(e, "product", "store-locator")
                p.set("owner", JSONMake.string("pm-front"))
                upsert(e, "product", p)
                let s = entity(e, "system", "locator-app")
                s.set("interfaces", parse(#"[{"to":"order-service","kind":"api"}]"#))
                upsert(e, "system", s)
            }
            _ = ok(e, "assessment.run", #"{"portfolio":"retailer","asOf":"\#(civilDate(d0 + run * 30))"}"#)
        }
        let report = ok(e, "recommendation.outcomes", #"{"portfolio":"retailer"}"#)
        let o = report["outcomes"]!.elements.first { $0["rule"]?.stringValue == "looking-outside-for-speed" && $0["source"]?.stringValue == "four-key" }
        guard let o else { return XCTFail(JSONText.dump(report)) }
        XCTAssertEqual(o["series"]?.stringValue, "locator-app")
        XCTAssertEqual(o["measure"]?.stringValue, "leadTimeHours")
        XCTAssertEqual(o["direction"]?.stringValue, "lower")
        XCTAssertEqual(o["status"]?.stringValue, "estimated", JSONText.dump(o))
        let low = o["estimate"]!["low"]!.doubleValue!, high = o["estimate"]!["high"]!.doubleValue!
        print("four key: lead time -700 h, estimate \(o["estimate"]!["shift"]!.doubleValue!), interval [\(low), \(high)]")
        XCTAssertTrue(low <= -700 && -700 <= high, "[\(low), \(high)]")
        XCTAssertEqual(o["improved"]?.boolValue, true)
    }
}
