import TwoSpeedAssessment
import TwoSpeedJSON
import TwoSpeedStore
import TwoSpeedSync

/// Carries a shared store's change notices to the engine, holding those heard while the engine is
/// still opening (it listens before its first read) until the engine is ready.
final class NoticeRelay: @unchecked Sendable {
    private struct State {
        weak var engine: Engine?
        var ready = false
        var pending: [(String?, Int?)] = []
    }
    private let state = Locked(State())

    func deliver(_ id: String?, _ revision: Int?) {
        let engine: Engine? = state.write { s in
            guard s.ready else {
                // Many notices before the engine is ready: one "anything may have changed" says it all.
                if s.pending.count < 1024 { s.pending.append((id, revision)) } else { s.pending = [(nil, nil)] }
                return nil
            }
            return s.engine
        }
        engine?.heard(id, revision: revision)
    }

    func attach(_ engine: Engine) {
        let pending = state.write { s -> [(String?, Int?)] in
            s.engine = engine
            s.ready = true
            defer { s.pending = [] }
            return s.pending
        }
        for (id, revision) in pending { engine.heard(id, revision: revision) }
    }
}

extension Engine {
    /// A change committed to a shared store (by another engine, or this one): the portfolio is reloaded
    /// on the calling thread (the store's listener, never a daemon's event loop) unless the engine already
    /// holds that revision (its own write); with no id, the models and every portfolio are.
    func heard(_ id: String?, revision: Int?) {
        guard let id else {
            refreshModels()
            refreshAll()
            return
        }
        guard let revision else { return refresh(portfolio: id) }
        if let held = portfolios.heldRevision(id), held >= revision { return }
        portfolios.refresh(id, unlessAt: revision)
    }

    /// The custom models reloaded from the store and swapped in (another engine put or deleted one). A
    /// model that does not decode is left out, as a write would have refused it.
    func refreshModels() {
        guard let stored = try? store.models() else { return }
        var custom: [String: AssessmentModel] = [:]
        for m in stored {
            if let model = try? JanssonDecoder().decode(AssessmentModel.self, from: m.body) { custom[m.id] = model }
        }
        modelLane.exclusively { models.write { $0.custom = custom } }
    }
}
