import Glibc

/// Whether acting on advice went with a move in what it aims at: for each resolved piece of advice
/// and each measure its rule aims at, a segmented regression over the measure's time series around
/// the resolution. An association, not a cause: nothing was randomized.
///
/// The model: y = a + b·t + c·after + e, with t in days from the resolution and `after` 1 for points
/// from the resolving run's date on, 0 for points up to the run before it. Points between the two
/// runs are left out: the change happened somewhere in between. c is the level shift with the
/// pre-existing trend b taken out; its 95% interval allows for serially correlated noise (see `fit`)
/// and uses Student's t with n − 4 degrees of freedom.
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
        /// The lag-one autocorrelation of the noise the interval allows for (0: independent points).
        public var autocorrelation: Double
    }

    /// The level shift with its interval, or nil with fewer than `minimumPoints` points on a side (or a
    /// series whose times do not separate trend from shift).
    public static func segmented(_ points: [Point], confidence: Double = 1 - alpha) -> Estimate? {
        segmented(points, confidence: confidence, independent: false)
    }

    static func segmented(_ points: [Point], confidence: Double = 1 - alpha, independent: Bool) -> Estimate? {
        let before = points.filter { !$0.after }, after = points.filter(\.after)
        guard before.count >= minimumPoints, after.count >= minimumPoints else { return nil }
        return fit([before, after].map { side in side.map { p in Row(x: [1, p.t, p.after ? 1 : 0], y: p.value, t: p.t) } },
                   target: 2, trend: 1, confidence: confidence, independent: independent)
    }

    /// How many comparison series (of subjects the same rule still flags, that did not act) a
    /// difference-in-differences needs; with fewer the segmented regression stands alone.
    public static let minimumControls = 2

    /// Difference-in-differences against series that did not act: y = α(series) + b·t + c·after +
    /// d·treated·after, one intercept per series, a common trend and a common shift at the resolution;
    /// d is what the treated series moved beyond the others. nil when a series has fewer than
    /// `minimumPoints` on a side (such series should be left out before), when there are fewer than
    /// `minimumControls` comparison series, or when the design is singular.
    public static func differenceInDifferences(treated: [[Point]], controls: [[Point]], confidence: Double = 1 - alpha) -> Estimate? {
        guard !treated.isEmpty, controls.count >= minimumControls else { return nil }
        let series = treated.map { ($0, true) } + controls.map { ($0, false) }
        for (s, _) in series where s.filter({ !$0.after }).count < minimumPoints || s.filter(\.after).count < minimumPoints { return nil }
        let k = series.count, dims = k + 3
        var segments: [[Row]] = []
        for (j, (points, isTreated)) in series.enumerated() {
            for side in [false, true] {
                segments.append(points.filter { $0.after == side }.map { p in
                    var x = [Double](repeating: 0, count: dims)
                    x[j] = 1
                    x[k] = p.t
                    x[k + 1] = side ? 1 : 0
                    x[k + 2] = isTreated && side ? 1 : 0
                    return Row(x: x, y: p.value, t: p.t)
                })
            }
        }
        return fit(segments, target: k + 2, trend: k, confidence: confidence)
    }

    struct Row { var x: [Double]; var y: Double; var t: Double }

    /// Measures move slowly: this week's conversion is close to last week's whatever was done, so the
    /// noise of a series is serially correlated, and ordinary least squares, which takes every point
    /// for an independent one, gives intervals too narrow (a null false-alarm rate of about 15% at a
    /// lag-one correlation of 0.3, 33% at 0.6, on the synthetic company's layout). So the fit is a
    /// feasible GLS (Prais–Winsten): ordinary least squares first; the lag-one autocorrelation of its
    /// residuals within each segment (a series on one side of the resolution, in time order), raised by
    /// the known small-sample bias of that estimate ((1 + 3ρ)/n for an estimated mean, Kendall, plus
    /// 1/n for each coefficient) and kept within [0, 0.9] (never below 0: a correlation the data cannot
    /// show is not assumed away); every segment quasi-differenced with it (its first point scaled by
    /// √(1 − ρ²)); least squares again; Student's t with n − k − 1 degrees of freedom (ρ was estimated).
    /// OutcomeTests measures the false alarms with independent and with correlated noise (figures there).
    /// `independent` fits as if the points were independent (ρ = 0): the near miss the tests compare with.
    static func fit(_ segments: [[Row]], target: Int, trend: Int, confidence: Double, independent: Bool = false) -> Estimate? {
        let segments = segments.map { $0.sorted { $0.t < $1.t } }.filter { !$0.isEmpty }
        let n = segments.reduce(0) { $0 + $1.count }
        guard let dims = segments.first?.first?.x.count, n - dims - 1 >= 1 else { return nil }
        guard let ols = leastSquares(segments.flatMap { $0 }, dims: dims) else { return nil }
        var lagged = 0.0, squares = 0.0
        for s in segments {
            let r = s.map { row in row.y - zip(row.x, ols.beta).reduce(0) { $0 + $1.0 * $1.1 } }
            for i in r.indices {
                squares += r[i] * r[i]
                if i > 0 { lagged += r[i] * r[i - 1] }
            }
        }
        let raw = squares > 0 ? lagged / squares : 0
        let rho = independent ? 0 : min(max(raw + (1 + 3 * max(raw, 0)) / Double(n) + Double(dims) / Double(n), 0), 0.9)
        let scale = (1 - rho * rho).squareRoot()
        var transformed: [Row] = []
        transformed.reserveCapacity(n)
        for s in segments {
            for i in s.indices {
                if i == 0 { transformed.append(Row(x: s[0].x.map { $0 * scale }, y: s[0].y * scale, t: s[0].t)); continue }
                transformed.append(Row(x: zip(s[i].x, s[i - 1].x).map { $0 - rho * $1 }, y: s[i].y - rho * s[i - 1].y, t: s[i].t))
            }
        }
        guard let gls = leastSquares(transformed, dims: dims) else { return nil }
        let df = n - dims - (independent ? 0 : 1)
        let se = (gls.rss / Double(df) * gls.inverse[target][target]).squareRoot()
        let c = gls.beta[target]
        let q = StudentT.quantile(1 - (1 - confidence) / 2, df: Double(df))
        let p = se > 0 ? 2 * (1 - StudentT.cdf(abs(c / se), df: Double(df))) : (c == 0 ? 1 : 0)
        return Estimate(shift: c, low: c - q * se, high: c + q * se, standardError: se, p: min(max(p, 0), 1),
                        trendPerDay: gls.beta[trend], degreesOfFreedom: df, autocorrelation: rho)
    }

    /// Ordinary least squares by the normal equations: coefficients, their (XᵀX)⁻¹ and the residual sum of squares.
    static func leastSquares(_ rows: [Row], dims: Int) -> (beta: [Double], inverse: [[Double]], rss: Double)? {
        var xtx = [[Double]](repeating: [Double](repeating: 0, count: dims), count: dims), xty = [Double](repeating: 0, count: dims)
        for row in rows {
            for a in 0..<dims where row.x[a] != 0 {
                xty[a] += row.x[a] * row.y
                for b in 0..<dims where row.x[b] != 0 { xtx[a][b] += row.x[a] * row.x[b] }
            }
        }
        guard let inv = dims == 3 ? invert3(xtx) : invert(xtx) else { return nil }
        let beta = (0..<dims).map { a in (0..<dims).reduce(0.0) { $0 + inv[a][$1] * xty[$1] } }
        var rss = 0.0
        for row in rows {
            let e = row.y - zip(row.x, beta).reduce(0) { $0 + $1.0 * $1.1 }
            rss += e * e
        }
        return (beta, inv, rss)
    }

    /// Gauss–Jordan with partial pivoting; nil for a singular matrix.
    static func invert(_ m: [[Double]]) -> [[Double]]? {
        let n = m.count
        var a = m, inv = (0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0.0 } }
        let scale = m.flatMap { $0 }.map(abs).max() ?? 1
        for c in 0..<n {
            guard let pivot = (c..<n).max(by: { abs(a[$0][c]) < abs(a[$1][c]) }), abs(a[pivot][c]) > 1e-12 * max(scale, 1) else { return nil }
            a.swapAt(c, pivot); inv.swapAt(c, pivot)
            let d = a[c][c]
            for j in 0..<n { a[c][j] /= d; inv[c][j] /= d }
            for r in 0..<n where r != c && a[r][c] != 0 {
                let f = a[r][c]
                for j in 0..<n { a[r][j] -= f * a[c][j]; inv[r][j] -= f * inv[c][j] }
            }
        }
        return inv
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
    /// "segmented regression", or "difference-in-differences" against `controls` when there are enough.
    public var method: String?
    /// With difference-in-differences: the comparison series (of subjects the same rule still flags).
    public var controls: [String]?
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
        self.method = estimate == nil ? nil : "segmented regression"
        self.significant = significant; self.improved = improved; self.modelChange = modelChange; self.note = note
    }
}
