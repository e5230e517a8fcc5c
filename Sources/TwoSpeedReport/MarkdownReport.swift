import TwoSpeedAssessment
import TwoSpeedJSON
import TwoSpeedModel

/// The assessment as GitHub-flavoured Markdown, for wikis and pull requests: the same sections as the
/// HTML report, each as a table. Every text from the result goes through `Escape.markdown`, so a name
/// with a pipe, a line break or markup stays inside its cell as the same text.
public enum MarkdownReport {
    public static let mediaType = "text/markdown; charset=utf-8"

    /// With two or more `trend` points (every kept run of the model), a trend section lists the scores over time.
    /// With `advice` (a history of two or more runs, or a campaign), an "Advice and outcomes" section follows the others.
    public static func render(_ r: AssessmentResult, previous: AssessmentResult? = nil, trend: [TrendPoint] = [],
                              advice: AdviceReport? = nil) -> String {
        var d = Doc(r, previous: previous, trend: trend)
        d.advice = advice
        d.document()
        // Cells and lines escape their data already; this catches any control character left (ESC, a lone
        // CR, BEL), in text that is not a cell too, as the text report does: a terminal showing the file obeys them.
        return ControlEscape.escaped(d.lines.joined(separator: "\n") + "\n", keepingLines: true)
    }

    struct Doc: ReportSections {
        let r: AssessmentResult
        let previous: AssessmentResult?
        let before: [String: Double]?
        let trend: [TrendPoint]
        var advice: AdviceReport? = nil
        var lines: [String] = []

        init(_ r: AssessmentResult, previous: AssessmentResult?, trend: [TrendPoint] = []) {
            self.r = r
            self.trend = trend.count >= 2 ? trend : []
            before = Common.previousScores(r, previous)
            self.previous = before == nil ? nil : previous
        }

        /// Data inside a line or a cell.
        func m(_ s: String) -> String { Escape.markdownInline(s) }
        /// Data that starts a heading's text or a list item.
        func b(_ s: String) -> String { Escape.markdown(s) }

        mutating func add(_ s: String = "") { lines.append(s) }

        /// A table: a header row, the alignment row and one line a row. Cells are already escaped.
        mutating func table(_ head: [String], _ rows: [[String]], numeric: Set<Int> = []) {
            add("| " + head.joined(separator: " | ") + " |")
            add("|" + head.indices.map { numeric.contains($0) ? " ---: " : " --- " }.joined(separator: "|") + "|")
            for row in rows { add("| " + row.map { $0.isEmpty ? " " : $0 }.joined(separator: " | ") + " |") }
            add()
        }

        func subjects(_ list: [Subject], total: Int? = nil) -> String {
            if list.isEmpty { return "–" }
            var s = list.map { m($0.name) + " (" + m($0.kind) + ")" }.joined(separator: ", ")
            if let total, total > list.count { s += " and \(total - list.count) more" }
            return s
        }

        func level(_ level: Int?, _ name: String?, none: String = "no evidence") -> String {
            guard let level else { return none }
            return "\(level) " + m(name ?? "")
        }

        /// A 1..5 score as ten blocks, for readers of the raw text as much as the rendered table.
        func bar(_ score: Double?) -> String {
            guard let score else { return "" }
            let n = max(0, min(10, Int((score / 5 * 10).rounded())))
            return String(repeating: "█", count: n) + String(repeating: "░", count: 10 - n)
        }

