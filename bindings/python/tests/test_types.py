"""The TypedDicts of twospeed._types describe what the engine answers: every member of a real result is
declared, so a field the engine adds cannot go unnoticed by the types (and so by mypy users)."""
from __future__ import annotations

import copy
from typing import Any, Mapping, Set

import pytest

import twospeed._types as types
from conftest import retailer


def declared(t: Any) -> Set[str]:
    keys: Set[str] = set()
    for base in reversed(t.__mro__):
        keys |= set(getattr(base, "__annotations__", {}))
    return keys


def undeclared(value: Mapping[str, Any], t: Any) -> Set[str]:
    return set(value) - declared(t)


def test_assessment_results_declare_every_member(loaded):
    doc = retailer()
    held = loaded.run_assessment("retailer")            # capped: a standing high-severity pitfall
    assert undeclared(held, types.AssessmentResult) == set()
    assert undeclared(held["overall"], types.Overall) == set()
    assert held["overall"]["caps"], "the retailer's level is held down"
    for cap in held["overall"]["caps"]:
        assert undeclared(cap, types.AppliedCap) == set()
    for d in held["dimensions"]:
        assert undeclared(d, types.DimensionResult) == set(), d["id"]
    for e in held["analyses"]["experiments"]:
        assert undeclared(e, types.ExperimentEvaluation) == set()
    thin = copy.deepcopy(doc)
    thin["id"] = "thin"
    for k in ("products", "managers", "teams", "systems", "metrics", "okrs", "experiments", "answers"):
        thin[k] = []
    loaded.put_portfolio(thin)
    empty = loaded.run_assessment("thin")               # too little evidence: no overall level
    assert undeclared(empty, types.AssessmentResult) == set()
    assert undeclared(empty["overall"], types.Overall) == set()
    assert "level" not in empty["overall"] and empty["overall"]["sufficientEvidence"] is False


# -- every result, checked member by member against the generated TypedDicts ----------------------------

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import typing  # noqa: E402

import twospeed  # noqa: E402
import twospeed._results as results  # noqa: E402
from conftest import PACKAGE_ROOT, ROOT  # noqa: E402


def is_typeddict(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, dict) and hasattr(t, "__required_keys__")


def conforms(value: Any, t: Any, path: str = "") -> typing.List[str]:
    """Where value does not match type t: keys undeclared or missing, and values of another type."""
    origin, args = typing.get_origin(t), typing.get_args(t)
    if t is Any:
        return []
    if is_typeddict(t):
        if not isinstance(value, dict):
            return ["%s: %r is not an object (%s)" % (path, value, t.__name__)]
        hints = typing.get_type_hints(t)
        problems = ["%s/%s: not declared in %s" % (path, k, t.__name__) for k in set(value) - set(hints)]
        problems += ["%s/%s: required by %s, absent" % (path, k, t.__name__) for k in t.__required_keys__ - set(value)]
        for k, v in value.items():
            if k in hints:
                problems += conforms(v, hints[k], "%s/%s" % (path, k))
        return problems
    if origin is typing.Union:
        for a in args:
            if not conforms(value, a, path):
                return []
        return ["%s: %r matches none of %s" % (path, value, t)]
    if origin is list:
        if not isinstance(value, list):
            return ["%s: %r is not a list" % (path, value)]
        return [p for i, v in enumerate(value) for p in conforms(v, args[0], "%s/%d" % (path, i))]
    if origin is dict:
        if not isinstance(value, dict):
            return ["%s: %r is not an object" % (path, value)]
        return [p for k, v in value.items() for p in conforms(v, args[1], "%s/%s" % (path, k))]
    if origin is typing.Literal:
        return [] if value in args else ["%s: %r is not one of %s" % (path, value, args)]
    expected = {float: (int, float), int: (int,), str: (str,), bool: (bool,)}[t]
    if isinstance(value, bool) and t is not bool:
        return ["%s: %r is a bool, not %s" % (path, value, t.__name__)]
    return [] if isinstance(value, expected) else ["%s: %r is not %s" % (path, value, t.__name__)]


def test_every_result_conforms_to_its_generated_type(loaded):
    first = loaded.run_assessment("retailer")
    second = loaded.run_assessment("retailer", as_of="2026-12-31")
    cases = {
        "assessment.run": (first, results.AssessmentResult),
        "assessment.get": (loaded.get_assessment("retailer", 1), results.AssessmentResult),
        "assessment.history": (loaded.assessment_history("retailer", compare=[1, 2]), results.History),
        "analysis.coverage": (loaded.coverage("retailer"), results.CoverageMap),
        "analysis.prioritize": (loaded.prioritize("retailer", method="rice"), results.Prioritization),
        "analysis.speed": (loaded.speed("retailer"), results.SpeedAnalysis),
        "analysis.okrs": (loaded.okr_alignment("retailer"), results.OKRAlignment),
        "analysis.accountability": (loaded.accountability("retailer"), results.Accountability),
        "analysis.pitfalls": ({"pitfalls": loaded.pitfalls("retailer")}, results.PitfallList),
        "experiment.evaluate": (loaded.evaluate_experiment(control=(10000, 300), variant=(10000, 360),
                                                           rollout=[0.05, 0.25, 1], stage=0, confidence=0.95),
                                results.ExperimentEvaluation),
        "engine.info": (loaded.info(), results.EngineInfo),
        "portfolio.list": (loaded.call("portfolio.list"), results.ListResult),
        "assessment.model.get": (loaded.call("assessment.model.get", {"id": "twospeed-default"}), results.ModelResult),
    }
    assert second["pitfalls"] and second["recommendations"] and second["analyses"]["experiments"]
    assert cases["assessment.history"][0].get("change"), "compare gives the change between runs"
    for method, (value, t) in cases.items():
        assert results.RESULTS[method] is t or method == "analysis.pitfalls"
        assert conforms(value, t) == [], method


def test_the_checker_notices_what_the_types_do_not_say(engine):
    engine.put_portfolio(retailer())
    result = engine.run_assessment("retailer")
    result["pitfalls"][0]["novel"] = 1
    result["dimensions"][0]["score"] = "high"
    del result["dimensions"][1]["criteria"]
    problems = conforms(result, results.AssessmentResult)
    assert "/pitfalls/0/novel: not declared in Finding" in problems
    assert "/dimensions/0/score: 'high' is not float" in problems
    assert "/dimensions/1/criteria: required by DimensionResult, absent" in problems


def test_generated_types_are_those_of_the_librarys_schemas():
    # _results.py is generated from rpc.discover; a schema that changed without regenerating fails here.
    r = subprocess.run([sys.executable, os.path.join(PACKAGE_ROOT, "tools", "gen_results.py"),
                        "--library", twospeed.load_library().path], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=PACKAGE_ROOT))
    assert r.returncode == 0, r.stderr
    with open(os.path.join(PACKAGE_ROOT, "twospeed", "_results.py"), encoding="utf-8") as f:
        committed = f.read()
    assert r.stdout == committed, "twospeed/_results.py is stale: run `python3 tools/gen_results.py --write` in bindings/python"


def test_mypy_strict_is_clean_on_the_examples_and_the_package():
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.skip("mypy is not installed (make test-python installs it with pip when it can)")
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", os.devnull,
                        os.path.join(ROOT, "examples", "python"), os.path.join(PACKAGE_ROOT, "twospeed")],
                       capture_output=True, text=True, timeout=300, cwd=ROOT,
                       env=dict(os.environ, MYPYPATH=PACKAGE_ROOT))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Success: no issues found" in r.stdout
