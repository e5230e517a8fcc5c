"""Types of the params and results of the methods, as rpc.discover describes them.

Results are plain dicts (what json.loads gives); TypedDicts name their keys for type checkers. The
result types are generated from the engine's own schemas (_results.py); keys that a result may leave out
are declared total=False. The params' types are here.
"""
from __future__ import annotations

import datetime
from typing import Any, Literal, Mapping, Sequence, Tuple, Union

from . import _results
from ._results import *  # noqa: F401,F403 (re-exported)
from ._results import (
    AssessmentResultAnalyses, EngineInfoStore, ExperimentEvaluationControl, ExperimentEvaluationLift,
    ExperimentEvaluationLiftAbsoluteInterval, ExperimentEvaluationRecommendation, ExperimentEvaluationSampleRatio,
    ExperimentEvaluationTest, Finding, OverallResult, Summary,
)

__all__ = [
    "JSON", "Params", "Kind", "Timestamp", "ObservationLike", "ArmLike",
    "StoreInfo", "PortfolioSummary", "Overall", "Pitfall", "Arm", "Interval", "Lift", "ZTest", "SampleRatio",
    "RolloutRecommendation", "Analyses",
]
__all__ += _results.__all__

#: Any JSON value, as json.loads returns it.
JSON = Any
#: Params of a call: named (a mapping) or by position (a sequence), or none.
Params = Union[Mapping[str, Any], Sequence[Any], None]
#: The kinds of entity a portfolio holds.
Kind = Literal["department", "journey", "product", "manager", "team", "system", "metric", "okr", "experiment"]
#: An RFC 3339 date-time or a date: a string, or a date or an aware datetime (sent in ISO 8601).
Timestamp = Union[str, datetime.date, datetime.datetime]


# The results, generated from rpc.discover (_results.py), under the names this module has always had.
StoreInfo = EngineInfoStore
PortfolioSummary = Summary
Overall = OverallResult
#: A pitfall found in a portfolio (assessment.run's pitfalls, analysis.pitfalls).
Pitfall = Finding
Arm = ExperimentEvaluationControl
Interval = ExperimentEvaluationLiftAbsoluteInterval
Lift = ExperimentEvaluationLift
ZTest = ExperimentEvaluationTest
SampleRatio = ExperimentEvaluationSampleRatio
#: An experiment's next rollout step (Recommendation is the assessment's: what to do next).
RolloutRecommendation = ExperimentEvaluationRecommendation
Analyses = AssessmentResultAnalyses


#: An arm's counts: a mapping {"users": n, "conversions": k} or a tuple (users, conversions).
ArmLike = Union[Mapping[str, int], Tuple[int, int]]

#: An observation to append: a mapping like Observation, or a tuple (at, value) or (at, value, source).
ObservationLike = Union[Mapping[str, Any], Tuple[Timestamp, float], Tuple[Timestamp, float, str]]
