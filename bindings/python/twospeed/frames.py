"""Results as pandas DataFrames, one row per thing a reader counts: dimensions, criteria, pitfalls,
recommendations, runs of the history, stages of the coverage map, systems of the speed tiers and the
four keys, couplings, objectives and key results, managers' accountability, ranked products and
evaluated experiments. Times and dates are pandas datetimes (UTC), not strings.

    import twospeed.frames as tf
    result = eng.run_assessment("retailer")
    tf.criteria(result).sort_values("score").head()

pandas is not a dependency of twospeed: it is imported when one of these functions is called, and a
missing pandas raises ImportError saying how to install it. Lists (subjects, evidence, dimensions) are
joined into one readable cell; the functions take the results as the engine gives them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Sequence, Union, cast

from ._types import (Accountability, AdviceHistory, AssessmentResult, CoverageMap, ExperimentEvaluation, Finding, History,
                     MetricsResult, OKRAlignment, OutcomeReport, Prioritization, Recommendation, SpeedAnalysis)

if TYPE_CHECKING:
    # Without pandas-stubs (or pandas) a type checker sees DataFrame as Any.
    import pandas  # type: ignore[import-untyped,import-not-found,unused-ignore]

__all__ = ["dimensions", "criteria", "pitfalls", "recommendations", "history", "coverage", "speed", "couplings",
           "four_keys", "objectives", "key_results", "accountability", "prioritization", "experiments",
           "advice", "advice_runs", "outcomes"]


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as e:
        raise ImportError("twospeed.frames needs pandas, which twospeed does not install: pip install pandas") from e
    return pandas


def _frame(rows: List[Dict[str, Any]], columns: Sequence[str], index: Union[str, List[str], None] = None,
           times: Sequence[str] = ()) -> "pandas.DataFrame":
    pd = _pandas()
    df = pd.DataFrame(rows, columns=list(columns))
    # The engine's times are RFC 3339 timestamps or dates ("2026-11-10"): both become UTC datetimes.
    for c in times:
        df[c] = pd.to_datetime(df[c], utc=True, format="ISO8601")
    return df.set_index(index) if index is not None else df


def _analysis(result: Any, key: str) -> Any:
    """An analysis of an assessment result, or the analysis method's own result as given."""
    return result["analyses"][key] if isinstance(result, Mapping) and "analyses" in result else result