        mutating func document() {
            add("# " + b(r.organization) + ": two-speed operating model assessment")
            add()
            add("Model " + m(r.model.name) + " " + m(r.model.version) + " · data as of " + m(Common.humanDate(r.asOf))
                + (r.run.map { " · run \($0)" } ?? "") + " · assessed " + m(Common.humanDate(r.at))
                + (previous.map { " · compared with " + ($0.run.map { "run \($0)" } ?? "an earlier assessment") + " (" + m(Common.humanDate($0.asOf)) + ")" } ?? ""))
            add()
            let sentences = (r.summary ?? []) + (Common.pitfallChangeSentence(r, previous).map { [$0] } ?? [])
            if !sentences.isEmpty {
                add("## Executive summary")
                add()
                add(sentences.map(m).joined(separator: " "))
                add()
            }
            let cov = r.analyses.coverage
            add((r.overall.level == nil ? "**Overall maturity: insufficient evidence** (" + m(Common.evidenceShare(r)) + ")"
                 : "**Overall maturity: \(Num.fixed(r.overall.score, 2)) of 5, level \(level(r.overall.level, r.overall.levelName))**")
                + (previous.map { " (\(Common.change(r.overall.score, $0.overall.score) ?? "") since " + ($0.run.map { "run \($0)" } ?? "the previous run") + ")" } ?? ""))
            add()
            add("- Pitfalls found: \(r.pitfalls.count) (\(r.pitfalls.filter { $0.severity == "high" }.count) of high severity)")
            let card = Common.stagesWithoutOwner(r)
            add("- Stages without one owner: " + (card.count == "not assessed" ? "not assessed, " + card.detail
                : "\(cov.unowned.count) unowned, \(cov.doublyOwned.count) doubly owned, of \(cov.journeys.reduce(0) { $0 + $1.stages.count })"
                  + ((cov.ownerUnknown?.count ?? 0) > 0 ? "; \(cov.ownerUnknown!.count) not assessed (owners outside the portfolio)" : "")))
            add("- Blocking couplings: \(r.analyses.speed.couplings.filter(\.blocking).count)")
            add()
            sections()
            adviceSection()
            if !r.warnings.isEmpty {
                add("## Notes")
                add()
                for w in r.warnings { add("- " + b(w)) }
                add()
            }
            add("---")
            add()
            add("Generated by TwoSpeed from the assessment of portfolio `" + r.portfolio.filter { $0 != "`" && !$0.isNewline } + "`"
                + (r.revision.map { " (revision \($0))" } ?? "") + (r.run.map { ", kept run \($0)" } ?? "") + ", assessed " + m(Common.humanDate(r.at)) + ".")
        }

        mutating func summary() {
            add("## Maturity by dimension")
            add()
            var head = ["Dimension", "Score", "1 to 5", "Level", "Evidence"]
            if previous != nil { head += ["Before", "Change"] }
            var rows: [[String]] = r.dimensions.map { d in
                var row = [m(d.name), d.score.map { Num.fixed($0, 2) } ?? "–", bar(d.score), level(d.level, d.levelName, none: Common.noLevel(d)), Num.pct(d.evidence, 0)]
                if previous != nil {
                    let old = before?[d.id]
                    row += [old.map { Num.fixed($0, 2) } ?? "–", Common.change(d.score, old) ?? "–"]
                }
                return row
            }
            var overall = r.overall.level == nil
                ? ["**Overall**", "–", "", "**insufficient evidence**", ""]
                : ["**Overall**", "**\(Num.fixed(r.overall.score, 2))**", bar(r.overall.score),
                   "**" + level(r.overall.level, r.overall.levelName) + "**", ""]
            if let previous {
                overall += [Num.fixed(previous.overall.score, 2), Common.change(r.overall.score, previous.overall.score) ?? "–"]
            }
            rows.append(overall)
            table(head, rows, numeric: previous != nil ? [1, 4, 5, 6] : [1, 4])
            add("Levels: " + r.model.levels.map { "\($0.level) " + m($0.name) + " from \(Num.short($0.minScore, 2))" }.joined(separator: ", ") + ".")
            add()
            let caps = Common.capSentences(r)
            if !caps.isEmpty {
                add("A level is held only while its checks pass: a standing pitfall holds down the levels it concerns.")
                add()
                for c in caps { add("- " + m(c)) }
                add()
            }
        }

        /// What changed since the previous run: the pitfalls resolved and the new ones, each with its subjects.
        mutating func changesSection() {
            guard let previous, let c = Common.pitfallChange(r, previous) else { return }
            add("## Since " + (previous.run.map { "run \($0)" } ?? "the previous assessment"))
            add()
            for (title, items) in [("Pitfalls resolved", c.resolved), ("New pitfalls", c.new)] {
                add("### " + title)
                add()
                if items.isEmpty { add("None."); add(); continue }
                for f in items {
                    add("- **" + m(f.name) + "** (" + m(f.severity) + ")"
                        + (f.subjects.isEmpty ? "" : ": " + f.subjects.map { m($0.name) }.joined(separator: ", ")))
                }
                add()
            }
        }

        mutating func trendSection() {
            guard !trend.isEmpty else { return }
            add("## Trend")
            add()
            add("Every kept run of the model " + m(r.model.name) + ", oldest first; – where a run had no evidence.")
            add()
            let rows = trend.map { p in
                ["\(p.run)", m(p.made), m(Common.humanDate(String(p.asOf.prefix(10)))), p.overall.map { Num.fixed($0, 2) } ?? "–"]
                    + r.dimensions.map { d in p.dimensions[d.id].map { Num.fixed($0, 2) } ?? "–" }
            }
            table(["Run", "Made", "Data as of", "Overall"] + r.dimensions.map { m($0.name) }, rows,
                  numeric: Set(3..<(4 + r.dimensions.count)))
        }

