import TwoSpeedModel
import TwoSpeedSchema

/// The four keys computed from recorded delivery events, laid over the hand-entered `delivery` figures
/// for an assessment: a system with events takes its computed figures (a key the events cannot give,
/// such as recovery time without incidents, keeps the entered one); other systems keep theirs.
public struct DeliveryOverlay: Sendable {
    /// The newest window's figures of each system with events.
    public var figures: [String: FourKeys.Figures]
    /// The trend the result shows: pooled figures by window, newest first.
    public var trend: DeliveryTrend

    public init(figures: [String: FourKeys.Figures], trend: DeliveryTrend) {
        self.figures = figures; self.trend = trend
    }

    /// The portfolio with each system's delivery figures as the speed tiers should read them.
    func apply(_ p: Portfolio) -> Portfolio {
        var p = p
        for i in p.systems.indices {
            guard let f = figures[p.systems[i].id] else { continue }
            let entered = p.systems[i].delivery
            p.systems[i].delivery = Delivery(deploysPerMonth: f.deploysPerMonth,
                                             leadTimeHours: f.leadTimeHours ?? entered?.leadTimeHours,
                                             changeFailureRate: f.changeFailureRate ?? entered?.changeFailureRate,
                                             recoveryHours: f.recoveryHours ?? entered?.recoveryHours)
        }
        return p
    }

    /// A context for the analyses with these figures laid over the portfolio's.
    public func context(_ p: Portfolio) -> PortfolioContext {
        let ctx = PortfolioContext(apply(p))
        ctx.deliveryFromEvents = Set(figures.keys)
        return ctx
    }

    /// Facts that read delivery figures or the speed tiers built from them.
    static let deliveryFacts: Set<String> = ["frontEndFast", "frontEndUngated", "systemsFast", "medianDeploysPerMonth",
                                             "medianLeadTimeHours", "medianChangeFailureRate", "medianRecoveryHours"]

    /// What a criterion on delivery figures rests on, in a sentence: which systems' figures were
    /// computed from events and which were entered by hand.
    func basis(_ p: Portfolio) -> String {
        let computed = p.systems.filter { figures[$0.id] != nil }.map(\.id)
        let entered = p.systems.filter { figures[$0.id] == nil && $0.delivery != nil }.map(\.id)
        let window = trend.windows.first.map { " (\($0.from) to \($0.to))" } ?? ""
        var s = "delivery figures computed from recorded deployments and incidents for \(computed.count) system"
            + (computed.count == 1 ? "" : "s") + window + ": " + computed.joined(separator: ", ")
        s += entered.isEmpty ? "; none entered by hand" : "; entered by hand for \(entered.count): " + entered.joined(separator: ", ")
        return s
    }
}

/// The four keys of a portfolio's recorded events, pooled over its systems, by window: what the
/// assessment, its history and its report show as the trend.
public struct DeliveryTrend: Codable, Sendable, Equatable {
    public struct Window: Codable, Sendable, Equatable {
        public var from: String
        public var to: String
        public var all: FourKeys.Figures?
        public init(from: String, to: String, all: FourKeys.Figures?) { self.from = from; self.to = to; self.all = all }
    }
    public var definitions: String
    public var days: Int
    /// Systems whose speed tier uses figures computed from events.
    public var systemsFromEvents: [String]
    /// Newest first.
    public var windows: [Window]

    public init(definitions: String = FourKeys.citation, days: Int, systemsFromEvents: [String], windows: [Window]) {
        self.definitions = definitions; self.days = days; self.systemsFromEvents = systemsFromEvents; self.windows = windows
    }

    public static let schema: Schema = .object("DeliveryTrend", required: ["definitions", "days", "systemsFromEvents", "windows"], [
        "definitions": .string(), "days": .integer(min: 1), "systemsFromEvents": .array(.string()),
        "windows": .array(.object("DeliveryWindow", required: ["from", "to"], [
            "from": .formatted(.timestamp), "to": .formatted(.timestamp), "all": ResultSchemas.fourKeys]))])
}