def _names(subjects: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(str(s.get("name", s.get("id", ""))) for s in subjects)


def dimensions(result: AssessmentResult) -> "pandas.DataFrame":
    """One row per dimension, indexed by id: name, weight, score, level, levelName, evidence, and
    scoreLevel and caps (the reasons, joined) where a check holds the level down. A dimension without
    evidence has no score or level (NaN)."""
    rows = []
    for d in result["dimensions"]:
        rows.append({"id": d["id"], "name": d["name"], "weight": d["weight"], "score": d.get("score"),
                     "level": d.get("level"), "levelName": d.get("levelName"), "evidence": d["evidence"],
                     "scoreLevel": d.get("scoreLevel", d.get("level")),
                     "caps": "; ".join(c["reason"] for c in d.get("caps", []))})
    return _frame(rows, ["id", "name", "weight", "score", "level", "levelName", "evidence", "scoreLevel", "caps"], "id")


def criteria(result: AssessmentResult) -> "pandas.DataFrame":
    """One row per criterion of every dimension, indexed by (dimension, criterion): its text and weight,
    the fact behind it (id, value, the sentence), the fact's score, the answer's, the score and its basis."""
    rows = []
    for d in result["dimensions"]:
        for c in d["criteria"]:
            fact: Mapping[str, Any] = c.get("fact") or {}
            answer: Mapping[str, Any] = c.get("answer") or {}
            rows.append({"dimension": d["id"], "criterion": c["id"], "text": c["text"], "weight": c["weight"],
                         "fact": fact.get("id"), "value": fact.get("value"), "detail": fact.get("detail"),
                         "factScore": c.get("factScore"), "answer": answer.get("score"),
                         "score": c.get("score"), "basis": c.get("basis")})
    cols = ["dimension", "criterion", "text", "weight", "fact", "value", "detail", "factScore", "answer", "score", "basis"]
    return _frame(rows, cols, ["dimension", "criterion"])


def pitfalls(result: Union[AssessmentResult, Sequence[Finding]]) -> "pandas.DataFrame":
    """One row per finding (of an assessment, or analysis.pitfalls' list), in the engine's order: pitfall,
    name, severity, the subjects' names and count, the evidence and the recommendation."""
    found: Sequence[Finding] = result["pitfalls"] if isinstance(result, Mapping) else result
    rows = [{"pitfall": p["pitfall"], "name": p["name"], "severity": p["severity"],
             "subjects": _names(p["subjects"]), "subjectCount": p["subjectCount"],
             "evidence": " ".join(p["evidence"]), "recommendation": p["recommendation"],
             "plugin": p.get("plugin")} for p in found]
    return _frame(rows, ["pitfall", "name", "severity", "subjects", "subjectCount", "evidence", "recommendation", "plugin"])


def recommendations(result: Union[AssessmentResult, Sequence[Recommendation]]) -> "pandas.DataFrame":
    """One row per recommendation, indexed by rank: title, action, severity (of the pitfall it fixes, if
    any), the dimensions it lifts, expected gain, effort, priority and why."""
    recs: Sequence[Recommendation] = result["recommendations"] if isinstance(result, Mapping) else result
    rows = [{"rank": r["rank"], "title": r["title"], "action": r["action"], "pitfall": r.get("pitfall"),
             "severity": r.get("severity"), "dimensions": ", ".join(r["dimensions"]),
             "subjects": _names(r["subjects"]), "expectedGain": r["expectedGain"], "effort": r["effort"],
             "priority": r["priority"], "why": r["why"]} for r in recs]
    cols = ["rank", "title", "action", "pitfall", "severity", "dimensions", "subjects", "expectedGain", "effort",
            "priority", "why"]
    return _frame(rows, cols, "rank")


def history(result: History) -> "pandas.DataFrame":
    """One row per kept run, indexed by run: when it ran and its as-of date (datetimes), model, revision,
    the overall score and level, then one column per dimension with its score (NaN where it had no evidence)."""
    runs = result["runs"]
    dims: List[str] = []
    for r in runs:
        dims += [d for d in r["dimensions"] if d not in dims]
    rows = []
    for r in runs:
        row: Dict[str, Any] = {"run": r["run"], "at": r["at"], "asOf": r["asOf"], "model": r["model"],
                               "revision": r["revision"], "overall": r["overall"].get("score"),
                               "level": r["overall"].get("level")}
        row.update({d: r["dimensions"].get(d) for d in dims})
        rows.append(row)
    return _frame(rows, ["run", "at", "asOf", "model", "revision", "overall", "level"] + dims, "run", times=["at", "asOf"])


def coverage(result: Union[AssessmentResult, CoverageMap]) -> "pandas.DataFrame":
    """The coverage map (analysis.coverage, or an assessment's), one row per stage of every journey,
    indexed by (journey, stage): the names, status (owned, uncovered, ...), owners, products and metrics."""
    cmap: CoverageMap
    if "analyses" in result:
        cmap = cast(AssessmentResult, result)["analyses"]["coverage"]
    else:
        cmap = result
    rows = []
    for j in cmap["journeys"]:
        for s in j["stages"]:
            rows.append({"journey": j["journey"], "stage": s["stage"], "journeyName": j["name"], "stageName": s["name"],
                         "status": s["status"], "owners": _names(s["owners"]), "products": _names(s["products"]),
                         "productCount": s["productCount"], "metrics": _names(s["metrics"]),
                         "metricCount": s["metricCount"]})
    cols = ["journey", "stage", "journeyName", "stageName", "status", "owners", "products", "productCount", "metrics",
            "metricCount"]
    return _frame(rows, cols, ["journey", "stage"])


_KEYS = ["deploysPerMonth", "leadTimeHours", "changeFailureRate", "recoveryHours"]


def speed(result: Union[AssessmentResult, SpeedAnalysis]) -> "pandas.DataFrame":
    """The speed tiers (analysis.speed, or an assessment's), one row per system, indexed by id: name,
    layer, tier and stability, the four keys' figures and each key's DORA bucket (bucket_<key>)."""
    a = cast(SpeedAnalysis, _analysis(result, "speed"))
    rows = []
    for s in a["systems"]:
        d: Mapping[str, Any] = s.get("delivery") or {}
        by: Mapping[str, Any] = s.get("byKey") or {}
        row: Dict[str, Any] = {"id": s["system"]["id"], "name": s["system"]["name"], "layer": s.get("layer"),
                               "tier": s.get("tier"), "stability": s.get("stability")}
        row.update({k: d.get(k) for k in _KEYS})
        row.update({"bucket_" + k: by.get(k) for k in _KEYS})
        rows.append(row)
    return _frame(rows, ["id", "name", "layer", "tier", "stability"] + _KEYS + ["bucket_" + k for k in _KEYS], "id")


def couplings(result: Union[AssessmentResult, SpeedAnalysis]) -> "pandas.DataFrame":
    """The couplings of the speed analysis, one row each: from and to (ids), the kind of interface,
    both tiers, whether the slower side holds the faster back, and why."""
    a = cast(SpeedAnalysis, _analysis(result, "speed"))
    rows = [{"from": c["from"]["id"], "to": c["to"]["id"], "kind": c.get("kind"), "fromTier": c.get("fromTier"),
             "toTier": c.get("toTier"), "blocking": c.get("blocking"), "reason": c.get("reason")}
            for c in a.get("couplings", [])]
    return _frame(rows, ["from", "to", "kind", "fromTier", "toTier", "blocking", "reason"])


def four_keys(result: MetricsResult) -> "pandas.DataFrame":
    """delivery.metrics, one row per system of every window (and "*" for all systems together), indexed
    by (to, system), newest window first: the window's start, the counts, DORA's four keys, each key's
    bucket (bucket_<key>), the tier and the stability; any other member the engine adds to a system's
    figures (an explanation of its label) comes as a column of its own."""
    rows: List[Dict[str, Any]] = []
    extra: List[str] = []
    fixed = ["system", "deployments", "successfulDeployments", "failedDeployments", "changes", "incidents",
             "openIncidents"] + _KEYS + ["tier", "stability"]
    for w in result["windows"]:
        figures: List[Mapping[str, Any]] = [cast(Mapping[str, Any], x) for x in w.get("systems", [])]
        if w.get("all"):
            figures.append(cast(Mapping[str, Any], w["all"]))
        for s in figures:
            row: Dict[str, Any] = {"from": w["from"], "to": w["to"]}
            for k, v in s.items():
                if k == "buckets":
                    row.update({"bucket_" + b: x for b, x in v.items()})
                elif k in fixed:
                    row[k] = v
                else:
                    row[k] = v if not isinstance(v, (list, dict)) else str(v)
                    if k not in extra:
                        extra.append(k)
            rows.append(row)
    cols = ["from", "to"] + fixed + ["bucket_" + k for k in _KEYS] + extra
    return _frame(rows, cols, ["to", "system"], times=["from", "to"])


def objectives(result: Union[AssessmentResult, OKRAlignment]) -> "pandas.DataFrame":
    """The OKR analysis (analysis.okrs, or an assessment's), one row per objective, indexed by id: its
    text, departments (joined), whether it is shared, how many products serve it and its key results,
    and how many of those measure no metric (orphans)."""
    a = cast(OKRAlignment, _analysis(result, "okrs"))
    rows = [{"id": o["okr"]["id"], "objective": o["okr"]["name"], "departments": ", ".join(o.get("departments", [])),
             "shared": o.get("shared"), "productCount": o.get("productCount"), "keyResults": len(o.get("keyResults", [])),
             "orphanKeyResults": sum(1 for k in o.get("keyResults", []) if k.get("orphan"))}
            for o in a["objectives"]]
    return _frame(rows, ["id", "objective", "departments", "shared", "productCount", "keyResults", "orphanKeyResults"], "id")


def key_results(result: Union[AssessmentResult, OKRAlignment]) -> "pandas.DataFrame":
    """Every key result of every objective, one row each: the objective's id, the description, the
    metric it reads, its latest value and target, and whether it is an orphan (no metric to read)."""
    a = cast(OKRAlignment, _analysis(result, "okrs"))
    rows = [{"objective": o["okr"]["id"], "description": k.get("description"), "metric": k.get("metric"),
             "latest": k.get("latest"), "target": k.get("target"), "orphan": k.get("orphan")}
            for o in a["objectives"] for k in o.get("keyResults", [])]
    return _frame(rows, ["objective", "description", "metric", "latest", "target", "orphan"])


def accountability(result: Union[AssessmentResult, Accountability]) -> "pandas.DataFrame":
    """analysis.accountability (or an assessment's), one row per manager, indexed by id: the name, how
    many measures they are held to, how many of those they can influence and the share, the products
    they own, and the measures they cannot influence (joined)."""
    a = cast(Accountability, _analysis(result, "accountability"))
    rows = [{"id": m["manager"]["id"], "name": m["manager"]["name"], "measuredOn": m.get("measuredOn"),
             "influenceable": m.get("influenceable"), "share": m.get("share"), "products": m.get("products"),
             "notInfluenceable": ", ".join(str(x) for x in m.get("notInfluenceable", []))}
            for m in a["managers"]]
    return _frame(rows, ["id", "name", "measuredOn", "influenceable", "share", "products", "notInfluenceable"], "id")


def prioritization(result: Union[AssessmentResult, Prioritization]) -> "pandas.DataFrame":
    """analysis.prioritize (or an assessment's), one row per ranked product, indexed by rank: the
    product's id and name, the method, its score and how it was reached; products that could not be
    scored follow with no rank (NaN)."""
    a = cast(Prioritization, _analysis(result, "prioritization"))
    rows: List[Dict[str, Any]] = [{"rank": r["rank"], "id": r["product"]["id"], "name": r["product"]["name"],
                                   "method": a["method"], "score": r.get("score"), "explanation": r.get("explanation")}
                                  for r in a["ranked"]]
    for u in a.get("unscored") or []:
        rows.append({"rank": None, "id": u["id"], "name": u.get("name"), "method": a["method"], "score": None,
                     "explanation": "not scored: the product lacks what the method needs"})
    return _frame(rows, ["rank", "id", "name", "method", "score", "explanation"])


def experiments(result: Union[AssessmentResult, ExperimentEvaluation, Sequence[ExperimentEvaluation]]) -> "pandas.DataFrame":
    """Evaluated experiments (an assessment's, experiment.evaluate's one, or a list of them), one row
    each: the experiment, product and metric, both arms' users, conversions and rates, the absolute and
    relative lift with their intervals, the test's p value and verdict, the sample-ratio check, and the
    next rollout step with its reason."""
    found: Sequence[Mapping[str, Any]]
    if isinstance(result, Mapping) and "analyses" in result:
        found = cast(AssessmentResult, result)["analyses"]["experiments"]
    elif isinstance(result, Mapping):
        found = [result]
    else:
        found = result
    rows = []
    for e in found:
        lift: Mapping[str, Any] = e.get("lift") or {}
        test: Mapping[str, Any] = e.get("test") or {}
        srm: Mapping[str, Any] = e.get("sampleRatio") or {}
        rec: Mapping[str, Any] = e.get("recommendation") or {}
        row: Dict[str, Any] = {"experiment": e.get("experiment"), "product": e.get("product"), "metric": e.get("metric"),
                               "direction": e.get("direction")}
        for arm in ("control", "variant"):
            a = cast(Mapping[str, Any], e.get(arm) or {})
            row.update({arm + "Users": a.get("users"), arm + "Conversions": a.get("conversions"), arm + "Rate": a.get("rate")})
        ai: Mapping[str, Any] = lift.get("absoluteInterval") or {}
        ri: Mapping[str, Any] = lift.get("relativeInterval") or {}
        row.update({"liftAbsolute": lift.get("absolute"), "liftAbsoluteLow": ai.get("low"), "liftAbsoluteHigh": ai.get("high"),
                    "liftRelative": lift.get("relative"), "liftRelativeLow": ri.get("low"), "liftRelativeHigh": ri.get("high"),
                    "p": test.get("p"), "significant": test.get("significant"), "expectedShare": srm.get("expectedShare"),
                    "observedShare": srm.get("observedShare"), "sampleRatioMismatch": srm.get("mismatch"),
                    "action": rec.get("action"), "nextShare": rec.get("nextShare"), "reason": rec.get("reason")})
        rows.append(row)
    cols = ["experiment", "product", "metric", "direction", "controlUsers", "controlConversions", "controlRate",
            "variantUsers", "variantConversions", "variantRate", "liftAbsolute", "liftAbsoluteLow", "liftAbsoluteHigh",
            "liftRelative", "liftRelativeLow", "liftRelativeHigh", "p", "significant", "expectedShare", "observedShare",
            "sampleRatioMismatch", "action", "nextShare", "reason"]
    return _frame(rows, cols)


def advice(result: AdviceHistory) -> "pandas.DataFrame":
    """One row per piece of advice (recommendation.history), indexed by key: its rule, title, subjects, status
    now, first and last run given, the run that resolved it, and a dismissal's reason and author."""
    rows = [{"key": a["key"], "rule": a["rule"], "title": a["title"], "subjects": _names(a["subjects"]),
             "status": a["status"], "firstRun": a["firstRun"], "lastRun": a["lastRun"], "resolvedAt": a.get("resolvedAt"),
             "dismissedBy": a.get("dismissal", {}).get("by"), "dismissalReason": a.get("dismissal", {}).get("reason")}
            for a in result["advice"]]
    return _frame(rows, ["key", "rule", "title", "subjects", "status", "firstRun", "lastRun", "resolvedAt",
                         "dismissedBy", "dismissalReason"], "key")


def advice_runs(result: AdviceHistory) -> "pandas.DataFrame":
    """One row per piece of advice and kept run from the first that gave it, indexed by (key, run): its
    status in that run and the run's as-of date; pivot it for a key x run grid."""
    as_of = {r["run"]: r["asOf"] for r in result["runs"]}
    rows = [{"key": a["key"], "run": s["run"], "asOf": as_of.get(s["run"]), "status": s["status"]}
            for a in result["advice"] for s in a["runs"]]
    return _frame(rows, ["key", "run", "asOf", "status"], ["key", "run"], times=["asOf"])


def outcomes(result: OutcomeReport) -> "pandas.DataFrame":
    """One row per resolved piece of advice and measure (recommendation.outcomes): the series, the status
    ("estimated" or "insufficient data"), the method (segmented regression or difference-in-differences), points on each side, the shift with its 95% interval and p (NaN
    when not estimated), whether it improved, and a model change inside the window. Associations, not causes."""
    rows = []
    for o in result["outcomes"]:
        e = cast(Dict[str, Any], o.get("estimate", {}))
        rows.append({"key": o["key"], "rule": o["rule"], "resolvedAt": o["resolvedAt"], "source": o["source"],
                     "series": o["series"], "measure": o["measure"], "direction": o["direction"], "status": o["status"], "method": o.get("method"),
                     "before": o["before"], "after": o["after"], "shift": e.get("shift"), "low": e.get("low"),
                     "high": e.get("high"), "p": e.get("p"), "improved": o.get("improved"),
                     "modelChange": o.get("modelChange")})
    return _frame(rows, ["key", "rule", "resolvedAt", "source", "series", "measure", "direction", "status", "method", "before", "after",
                         "shift", "low", "high", "p", "improved", "modelChange"])