        mutating func recommendations() {
            add("## What to do next")
            add()
            if r.recommendations.isEmpty {
                let needed = r.evidenceNeeded ?? []
                if needed.isEmpty {
                    add(m(Common.nothingStandsOut))
                } else {
                    add(m(Common.evidenceFirst))
                    add()
                    for n in needed { add("- " + m(n)) }
                }
                add(); return
            }
            let names = Common.dimensionNames(r)
            table(["#", "What to do", "Why", "Gain", "Effort", "Dimensions"], r.recommendations.map { rec in
                ["\(rec.rank)", "**" + m(rec.title) + "** " + m(rec.action) + (rec.subjects.isEmpty ? "" : " Concerns: " + subjects(rec.subjects)),
                 m(rec.why), "+" + Num.fixed(rec.expectedGain, 2), Num.short(rec.effort, 1) + " of 5",
                 rec.dimensions.map { m(names[$0] ?? $0) }.joined(separator: ", ")]
            }, numeric: [0, 3])
            let needed = r.evidenceNeeded ?? []
            if !needed.isEmpty {
                add(m(Common.notAssessed))
                add()
                for n in needed { add("- " + m(n)) }
                add()
            }
        }

        mutating func pitfalls() {
            add("## Pitfalls")
            add()
            if r.pitfalls.isEmpty { add("No pitfall of the two-speed model shows in the data."); add(); return }
            let ordered = r.pitfalls.enumerated().sorted {
                Common.severityOrder($0.element.severity) != Common.severityOrder($1.element.severity)
                    ? Common.severityOrder($0.element.severity) < Common.severityOrder($1.element.severity) : $0.offset < $1.offset
            }.map(\.element)
            table(["Severity", "Pitfall", "Concerns", "Evidence", "What to do"], ordered.map { p in
                [m(p.severity), "**" + m(p.name) + "**" + (p.plugin.map { " (plugin " + m($0) + ")" } ?? ""),
                 subjects(p.subjects, total: p.subjectCount), p.evidence.map(m).joined(separator: "<br>"), m(p.recommendation)]
            })
        }

        mutating func coverage() {
            let cov = r.analyses.coverage
            add("## Coverage map")
            add()
            if cov.journeys.isEmpty { add("The portfolio has no journeys."); add(); return }
            add("Every stage of every customer journey should have exactly one accountable product manager. Status: "
                + Common.statuses.map { "*\($0)* " + (Common.statusText[$0] ?? "") }.joined(separator: ", ") + ".")
            add()
            // The heatmap's grid: a row a journey, a column a stage position.
            let width = cov.journeys.map(\.stages.count).max() ?? 0
            table(["Journey"] + (0..<width).map { "Stage \($0 + 1)" }, cov.journeys.map { j in
                [m(j.name)] + j.stages.map { c in m(c.name) + ": *" + c.status + "*" } + Array(repeating: "", count: width - j.stages.count)
            })
            var rows: [[String]] = []
            for j in cov.journeys {
                for c in j.stages {
                    rows.append([m(j.name), m(c.name), c.status, c.owners.isEmpty ? "–" : c.owners.map { m($0.name) }.joined(separator: ", "),
                                 c.products.isEmpty ? "–" : c.products.map { m($0.name) }.joined(separator: ", ")
                                    + (c.productCount > c.products.count ? " and \(c.productCount - c.products.count) more" : ""),
                                 c.metrics.isEmpty ? "–" : c.metrics.map { m($0.name) }.joined(separator: ", ")
                                    + (c.metricCount > c.metrics.count ? " and \(c.metricCount - c.metrics.count) more" : "")])
                }
            }
            table(["Journey", "Stage", "Status", "Owners", "Products", "Metrics"], rows)
        }

