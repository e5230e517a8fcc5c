"""The copies of the contract outside Swift, held to what the engine serves.

The error codes are written in Swift (TwoSpeedRPC's ErrorCode), which rpc.discover lists in
components.errors with code, message, meaning (data) and x-name; include/twospeed.h has them as
TWOSPEED_RPC_* macros, this package as ErrorCode members and RPCError subclasses, and README.md in
its table of errors. The result TypedDicts of twospeed._types name the members of the schemas
rpc.discover gives. A code or a member added on one side only fails here.
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict, Iterator, Mapping, Set

import pytest

import twospeed
import twospeed._types as types
from conftest import ROOT, PACKAGE_ROOT

HEADER = os.path.join(ROOT, "include", "twospeed.h")


@pytest.fixture(scope="module")
def document() -> Iterator[Dict[str, Any]]:
    with twospeed.Engine() as engine:
        yield engine.discover()


def header_defines(pattern: str) -> Dict[str, int]:
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()
    return {m.group(1): int(m.group(2)) for m in re.finditer(pattern, text, re.M)}


def listed_errors(document: Mapping[str, Any]) -> Dict[str, int]:
    errors = document["components"]["errors"]
    for key, e in errors.items():
        assert key == str(e["code"]) and e["message"] and e["data"], e
    return {e["x-name"]: e["code"] for e in errors.values()}


def test_the_headers_error_codes_are_rpc_discovers(document):
    listed = listed_errors(document)
    assert len(listed) >= 14
    header = header_defines(r"^#define TWOSPEED_RPC_([A-Z_]+)\s+\((-\d+)\)")
    assert header == listed


def test_the_packages_error_codes_and_classes_are_rpc_discovers(document):
    listed = listed_errors(document)
    assert {m.name: int(m) for m in twospeed.ErrorCode} == listed
    # One exception class per code, exported, and nothing registered for a code the engine lacks.
    by_code = {int(cls.error_code): cls for cls in vars(twospeed).values()
               if isinstance(cls, type) and issubclass(cls, twospeed.RPCError) and cls.__dict__.get("error_code") is not None}
    assert set(by_code) == set(listed.values())
    for code, cls in by_code.items():
        assert cls.__name__ in twospeed.__all__
        assert type(twospeed.RPCError.from_error({"code": code, "message": "m"})) is cls
        assert (cls.__doc__ or "").startswith("%d:" % code), cls
    # The package's README names each class with its code.
    with open(os.path.join(PACKAGE_ROOT, "README.md"), encoding="utf-8") as f:
        readme = " ".join(f.read().split())
    documented = {int(c): n for n, c in re.findall(r"`(\w+)` \((-\d+)[;,)]", readme)}
    assert documented == {code: cls.__name__ for code, cls in by_code.items()}


def test_the_readmes_error_table_is_rpc_discovers(document):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        section = f.read().split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    assert {int(c) for c in re.findall(r"^\| (-\d+) \|", section, re.M)} == set(listed_errors(document).values())


def test_every_methods_errors_are_listed(document):
    codes = set(document["components"]["errors"])
    for m in document["methods"]:
        for ref in m["errors"]:
            assert ref["$ref"].rsplit("/", 1)[1] in codes, (m["name"], ref)


def test_the_open_codes_are_the_librarys():
    # twospeed_open's codes are not on the wire, so not in rpc.discover: the library's own
    # descriptions stand for the Swift copy (one per code, and none past the last).
    header = header_defines(r"^#define TWOSPEED_(OK|E[A-Z]+|NOREPLY)\s+(\d+)")
    assert {m.name: int(m) for m in twospeed.OpenCode} == header
    assert sorted(header.values()) == list(range(len(header)))
    library = twospeed.load_library()
    unknown = library.errstr(len(header))
    assert unknown == library.errstr(-1)
    for name, code in header.items():
        assert library.errstr(code) != unknown, name


def test_the_package_calls_only_methods_rpc_discover_lists(document):
    served = {m["name"] for m in document["methods"]}
    called: Set[str] = set()
    folder = os.path.join(PACKAGE_ROOT, "twospeed")
    for name in os.listdir(folder):
        if name.endswith(".py"):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                called |= set(re.findall(r"""(?:call\(|"method": )"([a-z]+(?:\.[a-z]+)+)\"""", f.read()))
    assert len(called) >= 15
    assert called <= served, called - served


