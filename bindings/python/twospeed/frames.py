"""Results as pandas DataFrames, one row per thing a reader counts: dimensions, criteria, pitfalls,
recommendations, runs of the history, and stages of the coverage map.

    import twospeed.frames as tf
    result = eng.run_assessment("retailer")
    tf.criteria(result).sort_values("score").head()

pandas is not a dependency of twospeed: it is imported when one of these functions is called, and a
missing pandas raises ImportError saying how to install it. Lists (subjects, evidence, dimensions) are
joined into one readable cell; the functions take the results as the engine gives them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Sequence, Union, cast

from ._types import AssessmentResult, CoverageMap, Finding, History, Recommendation

if TYPE_CHECKING:
    # Without pandas-stubs (or pandas) a type checker sees DataFrame as Any.
    import pandas  # type: ignore[import-untyped,import-not-found,unused-ignore]

__all__ = ["dimensions", "criteria", "pitfalls", "recommendations", "history", "coverage"]


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as e:
        raise ImportError("twospeed.frames needs pandas, which twospeed does not install: pip install pandas") from e
    return pandas


def _frame(rows: List[Dict[str, Any]], columns: Sequence[str], index: Union[str, List[str], None] = None) -> "pandas.DataFrame":
    pd = _pandas()
    df = pd.DataFrame(rows, columns=list(columns))
    return df.set_index(index) if index is not None else df


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
    """One row per kept run, indexed by run: when it ran, its as-of date, model, revision, the overall
    score and level, then one column per dimension with its score (NaN where it had no evidence)."""
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
    return _frame(rows, ["run", "at", "asOf", "model", "revision", "overall", "level"] + dims, "run")


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