        mutating func speed() {
            let s = r.analyses.speed
            add("## Speed tiers")
            add()
            add("Systems by layer and speed: the delivery performance cluster (" + m(s.reference) + ") their deployment frequency "
                + "and lead time point to. Stability (change failures, recovery) is shown beside, not mixed in.")
            add()
            let columns = Common.tiers + ["unknown"]
            table(["Layer"] + columns, Common.layerOrder(s).map { layer in
                [m(layer)] + columns.map { t in
                    s.systems.filter { $0.layer == layer && ($0.tier ?? "unknown") == t }.map { m($0.system.name) }.joined(separator: ", ")
                }
            })
            if !s.systems.isEmpty {
                table(["System", "Layer", "Speed", "Stability", "Deploys a month", "Lead time (h)", "Change failure", "Recovery (h)"], s.systems.map { sys in
                    [m(sys.system.name), m(sys.layer), m(sys.tier ?? "unknown"), m(sys.stability ?? "–")] + Common.deliveryText(sys)
                }, numeric: [4, 5, 6, 7])
                // A table row holds no note: the systems whose label disagrees with its keys, after the table.
                let notes = Common.labelNotes(s)
                if !notes.isEmpty {
                    add("Where a label differs from its keys one by one:")
                    add()
                    for n in notes { for note in n.notes { add("- **" + m(n.system.system.name) + "**: " + m(note)) } }
                    add()
                }
            }
            if let t = r.analyses.delivery {
                add("### The four keys by window")
                add()
                add(m(Common.trendSentence(t)))
                add()
                table(Common.trendHeader, Common.trendRows(t).map { $0.map(m) }, numeric: [1, 2, 3, 4, 5])
            }
            add("### Couplings from faster to slower systems")
            add()
            if s.couplings.isEmpty { add("No system calls a slower one."); add(); return }
            table(["From", "To", "Interface", "Effect"], s.couplings.map { c in
                [m(c.from.name) + " (" + m(c.fromTier ?? "") + ")", m(c.to.name) + " (" + m(c.toTier ?? "") + ")", m(c.kind),
                 (c.blocking ? "**blocking**: " : "decoupled: ") + m(c.reason)]
            })
        }

        mutating func experiments() {
            let xs = r.analyses.experiments
            add("## Experiments")
            add()
            if xs.isEmpty { add("No experiment has control and variant counts yet."); add(); return }
            add("Each variant against its control in percentage points of its decision metric (variant minus control; "
                + "on a lower-is-better metric a negative difference is the win), with its "
                + "\(Num.short((xs.first?.confidence ?? 0.95) * 100, 2))% confidence interval.")
            add()
            table(["Experiment", "Product", "Control", "Variant", "Difference (percentage points)", "Interval", "Relative", "p", "Traffic split", "Next step"], xs.map { x in
                [m(x.experiment ?? "–") + (x.direction == Direction.lower ? " (lower is better)" : ""), m(x.product ?? "–"),
                 Num.pct(x.control.rate, 2) + " of " + Num.grouped(x.control.users), Num.pct(x.variant.rate, 2) + " of " + Num.grouped(x.variant.users),
                 Num.points(x.lift.absolute), "[" + Num.points(x.lift.absoluteInterval.low) + ", " + Num.points(x.lift.absoluteInterval.high) + "]",
                 (x.lift.relative.map { Num.points($0, 1) + "%" } ?? "–")
                    + (x.lift.relativeInterval.map { " [" + Num.points($0.low, 1) + "%, " + Num.points($0.high, 1) + "%]" } ?? ""),
                 m(Num.p(x.test.p)),
                 (x.sampleRatio.mismatch ? "**mismatch**" : "sound") + " (" + Num.pct(x.sampleRatio.observedShare, 1) + " of "
                    + Num.pct(x.sampleRatio.expectedShare, 1) + " planned)",
                 "**" + m(x.recommendation.action) + "** to " + Num.pct(x.recommendation.nextShare, 0) + ": " + m(x.recommendation.reason)]
            }, numeric: [4, 7])
            if r.analyses.experimentCount > xs.count {
                add("The first \(xs.count) of \(r.analyses.experimentCount) experiments with counts.")
                add()
            }
        }

        mutating func prioritization() {
            let p = r.analyses.prioritization
            add("## Prioritization")
            add()
            add("Active products ranked by " + m(p.method) + ": " + m(p.formula) + ".")
            add()
            if p.ranked.isEmpty {
                add("No product has the figures this method needs.")
                add()
            } else {
                table(["#", "Product", m(Prioritizer.scoreUnit(p.method)), "How"], p.ranked.map { ["\($0.rank)", m($0.product.name), Num.readable($0.score, 2), m($0.explanation)] },
                      numeric: [0, 2])
                if p.total > p.ranked.count { add("The first \(p.ranked.count) of \(p.total)."); add() }
            }
            if p.unscoredTotal > 0 { add("Without the figures to rank: " + subjects(p.unscored, total: p.unscoredTotal) + "."); add() }
        }

