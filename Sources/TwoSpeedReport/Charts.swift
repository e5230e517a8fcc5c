import Glibc
import TwoSpeedAssessment
import TwoSpeedModel

/// Inline SVG charts for the HTML report: the dimension radar (bars below three dimensions) and the
/// experiment lifts with their confidence intervals. Every text from data goes through Escape.html;
/// the SVG is inline, so it needs no namespace, no script and no font of its own.
public enum Charts {
    /// One spoke of the radar: a dimension's score now and, when there is a previous run, then.
    public struct Axis: Sendable, Equatable {
        public var name: String
        public var score: Double?
        public var level: String?
        public var previous: Double?
        public init(name: String, score: Double?, level: String?, previous: Double?) {
            self.name = name; self.score = score; self.level = level; self.previous = previous
        }
    }

    /// The series' names for the legend: this run and, when overlaid, the previous one.
    public struct Legend: Sendable, Equatable {
        public var current: String
        public var previous: String?
        public init(current: String, previous: String?) { self.current = current; self.previous = previous }
    }

    static let blue = "#0072B2", orange = "#E69F00", vermillion = "#D55E00", grey = "#6b6b6b"
    /// Scores run from 1 to 5; the radar's radius is proportional to the score, so 0 (no evidence) is the centre.
    static let maxScore = 5.0

    // MARK: Radar

    /// A radar of any number of dimensions from three up; below three, horizontal bars (a polygon needs three).
    /// `levels` draws a ring where each level starts. The previous run is a dashed outline.
    public static func dimensions(_ axes: [Axis], levels: [AssessmentModel.Level], legend: Legend, title: String) -> String {
        axes.count >= 3 ? radar(axes, levels: levels, legend: legend, title: title) : bars(axes, levels: levels, legend: legend, title: title)
    }