# -- the result types ---------------------------------------------------------------------------------

def result_schema(document: Mapping[str, Any], method: str) -> Dict[str, Any]:
    return next(m for m in document["methods"] if m["name"] == method)["result"]["schema"]


def param_schema(document: Mapping[str, Any], method: str, param: str) -> Dict[str, Any]:
    m = next(m for m in document["methods"] if m["name"] == method)
    return next(p for p in m["params"] if p["name"] == param)["schema"]


def at(schema: Dict[str, Any], *path: str) -> Dict[str, Any]:
    """The schema of a member (a name) or of an array's items ("[]")."""
    for step in path:
        schema = schema["items"] if step == "[]" else schema["properties"][step]
    return schema


def schemas(document: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Each result TypedDict of twospeed._types with the schema in rpc.discover that it stands for."""
    info = result_schema(document, "engine.info")
    run = result_schema(document, "assessment.run")
    evaluation = result_schema(document, "experiment.evaluate")
    return {
        "EngineInfo": info,
        "StoreInfo": at(info, "store"),
        "Counts": at(info, "counts"),
        "PutResult": result_schema(document, "portfolio.put"),
        "GetResult": result_schema(document, "portfolio.get"),
        "PortfolioSummary": at(result_schema(document, "portfolio.list"), "portfolios", "[]"),
        "DeleteResult": result_schema(document, "portfolio.delete"),
        "EntityChange": result_schema(document, "entity.upsert"),
        "Observation": at(param_schema(document, "metric.observe", "observations"), "[]"),
        "ObserveResult": result_schema(document, "metric.observe"),
        "AssessmentResult": run,
        "Overall": at(run, "overall"),
        "AppliedCap": at(run, "overall", "caps", "[]"),
        "DimensionResult": at(run, "dimensions", "[]"),
        "ExperimentEvaluation": evaluation,
        "Arm": at(evaluation, "control"),
        "Interval": at(evaluation, "lift", "absoluteInterval"),
        "Lift": at(evaluation, "lift"),
        "ZTest": at(evaluation, "test"),
        "SampleRatio": at(evaluation, "sampleRatio"),
        "RolloutRecommendation": at(evaluation, "recommendation"),
        "Recommendation": at(run, "recommendations", "[]"),
        "Pitfall": at(run, "pitfalls", "[]"),
        "Analyses": at(run, "analyses"),
        "ImportResult": result_schema(document, "import.backstage"),
        "ImportProblem": at(result_schema(document, "import.csv"), "problems", "[]"),
    }


#: The result types users name (most generated from rpc.discover into _results.py, some by a shorter
#: alias); each must stand for the schema above, whatever the generator calls it.
NAMED = ["EngineInfo", "StoreInfo", "Counts", "PutResult", "GetResult", "PortfolioSummary", "DeleteResult",
         "EntityChange", "Observation", "ObserveResult", "AssessmentResult", "Overall", "AppliedCap", "DimensionResult",
         "ExperimentEvaluation", "Arm", "Interval", "Lift", "ZTest", "SampleRatio", "RolloutRecommendation",
         "Recommendation", "Pitfall", "Analyses", "ImportResult", "ImportProblem"]


def test_every_named_result_type_is_exported_with_its_schema(document):
    assert set(schemas(document)) == set(NAMED)
    missing = [n for n in NAMED if not hasattr(getattr(types, n, None), "__required_keys__")]
    assert not missing, missing


@pytest.mark.parametrize("name", NAMED)
def test_a_result_typeddict_names_the_members_of_its_schema(document, name):
    t = getattr(types, name)
    schema = schemas(document)[name]
    assert schema.get("type") == "object", schema
    members = set(schema["properties"])
    declared = set(t.__required_keys__) | set(t.__optional_keys__)
    assert declared == members, "only in the TypedDict: %s; only in the schema: %s" % (
        sorted(declared - members), sorted(members - declared))
    # A key the type promises is one the engine promises (the types may be looser, not stricter).
    assert set(t.__required_keys__) <= set(schema.get("required", ())), sorted(
        set(t.__required_keys__) - set(schema.get("required", ())))


def test_entity_remove_answers_an_entity_change(document):
    assert result_schema(document, "entity.remove") == result_schema(document, "entity.upsert")
