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
