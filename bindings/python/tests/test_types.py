"""The TypedDicts of twospeed._types describe what the engine answers: every member of a real result is
declared, so a field the engine adds cannot go unnoticed by the types (and so by mypy users)."""
from __future__ import annotations

import copy
from typing import Any, Mapping, Set

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
        assert undeclared(cap, types.LevelCap) == set()
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
