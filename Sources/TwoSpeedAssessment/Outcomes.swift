import Glibc

/// Whether acting on advice went with a move in what it aims at: for each resolved piece of advice
/// and each measure its rule aims at, a segmented regression over the measure's time series around
/// the resolution. An association, not a cause: nothing was randomized.
///
/// The model: y = a + b·t + c·after + e, with t in days from the resolution and `after` 1 for points
/// from the resolving run's date on, 0 for points up to the run before it. Points between the two
/// runs are left out: the change happened somewhere in between. c is the level shift with the
/// pre-existing trend b taken out; its 95% interval uses Student's t with n − 3 degrees of freedom.
/// Fewer than `minimumPoints` on either side gives "insufficient data", not an estimate.
public enum Outcomes {
    public static let minimumPoints = 3
    public static let alpha = 0.05

    public struct Point: Sendable, Equatable {
        /// Days from the resolution (negative before).
        public var t: Double
        public var value: Double
        public var after: Bool
        public init(t: Double, value: Double, after: Bool) { self.t = t; self.value = value; self.after = after }
    }

    public struct Estimate: Codable, Sendable, Equatable {
        public var shift: Double
        public var low: Double
        public var high: Double
        public var standardError: Double
        public var p: Double
        public var trendPerDay: Double
        public var degreesOfFreedom: Int
    }

    /// The level shift with its interval, or nil with fewer than `minimumPoints` points on a side (or a
    /// series whose times do not separate trend from shift).
    public static func segmented(_ points: [Point], confidence: Double = 1 - alpha) -> Estimate? {
        let before = points.filter { !$0.after }, after = points.filter(\.after)
        guard before.count >= minimumPoints, after.count >= minimumPoints else { return nil }
        // Normal equations of [1, t, after].
        var xtx = [[Double]](repeating: [0, 0, 0], count: 3), xty = [0.0, 0, 0]
        for p in points {
            let x = [1, p.t, p.after ? 1 : 0]
            for i in 0..<3 {
                xty[i] += x[i] * p.value
                for j in 0..<3 { xtx[i][j] += x[i] * x[j] }
            }
        }
        guard let inv = invert3(xtx) else { return nil }
        let beta = (0..<3).map { i in (0..<3).reduce(0.0) { $0 + inv[i][$1] * xty[$1] } }
        var rss = 0.0
        for p in points {
            let fit = beta[0] + beta[1] * p.t + beta[2] * (p.after ? 1 : 0)
            rss += (p.value - fit) * (p.value - fit)
        }
        let df = points.count - 3
        guard df >= 1 else { return nil }
        let s2 = rss / Double(df)
        let se = (s2 * inv[2][2]).squareRoot()
        let q = StudentT.quantile(1 - (1 - confidence) / 2, df: Double(df))
        let tStat = se > 0 ? beta[2] / se : (beta[2] == 0 ? 0 : .infinity)
        let p = se > 0 ? 2 * (1 - StudentT.cdf(abs(tStat), df: Double(df))) : (beta[2] == 0 ? 1 : 0)
        return Estimate(shift: beta[2], low: beta[2] - q * se, high: beta[2] + q * se, standardError: se,
                        p: min(max(p, 0), 1), trendPerDay: beta[1], degreesOfFreedom: df)
    }

    static func invert3(_ m: [[Double]]) -> [[Double]]? {
        let a = m[0][0], b = m[0][1], c = m[0][2], d = m[1][0], e = m[1][1], f = m[1][2], g = m[2][0], h = m[2][1], i = m[2][2]
        let A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g
        let det = a * A + b * B + c * C
        let scale = max(abs(a), abs(e), abs(i), 1)
        guard abs(det) > 1e-12 * scale * scale * scale else { return nil }
        let D = -(b * i - c * h), E = a * i - c * g, F = -(a * h - b * g)
        let G = b * f - c * e, H = -(a * f - c * d), I = a * e - b * d
        return [[A / det, D / det, G / det], [B / det, E / det, H / det], [C / det, F / det, I / det]]
    }
}

/// Student's t distribution, from the regularized incomplete beta function (Numerical Recipes' continued
/// fraction); the quantile by bisection. Accurate to ~1e-10, plenty for an interval.
public enum StudentT {
    public static func cdf(_ t: Double, df: Double) -> Double {
        let x = df / (df + t * t)
        let tail = 0.5 * incompleteBeta(df / 2, 0.5, x)
        return t >= 0 ? 1 - tail : tail
    }

    public static func quantile(_ p: Double, df: Double) -> Double {
        guard p > 0, p < 1 else { return p >= 1 ? .infinity : -.infinity }
        var lo = -1e4, hi = 1e4
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if cdf(mid, df: df) < p { lo = mid } else { hi = mid }
            if hi - lo < 1e-12 { break }
        }
        return (lo + hi) / 2
    }

    static func incompleteBeta(_ a: Double, _ b: Double, _ x: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let lbeta = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1 - x)
        let front = exp(lbeta)
        if x < (a + 1) / (a + b + 2) { return front * continuedFraction(a, b, x) / a }
        return 1 - front * continuedFraction(b, a, 1 - x) / b
    }

    static func continuedFraction(_ a: Double, _ b: Double, _ x: Double) -> Double {
        let tiny = 1e-300
        let qab = a + b, qap = a + 1, qam = a - 1
        var c = 1.0, d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...300 {
            let m = Double(m), m2 = 2 * m
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d; h *= d * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let del = d * c
            h *= del
            if abs(del - 1) < 3e-16 { break }
        }
        return h
    }
}

/// One outcome: a measure of one resolved piece of advice, before against after.
public struct AdviceOutcome: Codable, Sendable, Equatable {
    public var key: String
    public var rule: String
    public var title: String
    /// The run at which the advice was no longer given, and the dates of the run before and of it:
    /// the change happened between them.
    public var resolvedAt: Int
    public var from: String
    public var to: String
    /// "metric", "four-key" or "dimension".
    public var source: String
    /// The series: a metric's id, a system's id, or a dimension's id.
    public var series: String
    public var name: String
    /// What the measure is (a metric category, a four key) and which way is better.
    public var measure: String
    public var direction: String
    public var horizonDays: Int
    /// "estimated" or "insufficient data".
    public var status: String
    public var before: Int
    public var after: Int
    public var estimate: Outcomes.Estimate?
    /// The interval excludes no change (at the 95% level).
    public var significant: Bool?
    /// Significant and in the better direction.
    public var improved: Bool?
    /// A model or engine change inside the window, named: the advice and the scores may not compare.
    public var modelChange: String?
    public var note: String

    public init(key: String, rule: String, title: String, resolvedAt: Int, from: String, to: String, source: String, series: String,
                name: String, measure: String, direction: String, horizonDays: Int, status: String, before: Int, after: Int,
                estimate: Outcomes.Estimate?, significant: Bool?, improved: Bool?, modelChange: String?, note: String) {
        self.key = key; self.rule = rule; self.title = title; self.resolvedAt = resolvedAt; self.from = from; self.to = to
        self.source = source; self.series = series; self.name = name; self.measure = measure; self.direction = direction
        self.horizonDays = horizonDays; self.status = status; self.before = before; self.after = after; self.estimate = estimate
        self.significant = significant; self.improved = improved; self.modelChange = modelChange; self.note = note
    }
}
