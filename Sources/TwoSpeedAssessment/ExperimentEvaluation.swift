import Glibc
import TwoSpeedModel

/// The evaluation of one experiment: conversion of both arms, lift with its confidence interval, a
/// two-proportion z-test, a sample-ratio-mismatch check, and the next rollout step with its reason.
public struct ExperimentEvaluation: Codable, Sendable, Equatable {
    public struct Arm: Codable, Sendable, Equatable {
        public var users: Int
        public var conversions: Int
        public var rate: Double
    }
    public struct Interval: Codable, Sendable, Equatable { public var low: Double; public var high: Double }
    public struct Lift: Codable, Sendable, Equatable {
        /// Variant rate minus control rate.
        public var absolute: Double
        public var absoluteInterval: Interval
        /// absolute / control rate.
        public var relative: Double?
        /// From the log of the rate ratio (delta method).
        public var relativeInterval: Interval?
    }
    public struct Test: Codable, Sendable, Equatable {
        public var method: String
        public var z: Double
        public var p: Double
        public var significant: Bool
        public var alpha: Double
    }
    public struct SampleRatio: Codable, Sendable, Equatable {
        public var expectedShare: Double
        public var observedShare: Double
        public var chiSquare: Double
        public var p: Double
        /// p below 0.001, GrowthBook's threshold.
        public var mismatch: Bool
    }
    public struct Recommendation: Codable, Sendable, Equatable {
        /// "expand", "iterate" or "roll-back".
        public var action: String
        /// The traffic share to run next.
        public var nextShare: Double
        public var reason: String
    }

    public var experiment: String?
    public var product: String?
    /// The decision metric's name, when the experiment names one.
    public var metric: String?
    /// Which way the decision metric is better: "higher" (conversions) or "lower" (calls to a hotline,
    /// drop-offs). The lift stays variant minus control; `improvement` turns it the better way.
    public var direction: String
    /// The lift signed so that a positive value is better: the lift itself, or its negative on a
    /// lower-is-better metric.
    public var improvement: Double
    public var confidence: Double
    public var control: Arm
    public var variant: Arm
    public var lift: Lift
    public var test: Test
    public var sampleRatio: SampleRatio
    /// The smallest absolute lift this sample would detect with 80% power at the same alpha.
    public var minimumDetectableLift: Double
    public var recommendation: Recommendation
}

extension ExperimentEvaluation {
    enum CodingKeys: String, CodingKey {
        case experiment, product, metric, direction, improvement, confidence, control, variant, lift, test, sampleRatio
        case minimumDetectableLift, recommendation
    }

    /// Results kept before the metric's direction was recorded read as higher-is-better.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        experiment = try c.decodeIfPresent(String.self, forKey: .experiment)
        product = try c.decodeIfPresent(String.self, forKey: .product)
        metric = try c.decodeIfPresent(String.self, forKey: .metric)
        direction = try c.decodeIfPresent(String.self, forKey: .direction) ?? Direction.higher.rawValue
        confidence = try c.decode(Double.self, forKey: .confidence)
        control = try c.decode(Arm.self, forKey: .control)
        variant = try c.decode(Arm.self, forKey: .variant)
        lift = try c.decode(Lift.self, forKey: .lift)
        improvement = try c.decodeIfPresent(Double.self, forKey: .improvement) ?? (direction == Direction.lower ? -lift.absolute : lift.absolute)
        test = try c.decode(Test.self, forKey: .test)
        sampleRatio = try c.decode(SampleRatio.self, forKey: .sampleRatio)
        minimumDetectableLift = try c.decode(Double.self, forKey: .minimumDetectableLift)
        recommendation = try c.decode(Recommendation.self, forKey: .recommendation)
    }
}

public enum ExperimentEvaluator {
    public struct Input: Sendable {
        public var control: ArmCounts
        public var variant: ArmCounts
        /// The variant's planned share of traffic, for the sample-ratio check.
        public var plannedShare: Double
        /// The rollout stages, to name the next share; the current one is `stage`.
        public var rollout: [Double]
        public var stage: Int
        public var confidence: Double
        /// "higher" (default) or "lower": which way the counted outcome is better.
        public var direction: String
        public var metricName: String?
        public init(control: ArmCounts, variant: ArmCounts, plannedShare: Double, rollout: [Double], stage: Int,
                    confidence: Double = 0.95, direction: String = Direction.higher.rawValue, metricName: String? = nil) {
            self.control = control; self.variant = variant; self.plannedShare = plannedShare
            self.rollout = rollout; self.stage = stage; self.confidence = confidence
            self.direction = (direction == Direction.lower ? Direction.lower : Direction.higher).rawValue; self.metricName = metricName
        }
    }