    static func radar(_ axes: [Axis], levels: [AssessmentModel.Level], legend: Legend, title: String) -> String {
        let width = 800.0, height = 616.0, cx = 400.0, cy = 326.0, radius = 190.0
        let n = axes.count
        func angle(_ i: Int) -> Double { -Double.pi / 2 + 2 * Double.pi * Double(i) / Double(n) }
        func point(_ i: Int, _ score: Double) -> (Double, Double) {
            let r = radius * max(0, min(maxScore, score)) / maxScore
            return (cx + r * cos(angle(i)), cy + r * sin(angle(i)))
        }
        func polygon(_ scores: [Double]) -> String {
            scores.enumerated().map { i, s in let p = point(i, s); return Num.c(p.0) + "," + Num.c(p.1) }.joined(separator: " ")
        }
        let hasPrevious = legend.previous != nil && axes.contains { $0.previous != nil }
        var s = "<svg class=\"chart radar\" viewBox=\"0 0 \(Num.c(width)) \(Num.c(height))\" width=\"\(Num.c(width))\" "
            + "height=\"\(Num.c(height))\" role=\"img\" aria-labelledby=\"radar-title radar-desc\">\n"
        s += "<title id=\"radar-title\">\(Escape.html(title))</title>\n"
        s += "<desc id=\"radar-desc\">" + axes.map { a in
            Escape.html(a.name) + ": " + (a.score.map { Num.fixed($0, 2) } ?? "no evidence")
                + (hasPrevious ? " (previously " + (a.previous.map { Num.fixed($0, 2) } ?? "no evidence") + ")" : "")
        }.joined(separator: "; ") + "</desc>\n"

        // The web: a ring where each level starts, the outer ring at 5, the spokes.
        s += "<g class=\"grid\">\n"
        var rings = levels.map { ($0.minScore, $0.name) }.filter { $0.0 > 0 && $0.0 < maxScore }
        rings.append((maxScore, ""))
        // The rings' labels are drawn last, over the plotted area and its dots, so that no score hides them.
        var ringLabels = "<g class=\"ring-labels\">\n"
        for (score, name) in rings {
            s += "<polygon class=\"ring\" points=\"\(polygon(Array(repeating: score, count: n)))\"/>\n"
            if !name.isEmpty {
                let p = point(0, score)
                ringLabels += "<text class=\"ring-label\" x=\"\(Num.c(p.0 + 7))\" y=\"\(Num.c(p.1 - 3))\">\(Escape.html(name)) \(Num.short(score, 2))</text>\n"
            }
        }
        ringLabels += "</g>\n"
        for i in 0..<n {
            let p = point(i, maxScore)
            s += "<line class=\"spoke\" x1=\"\(Num.c(cx))\" y1=\"\(Num.c(cy))\" x2=\"\(Num.c(p.0))\" y2=\"\(Num.c(p.1))\"/>\n"
        }
        s += "</g>\n"

        // The previous run's dashed outline over this run's area, so that it shows where it lies inside.
        s += "<polygon class=\"series current\" points=\"\(polygon(axes.map { $0.score ?? 0 }))\"/>\n"
        if hasPrevious {
            s += "<polygon class=\"series previous\" points=\"\(polygon(axes.map { $0.previous ?? 0 }))\"/>\n"
        }
        for (i, a) in axes.enumerated() {
            let p = point(i, a.score ?? 0)
            let tip = Escape.html(a.name) + ": " + (a.score.map { Num.fixed($0, 2) + (a.level.map { ", level " + Escape.html($0) } ?? "") }
                                                     ?? "no evidence")
            s += "<circle class=\"\(a.score == nil ? "dot none" : "dot")\" cx=\"\(Num.c(p.0))\" cy=\"\(Num.c(p.1))\" r=\"4.5\"><title>\(tip)</title></circle>\n"
        }
        s += ringLabels

        // Labels outside the web: the dimension's name (wrapped) and its score.
        for (i, a) in axes.enumerated() {
            let c = cos(angle(i)), sn = sin(angle(i))
            let x = cx + (radius + 20) * c, y = cy + (radius + 20) * sn
            let anchor = abs(c) < 0.25 ? "middle" : (c > 0 ? "start" : "end")
            var lines = wrap(a.name, 18)
            let scoreLine = a.score.map { Num.fixed($0, 2) + (hasPrevious ? moved(a.score, a.previous) : "") } ?? "no evidence"
            lines.append(scoreLine)
            let lineHeight = 18.0
            // Labels above the centre grow upwards, those below downwards, those at the sides around the spoke.
            let top: Double
            if sn < -0.25 { top = y - Double(lines.count - 1) * lineHeight }
            else if sn > 0.25 { top = y + 10 }
            else { top = y - Double(lines.count - 1) * lineHeight / 2 + 4 }
            s += "<text class=\"axis-label\" text-anchor=\"\(anchor)\" x=\"\(Num.c(x))\" y=\"\(Num.c(top))\">"
            for (k, line) in lines.enumerated() {
                let cls = k == lines.count - 1 ? " class=\"axis-score\"" : ""
                s += "<tspan\(cls) x=\"\(Num.c(x))\" dy=\"\(k == 0 ? "0" : Num.c(lineHeight))\">\(Escape.html(line))</tspan>"
            }
            s += "</text>\n"
        }
        s += legendSVG(legend, hasPrevious: hasPrevious)
        s += "</svg>"
        return s
    }

