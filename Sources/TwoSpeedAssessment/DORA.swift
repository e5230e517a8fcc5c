import Glibc
import TwoSpeedModel

/// DORA's software delivery performance clusters, the public reference for speed tiers.
/// Source: DORA, "Accelerate State of DevOps Report 2024" (Google Cloud), software delivery performance
/// levels. The 2025 report replaces the clusters with per-metric buckets and team archetypes; the 2024
/// clusters stay the reference here because they classify a system on all four keys at once.
public struct DORACluster: Sendable, Codable, Equatable {
    public var tier: String
    /// Share of the report's respondents in the cluster.
    public var respondents: Double
    /// Deployments per month: the bounds of "on demand", "daily to weekly", and so on.
    public var deploysPerMonth: ClosedRange<Double>
    /// Lead time for changes, hours.
    public var leadTimeHours: ClosedRange<Double>
    /// Typical change failure rate of the cluster (the report gives one figure per cluster).
    public var changeFailureRate: Double
    /// Failed deployment recovery time, hours.
    public var recoveryHours: ClosedRange<Double>
}

public enum DORA {
    public static let citation = "DORA, Accelerate State of DevOps Report 2024: software delivery performance clusters"

    /// The four clusters, fastest first. Ranges are read from the report's wording: "on demand (several
    /// deploys a day)" as 30+ a month, "between once per day and once per week" as 4 to 30, and so on.
    public static let clusters: [DORACluster] = [
        DORACluster(tier: "elite", respondents: 0.19, deploysPerMonth: 30...10_000, leadTimeHours: 0...24,
                    changeFailureRate: 0.05, recoveryHours: 0...1),
        DORACluster(tier: "high", respondents: 0.22, deploysPerMonth: 4...30, leadTimeHours: 24...168,
                    changeFailureRate: 0.20, recoveryHours: 0...24),
        DORACluster(tier: "medium", respondents: 0.35, deploysPerMonth: 1...4, leadTimeHours: 168...720,
                    changeFailureRate: 0.10, recoveryHours: 0...24),
        DORACluster(tier: "low", respondents: 0.25, deploysPerMonth: 1.0 / 6...1, leadTimeHours: 720...4_320,
                    changeFailureRate: 0.40, recoveryHours: 168...720),
    ]
}

/// A system's place among DORA's clusters: `classify` reads the four keys together; the two-speed
/// findings use `throughput` (cadence and lead time), with `stability` shown beside.
public enum SpeedTier: String, Sendable, Codable, Comparable, CaseIterable {
    case elite, high, medium, low

    var rank: Int { SpeedTier.allCases.firstIndex(of: self)! }
    public static func < (a: SpeedTier, b: SpeedTier) -> Bool { a.rank > b.rank }

    /// The cluster nearest to the system's figures, on every key it reports. Throughput keys are
    /// compared on a log scale (deploying 10 times a month is as far from 100 as from 1); the change
    /// failure rate on a linear one, in tenths. Since the clusters do not rank cleanly on stability,
    /// nearness on all keys together decides, ties going to the slower tier. nil when nothing is known.
    public static func classify(_ d: Delivery) -> SpeedTier? {
        distances(d).min { a, b in a.1 < b.1 || (a.1 == b.1 && a.0 < b.0) }?.0
    }

    /// Speed as the articles mean it: release cadence and lead time ("rolled out in weeks rather than
    /// months" against "quarterly internal software upgrades", McKinsey). The two-speed findings use
    /// this tier; a core that releases quarterly is slow however rarely it fails. nil without either key.
    public static func throughput(_ d: Delivery) -> SpeedTier? {
        classify(Delivery(deploysPerMonth: d.deploysPerMonth, leadTimeHours: d.leadTimeHours, changeFailureRate: nil, recoveryHours: nil))
    }

    /// Stability alone (change failure rate and recovery time), shown beside speed, not mixed into it.
    public static func stability(_ d: Delivery) -> SpeedTier? {
        classify(Delivery(deploysPerMonth: nil, leadTimeHours: nil, changeFailureRate: d.changeFailureRate, recoveryHours: d.recoveryHours))
    }

    /// The distance of the figures to each cluster, fastest cluster first.
    public static func distances(_ d: Delivery) -> [(SpeedTier, Double)] {
        var keys = 0
        var out: [(SpeedTier, Double)] = []
        for (i, c) in DORA.clusters.enumerated() {
            var dist = 0.0
            keys = 0
            if let v = d.deploysPerMonth { dist += logDistance(v, c.deploysPerMonth); keys += 1 }
            if let v = d.leadTimeHours { dist += logDistance(v, c.leadTimeHours); keys += 1 }
            if let v = d.changeFailureRate { dist += abs(v - c.changeFailureRate) / 0.1; keys += 1 }
            if let v = d.recoveryHours { dist += logDistance(v, c.recoveryHours); keys += 1 }
            out.append((SpeedTier.allCases[i], dist))
        }
        return keys == 0 ? [] : out
    }

    /// The tier of one key alone, for the explanation beside the overall tier.
    public static func perKey(_ d: Delivery) -> [String: SpeedTier] {
        var r: [String: SpeedTier] = [:]
        func nearest(_ f: (DORACluster) -> Double) -> SpeedTier {
            var best = (SpeedTier.low, Double.infinity)
            for (i, c) in DORA.clusters.enumerated() {
                let x = f(c)
                if x < best.1 { best = (SpeedTier.allCases[i], x) }
            }
            return best.0
        }
        if let v = d.deploysPerMonth { r["deploysPerMonth"] = nearest { logDistance(v, $0.deploysPerMonth) } }
        if let v = d.leadTimeHours { r["leadTimeHours"] = nearest { logDistance(v, $0.leadTimeHours) } }
        if let v = d.changeFailureRate { r["changeFailureRate"] = nearest { abs(v - $0.changeFailureRate) } }
        if let v = d.recoveryHours { r["recoveryHours"] = nearest { logDistance(v, $0.recoveryHours) } }
        return r
    }

    /// How far outside the range a value lies, in natural-log units (0 inside). Zero values sit at
    /// a small floor so that "never deploys" is far from everything rather than undefined.
    static func logDistance(_ v: Double, _ r: ClosedRange<Double>) -> Double {
        let x = log(max(v, 1e-3))
        let lo = log(max(r.lowerBound, 1e-3)), hi = log(max(r.upperBound, 1e-3))
        if x < lo { return lo - x }
        if x > hi { return x - hi }
        return 0
    }
}