    public enum Failure: Error, Equatable { case noUsers(String) }

    /// 1 - confidence, as the user would write it: to the decimals the confidence was given with
    /// (0.95 gives 0.05, not 0.050000000000000044; 0.999 gives 0.001). Swift prints a Double in its
    /// shortest round-trip form, so those are the digits the user wrote.
    static func complement(_ confidence: Double) -> Double {
        let raw = 1 - confidence
        let text = "\(confidence)"
        guard !text.contains("e"), let dot = text.firstIndex(of: ".") else { return raw }
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        guard decimals > 0, decimals <= 15 else { return raw }
        let scale = (0..<decimals).reduce(1.0) { r, _ in r * 10 }
        return (raw * scale).rounded() / scale
    }

    public static func evaluate(_ x: Input, experiment: String? = nil, product: String? = nil) throws -> ExperimentEvaluation {
        let n1 = Double(x.control.users), n2 = Double(x.variant.users)
        guard n1 > 0 else { throw Failure.noUsers("control") }
        guard n2 > 0 else { throw Failure.noUsers("variant") }
        let p1 = Double(x.control.conversions) / n1, p2 = Double(x.variant.conversions) / n2
        let alpha = complement(x.confidence)
        let zc = Stats.normalQuantile(1 - alpha / 2)

        // Two-proportion z-test with the pooled rate under the null hypothesis.
        let pooled = (Double(x.control.conversions) + Double(x.variant.conversions)) / (n1 + n2)
        let sePooled = (pooled * (1 - pooled) * (1 / n1 + 1 / n2)).squareRoot()
        let diff = p2 - p1
        let z = sePooled > 0 ? diff / sePooled : 0
        let p = sePooled > 0 ? Stats.twoSidedP(z) : 1

        // Wald interval for the difference, with the unpooled standard error.
        let se = (p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2).squareRoot()
        let absInterval = ExperimentEvaluation.Interval(low: diff - zc * se, high: diff + zc * se)
        var relative: Double? = nil
        var relInterval: ExperimentEvaluation.Interval? = nil
        if p1 > 0 {
            relative = diff / p1
            if p2 > 0 {
                let seLog = ((1 - p1) / (n1 * p1) + (1 - p2) / (n2 * p2)).squareRoot()
                let logRatio = log(p2 / p1)
                relInterval = .init(low: exp(logRatio - zc * seLog) - 1, high: exp(logRatio + zc * seLog) - 1)
            }
        }

        // Sample ratio: chi-square goodness of fit of the arm sizes to the planned split.
        let total = n1 + n2
        let e2 = total * x.plannedShare, e1 = total - e2
        let chi = (e1 > 0 ? (n1 - e1) * (n1 - e1) / e1 : 0) + (e2 > 0 ? (n2 - e2) * (n2 - e2) / e2 : 0)
        // At a planned share of 100% there is no planned split to hold the arms to: nothing to check.
        let checkable = x.plannedShare > 0 && x.plannedShare < 1
        let srmP = checkable ? Stats.chiSquare1SF(chi) : 1
        let srm = ExperimentEvaluation.SampleRatio(expectedShare: x.plannedShare, observedShare: n2 / total,
                                                   chiSquare: checkable ? chi : 0, p: srmP, mismatch: srmP < 0.001)

        let zBeta = Stats.normalQuantile(0.8)
        let mde = (zc + zBeta) * (pooled * (1 - pooled) * (1 / n1 + 1 / n2)).squareRoot()
        let significant = p < alpha

        let current = x.rollout.indices.contains(x.stage) ? x.rollout[x.stage] : x.plannedShare
        let next = x.rollout.indices.contains(x.stage + 1) ? x.rollout[x.stage + 1] : current
        let pct = { (v: Double) in "\(fmtPct(v))" }
        // Decisions follow the metric's direction: fewer calls to a hotline is a win, not a loss.
        let lower = x.direction == Direction.lower
        let improvement = lower ? -diff : diff
        let what = x.metricName.map { "\"\($0)\"" } ?? (lower ? "the rate" : "conversion")
        let better = lower ? "lower is better" : "higher is better"
        let rates = "\(what) is \(fmtPct(p2)) in the variant against \(fmtPct(p1)) in control "
            + "(\(signedPct(diff)) percentage points, \(fmtP(p)); \(better))"
        let rec: ExperimentEvaluation.Recommendation
        if srm.mismatch {
            rec = .init(action: Decision.iterate.rawValue, nextShare: current,
                        reason: "The arms hold \(pct(srm.observedShare)) of users against a planned \(pct(x.plannedShare)) (chi-square \(fmtP(srmP)), below 0.001): the split is broken, so the lift cannot be trusted. Fix the assignment and rerun at \(pct(current)).")
        } else if significant && improvement > 0 {
            let head = "The variant is better: " + rates
            rec = next > current
                ? .init(action: Decision.expand.rawValue, nextShare: next,
                        reason: "\(head), and the traffic split is sound: widen the rollout from \(pct(current)) to \(pct(next)).")
                : current < 1
                ? .init(action: Decision.expand.rawValue, nextShare: 1,
                        reason: "\(head), and the planned stages end at \(pct(current)): widen it to everyone.")
                : .init(action: Decision.expand.rawValue, nextShare: current,
                        reason: "\(head) at full rollout: keep it for everyone and keep revising features.")
        } else if significant && improvement < 0 {
            rec = .init(action: Decision.rollBack.rawValue, nextShare: 0,
                        reason: "The variant is worse: \(rates). Roll it back and learn from the feedback.")
        } else {
            rec = .init(action: Decision.iterate.rawValue, nextShare: current,
                        reason: "No significant difference yet: \(rates); this sample detects differences of about \(fmtNumber(mde * 100, digits: 2)) percentage points or more. Keep collecting at \(pct(current)) or adjust the lite version from customer feedback.")
        }
        return ExperimentEvaluation(
            experiment: experiment, product: product, metric: x.metricName, direction: x.direction, improvement: improvement,
            confidence: x.confidence,
            control: .init(users: x.control.users, conversions: x.control.conversions, rate: p1),
            variant: .init(users: x.variant.users, conversions: x.variant.conversions, rate: p2),
            lift: .init(absolute: diff, absoluteInterval: absInterval, relative: relative, relativeInterval: relInterval),
            test: .init(method: "two-proportion z-test (pooled)", z: z, p: p, significant: significant, alpha: alpha),
            sampleRatio: srm, minimumDetectableLift: mde, recommendation: rec)
    }