    /// Below three dimensions: one bar per dimension on the 0..5 scale, the previous run as a dashed marker.
    static func bars(_ axes: [Axis], levels: [AssessmentModel.Level], legend: Legend, title: String) -> String {
        let width = 760.0, left = 220.0, right = 700.0, top = 64.0, rowHeight = 46.0
        let height = top + rowHeight * Double(max(1, axes.count)) + 40
        func x(_ score: Double) -> Double { left + (right - left) * max(0, min(maxScore, score)) / maxScore }
        let hasPrevious = legend.previous != nil && axes.contains { $0.previous != nil }
        var s = "<svg class=\"chart bars\" viewBox=\"0 0 \(Num.c(width)) \(Num.c(height))\" width=\"\(Num.c(width))\" "
            + "height=\"\(Num.c(height))\" role=\"img\" aria-labelledby=\"bars-title\">\n"
        s += "<title id=\"bars-title\">\(Escape.html(title))</title>\n"
        s += "<g class=\"grid\">\n"
        for l in levels where l.minScore > 0 && l.minScore <= maxScore {
            s += "<line class=\"ring\" x1=\"\(Num.c(x(l.minScore)))\" y1=\"\(Num.c(top - 8))\" x2=\"\(Num.c(x(l.minScore)))\" y2=\"\(Num.c(height - 32))\"/>\n"
            s += "<text class=\"ring-label\" text-anchor=\"middle\" x=\"\(Num.c(x(l.minScore)))\" y=\"\(Num.c(height - 16))\">\(Escape.html(l.name)) \(Num.short(l.minScore, 2))</text>\n"
        }
        s += "</g>\n"
        for (i, a) in axes.enumerated() {
            let y = top + rowHeight * Double(i)
            s += "<text class=\"axis-label\" text-anchor=\"end\" x=\"\(Num.c(left - 12))\" y=\"\(Num.c(y + 18))\">\(Escape.html(a.name))</text>\n"
            s += "<rect class=\"series current\" x=\"\(Num.c(left))\" y=\"\(Num.c(y + 4))\" width=\"\(Num.c(x(a.score ?? 0) - left))\" height=\"22\">"
                + "<title>\(Escape.html(a.name)): \(a.score.map { Num.fixed($0, 2) } ?? "no evidence")</title></rect>\n"
            if hasPrevious, let p = a.previous {
                s += "<line class=\"series previous\" x1=\"\(Num.c(x(p)))\" y1=\"\(Num.c(y))\" x2=\"\(Num.c(x(p)))\" y2=\"\(Num.c(y + 30))\"/>\n"
            }
            s += "<text class=\"axis-score\" x=\"\(Num.c(x(a.score ?? 0) + 6))\" y=\"\(Num.c(y + 20))\">"
                + "\(a.score.map { Num.fixed($0, 2) + (hasPrevious ? delta(a.score, a.previous) : "") } ?? "no evidence")</text>\n"
        }
        s += legendSVG(legend, hasPrevious: hasPrevious)
        s += "</svg>"
        return s
    }

    static func legendSVG(_ legend: Legend, hasPrevious: Bool) -> String {
        var s = "<g class=\"legend\">\n"
        s += "<rect class=\"series current\" x=\"4\" y=\"8\" width=\"26\" height=\"14\"/>"
            + "<text x=\"38\" y=\"21\">\(Escape.html(legend.current))</text>\n"
        if hasPrevious, let p = legend.previous {
            s += "<line class=\"series previous\" x1=\"4\" y1=\"40\" x2=\"30\" y2=\"40\"/>"
                + "<text x=\"38\" y=\"45\">\(Escape.html(p))</text>\n"
        }
        s += "</g>\n"
        return s
    }

    /// " (+0.25)" when the score moved since the previous run, "" when it did not or there is none.
    static func moved(_ now: Double?, _ before: Double?) -> String {
        guard let c = Common.change(now, before), c != "0.00" else { return "" }
        return " (" + c + ")"
    }

    /// " (+0.25)" against the previous score, "" without one.
    static func delta(_ now: Double?, _ before: Double?) -> String {
        Common.change(now, before).map { " (" + $0 + ")" } ?? ""
    }

