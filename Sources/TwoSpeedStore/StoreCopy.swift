import TwoSpeedModel

/// What `twospeed store copy` moves, as both stores hold it: the portfolios with their revisions, the
/// custom models, the kept runs with their numbers and scores, the delivery events with their ids.
/// Internal to the stores (the engine never needs it): a store copy writes rows as they are, without
/// the revision checks of ordinary writes, into a store that holds no portfolio yet.
protocol CopyableStore: PortfolioStore, DeliveryEventStore, AdviceStore {
    /// Every kept run of the portfolio, oldest first, with its score and both texts.
    func allRuns(portfolio: String) throws -> [CopiedRun]
    /// Every delivery event of the portfolio, with its id.
    func allDeliveryEvents(portfolio: String) throws -> (deployments: [DeploymentRecord], incidents: [IncidentRecord])
    /// Writes the portfolio (with its revision), its runs (with their numbers) and its events in one transaction.
    func restore(_ sp: StoredPortfolio, runs: [CopiedRun], deployments: [DeploymentRecord], incidents: [IncidentRecord]) throws
    /// Writes an advice row as it is, with its revision.
    func restoreAdviceRow(_ table: AdviceTable, portfolio: String, _ row: AdviceRow) throws
}

struct CopiedRun: Equatable {
    var seq: Int
    var at: String
    var model: String
    var score: Double
    var summary: String
    var body: String
}

/// What a copy moved, counted in the target after the copy.
public struct StoreCopyCounts: Sendable, Equatable, CustomStringConvertible {
    public var portfolios = 0, entities = 0, observations = 0, models = 0, runs = 0, deployments = 0, incidents = 0
    public var adviceRecords = 0, adviceRows = 0
    public var description: String {
        "\(portfolios) portfolios (\(entities) entities, \(observations) observations), \(models) models, \(runs) kept runs, "
            + "\(deployments) deployments, \(incidents) incidents, \(adviceRecords) advice records, \(adviceRows) dismissals and campaigns"
    }
}

public enum StoreCopy {
    /// Copies everything in `from` into `to`, which must hold no portfolio and no model, then reads both
    /// back and compares them: the counts of each, and each portfolio, run and event as read. Throws,
    /// saying what differs, when they do not match.
    public static func copy(from: any PortfolioStore, to: any PortfolioStore) throws -> StoreCopyCounts {
        guard let source = from as? any CopyableStore, let target = to as? any CopyableStore else {
            throw StoreError(kind: .io, message: "store copy works between SQLite and PostgreSQL stores only")
        }
        if try !target.loadAll().isEmpty || !target.models().isEmpty {
            throw StoreError(kind: .io, message: "the target store \(target.path) is not empty: copy refuses to merge two stores; give a new file or an empty database")
        }
        for m in try source.models() { try target.putModel(id: m.id, body: m.body, updated: m.updated) }
        for sp in try source.loadAll() {
            let id = sp.portfolio.id
            let events = try source.allDeliveryEvents(portfolio: id)
            try target.restore(sp, runs: try source.allRuns(portfolio: id), deployments: events.deployments, incidents: events.incidents)
            for r in try source.adviceRuns(portfolio: id) { try target.putAdviceRun(portfolio: id, seq: r.seq, body: r.body) }
            for table in AdviceTable.allCases {
                for row in try source.adviceRows(table, portfolio: id) { try target.restoreAdviceRow(table, portfolio: id, row) }
            }
        }
        let a = try counts(source), b = try counts(target)
        guard a == b else { throw StoreError(kind: .io, message: "after the copy the stores differ: source \(a); target \(b)") }
        let left = try source.loadAll(), right = try target.loadAll()
        for (l, r) in zip(left, right) {
            guard l.portfolio == r.portfolio, l.revision == r.revision, l.updated == r.updated else {
                throw StoreError(kind: .io, message: "after the copy portfolio \(l.portfolio.id) differs between the stores")
            }
            guard try source.allRuns(portfolio: l.portfolio.id) == target.allRuns(portfolio: r.portfolio.id) else {
                throw StoreError(kind: .io, message: "after the copy the kept runs of \(l.portfolio.id) differ between the stores")
            }
            let e1 = try source.allDeliveryEvents(portfolio: l.portfolio.id), e2 = try target.allDeliveryEvents(portfolio: l.portfolio.id)
            guard e1.deployments == e2.deployments, e1.incidents == e2.incidents else {
                throw StoreError(kind: .io, message: "after the copy the delivery events of \(l.portfolio.id) differ between the stores")
            }
            let a1 = try source.adviceRuns(portfolio: l.portfolio.id), a2 = try target.adviceRuns(portfolio: l.portfolio.id)
            let rowsSame = try AdviceTable.allCases.allSatisfy {
                try source.adviceRows($0, portfolio: l.portfolio.id) == target.adviceRows($0, portfolio: l.portfolio.id)
            }
            guard a1.map(\.seq) == a2.map(\.seq), a1.map(\.body) == a2.map(\.body), rowsSame else {
                throw StoreError(kind: .io, message: "after the copy the advice of \(l.portfolio.id) differs between the stores")
            }
        }
        return b
    }

    static func counts(_ s: any CopyableStore) throws -> StoreCopyCounts {
        var c = StoreCopyCounts()
        for sp in try s.loadAll() {
            c.portfolios += 1
            c.entities += EntityKind.allCases.reduce(0) { $0 + sp.counts[$1] }
            c.observations += sp.counts.observations
            c.runs += try s.allRuns(portfolio: sp.portfolio.id).count
            let e = try s.allDeliveryEvents(portfolio: sp.portfolio.id)
            c.deployments += e.deployments.count
            c.incidents += e.incidents.count
            c.adviceRecords += try s.adviceRuns(portfolio: sp.portfolio.id).count
            for table in AdviceTable.allCases { c.adviceRows += try s.adviceRows(table, portfolio: sp.portfolio.id).count }
        }
        c.models = try s.models().count
        return c
    }
}