        mutating func okrs() {
            let o = r.analyses.okrs
            add("## OKR alignment")
            add()
            if o.objectives.isEmpty { add("The portfolio has no objectives."); add(); return }
            add((o.sharedShare.map { Num.pct($0, 0) + " of objectives are shared across departments or roll up to a shared one; " } ?? "")
                + "\(o.orphanKeyResults) key result\(o.orphanKeyResults == 1 ? "" : "s") with no metric a product can move.")
            add()
            table(["Objective", "Departments", "Shared", "Products", "Key results"], o.objectives.map { ob in
                [m(ob.okr.name), ob.departments.map(m).joined(separator: ", "), ob.shared ? "yes" : "**no**",
                 subjects(ob.products, total: ob.productCount),
                 ob.keyResults.map { kr in
                     m(kr.description) + (kr.latest.map { " (now " + Num.readable($0, 2) + ")" } ?? "")
                        + (kr.target.map { " (target " + Num.readable($0, 2) + ")" } ?? "") + (kr.orphan ? " **orphan**" : "")
                 }.joined(separator: "<br>")]
            })
            if o.productsWithoutObjectiveCount > 0 {
                add("Products serving no objective: " + subjects(o.productsWithoutObjective, total: o.productsWithoutObjectiveCount) + ".")
                add()
            }
        }

        mutating func accountability() {
            let a = r.analyses.accountability
            add("## Accountability")
            add()
            if a.managers.isEmpty { add("The portfolio has no product managers."); add(); return }
            table(["Manager", "Products", "Measured on", "They can influence", "Metrics out of their reach"], a.managers.map { x in
                [m(x.manager.name), "\(x.products)", "\(x.measuredOn)", x.share.map { Num.pct($0, 0) } ?? "measured on nothing",
                 subjects(x.notInfluenceable)]
            }, numeric: [1, 2, 3])
        }

        /// "Advice and outcomes", from the model the HTML report draws too; the burn-up as a table.
        mutating func adviceSection() {
            guard let a = AdviceSection(advice) else { return }
            add("## " + AdviceSection.title)
            add()
            add(m(a.intro))
            add()
            table(["Advice", "Rule", "Concerns", "Status", "First given", "Last given", "What happened"], a.advice.map { x in
                ["**" + m(x.title) + "**<br>`" + x.key.filter { $0 != "`" && !$0.isNewline } + "`", m(x.rule),
                 x.subjects.isEmpty ? "–" : x.subjects.map(m).joined(separator: ", "), m(x.status),
                 "run \(x.firstRun)", "run \(x.lastRun)", x.what.isEmpty ? "–" : m(x.what)]
            }, numeric: [4, 5])
            if !a.moved.isEmpty {
                add("### What moved")
                add()
                add(m(AdviceSection.movedIntro) + " **" + m(AdviceSection.association) + "**")
                add()
                table(["Advice", "Measure", "Shift", "95% interval", "Method", "Reading"], a.moved.map { o in
                    [m(o.title) + " (run \(o.resolvedAt))", m(o.name) + " (" + m(o.measure) + ", " + m(o.direction) + " is better)",
                     m(o.shift), m(o.interval), m(o.method), m(o.reading) + (o.modelChange.map { "<br>" + m($0) } ?? "")]
                }, numeric: [2, 3])
            }
            for c in a.campaigns {
                add("### Campaign: " + b(c.name))
                add()
                add("Owner " + m(c.owner) + ", " + m(c.start) + " to " + m(c.target) + ": **" + m(c.status) + "**, " + m(c.summary) + ".")
                add()
                for n in c.notes { add("- " + b(n)) }
                if !c.notes.isEmpty { add() }
                if !c.burnUp.isEmpty {
                    table(["Run", "Resolved", "In scope"], c.burnUp.map { ["\($0.run)", "\($0.resolved)", "\($0.inScope)"] }, numeric: [0, 1, 2])
                }
            }
        }

        mutating func criteria() {
            add("## Why these scores")
            add()
            for d in r.dimensions {
                add("### " + b(d.name) + ": " + (d.score.map { Num.fixed($0, 2) } ?? "not assessed") + (d.level.map { ", level \($0) " + m(d.levelName ?? "") } ?? (d.score == nil ? "" : ", " + Common.noLevel(d))))
                add()
                table(["Criterion", "Weight", "Fact from the data", "Answer", "Score", "Basis"], d.criteria.map { c in
                    [m(c.text), Num.short(c.weight, 2),
                     c.fact.map { f in m(f.detail) + (c.factScore.map { " → " + Num.fixed($0, 2) } ?? "")
                        + ((f.subjects ?? []).isEmpty ? "" : " (" + subjects(f.subjects ?? []) + ")") } ?? (c.score == nil ? "not assessed: " + m(c.evidenceNeeded ?? "no evidence") : "–"),
                     c.answer.map { a in "\(a.score) of 5" + (a.evidence.map { ": " + m($0) } ?? "") } ?? "–",
                     c.score.map { Num.fixed($0, 2) } ?? "–", m(Common.basis(c))]
                }, numeric: [1, 4])
            }
        }
    }
}