    /// Greedy word wrap for SVG labels (SVG text does not wrap by itself); a long word stays whole.
    static func wrap(_ text: String, _ width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }) {
            if !line.isEmpty && line.count + 1 + word.count > width { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty || lines.isEmpty { lines.append(line) }
        return lines
    }

    // MARK: Experiment lifts

    /// Each experiment's absolute lift (variant minus control, in percentage points) with its confidence
    /// interval, on one shared axis through zero: an interval clear of zero is a significant difference.
    /// A lower-is-better metric says so under its name, since there a dot left of zero is the win.
    public static func lifts(_ experiments: [ExperimentEvaluation]) -> String {
        let width = 880.0, labelWidth = 190.0, plotLeft = 200.0, plotRight = 560.0, rowHeight = 44.0, top = 30.0
        let height = top + rowHeight * Double(max(1, experiments.count)) + 56
        var extent = 0.0
        for e in experiments {
            extent = max(extent, abs(e.lift.absoluteInterval.low), abs(e.lift.absoluteInterval.high), abs(e.lift.absolute))
        }
        let step = niceStep(extent * 100 / 3)
        let domain = max(step, (extent * 100 / step).rounded(.up) * step)  // in points, symmetric around zero
        func x(_ share: Double) -> Double {
            let v = max(-domain, min(domain, share * 100))
            return plotLeft + (plotRight - plotLeft) * (v + domain) / (2 * domain)
        }
        var s = "<svg class=\"chart lifts\" viewBox=\"0 0 \(Num.c(width)) \(Num.c(height))\" width=\"\(Num.c(width))\" "
            + "height=\"\(Num.c(height))\" role=\"img\" aria-labelledby=\"lifts-title\">\n"
        s += "<title id=\"lifts-title\">Experiment lifts in percentage points with their confidence intervals</title>\n"
        s += "<g class=\"grid\">\n"
        var t = -domain
        while t <= domain + step / 2 {
            let px = plotLeft + (plotRight - plotLeft) * (t + domain) / (2 * domain)
            s += "<line class=\"\(abs(t) < step / 2 ? "zero" : "tick")\" x1=\"\(Num.c(px))\" y1=\"\(Num.c(top - 8))\" x2=\"\(Num.c(px))\" y2=\"\(Num.c(height - 50))\"/>\n"
            let label = abs(t) < step / 2 ? "0" : (t > 0 ? "+" : "") + Num.short(t, 2)
            s += "<text class=\"tick-label\" text-anchor=\"middle\" x=\"\(Num.c(px))\" y=\"\(Num.c(height - 32))\">\(label)</text>\n"
            t += step
        }
        s += "<text class=\"tick-label\" text-anchor=\"middle\" x=\"\(Num.c((plotLeft + plotRight) / 2))\" y=\"\(Num.c(height - 10))\">"
            + "variant minus control, in percentage points</text>\n"
        s += "</g>\n"
        for (i, e) in experiments.enumerated() {
            let y = top + rowHeight * Double(i) + rowHeight / 2
            let cls = "ci " + e.recommendation.action + (e.test.significant ? " significant" : "")
            let lo = e.lift.absoluteInterval.low, hi = e.lift.absoluteInterval.high
            let name = e.experiment ?? "experiment \(i + 1)"
            s += "<text class=\"axis-label\" text-anchor=\"end\" x=\"\(Num.c(labelWidth))\" y=\"\(Num.c(y - 2))\">\(Escape.html(name))</text>\n"
            let sub = [e.product, e.direction == Direction.lower ? "lower is better" : nil].compactMap { $0 }.joined(separator: " · ")
            if !sub.isEmpty {
                s += "<text class=\"tick-label\" text-anchor=\"end\" x=\"\(Num.c(labelWidth))\" y=\"\(Num.c(y + 13))\">\(Escape.html(sub))</text>\n"
            }
            s += "<g class=\"\(cls)\"><title>\(Escape.html(name)): \(Num.points(e.lift.absolute)) percentage points"
                + (e.direction == Direction.lower ? " (lower is better)" : "") + ", "
                + "\(Num.short(e.confidence * 100, 2))% interval \(Num.points(lo)) to \(Num.points(hi))</title>\n"
            s += "<line class=\"interval\" x1=\"\(Num.c(x(lo)))\" y1=\"\(Num.c(y))\" x2=\"\(Num.c(x(hi)))\" y2=\"\(Num.c(y))\"/>\n"
            for edge in [lo, hi] {
                s += "<line class=\"interval\" x1=\"\(Num.c(x(edge)))\" y1=\"\(Num.c(y - 7))\" x2=\"\(Num.c(x(edge)))\" y2=\"\(Num.c(y + 7))\"/>\n"
            }
            s += "<circle class=\"estimate\" cx=\"\(Num.c(x(e.lift.absolute)))\" cy=\"\(Num.c(y))\" r=\"6\"/>\n"
            s += "</g>\n"
            s += "<text class=\"value-label\" x=\"\(Num.c(plotRight + 12))\" y=\"\(Num.c(y + 5))\">\(Num.points(e.lift.absolute)) "
                + "[\(Num.points(lo)), \(Num.points(hi))] · \(Escape.html(e.recommendation.action))</text>\n"
        }
        s += "</svg>"
        return s
    }

    /// 1, 2 or 5 times a power of ten, at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        var p = 1.0
        while p > raw { p /= 10 }
        while p * 10 <= raw { p *= 10 }
        for m in [1.0, 2.0, 5.0, 10.0] where p * m >= raw { return p * m }
        return p * 10
    }
}