    /// Evaluates an experiment of a portfolio; nil when it has no counts. `metric` is its decision
    /// metric, whose direction decides which way is better.
    public static func evaluate(_ e: Experiment, metric: Metric? = nil, confidence: Double = 0.95) throws -> ExperimentEvaluation? {
        guard let c = e.control, let v = e.variant else { return nil }
        let share = e.rollout.indices.contains(e.stage) ? e.rollout[e.stage] : 0.5
        return try evaluate(Input(control: c, variant: v, plannedShare: share, rollout: e.rollout, stage: e.stage,
                                  confidence: confidence, direction: metric?.direction ?? Direction.higher.rawValue, metricName: metric?.name),
                            experiment: e.id, product: e.product)
    }

    /// Evaluates an experiment of a portfolio with its own decision metric.
    public static func evaluate(_ e: Experiment, in p: Portfolio, confidence: Double = 0.95) throws -> ExperimentEvaluation? {
        try evaluate(e, metric: e.metric.flatMap { id in p.metrics.first { $0.id == id } }, confidence: confidence)
    }
}

func fmtPct(_ v: Double) -> String { fmtNumber(v * 100, digits: 2) + "%" }
func signedPct(_ v: Double) -> String { (v >= 0 ? "+" : "") + fmtNumber(v * 100, digits: 2) }
/// "p = 0.0123", or "p < 0.0001" for the tiny ones.
func fmtP(_ p: Double) -> String { p < 0.0001 ? "p < 0.0001" : "p = " + fmtNumber(p, digits: 4) }

/// Fixed decimals without Foundation, trailing zeros kept off.
func fmtNumber(_ v: Double, digits: Int) -> String {
    let scale = (0..<digits).reduce(1.0) { r, _ in r * 10 }
    let r = (v * scale).rounded() / scale
    var s = String(r)
    if s.hasSuffix(".0") { s.removeLast(2) }
    if s.contains("e") { return String(v) }
    return s
}
