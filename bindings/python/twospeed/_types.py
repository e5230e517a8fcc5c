"""Types of the params and results of the main methods, as rpc.discover describes them.

Results are plain dicts (what json.loads gives); these TypedDicts name their keys for type checkers.
Keys that a result may leave out are declared in a total=False base.
"""
from __future__ import annotations

import datetime
from typing import Any, Dict, List, Literal, Mapping, Sequence, Tuple, TypedDict, Union

__all__ = [
    "JSON", "Params", "Kind", "Timestamp", "ObservationLike", "ArmLike",
    "Counts", "StoreInfo", "EngineInfo", "PutResult", "GetResult", "PortfolioSummary", "DeleteResult",
    "EntityChange", "Observation", "ObserveResult", "Overall", "LevelCap", "DimensionResult", "AssessmentResult",
    "Arm", "Interval", "Lift", "ZTest", "SampleRatio", "Recommendation", "ExperimentEvaluation",
    "ImportProblem", "ImportResult",
]

#: Any JSON value, as json.loads returns it.
JSON = Any
#: Params of a call: named (a mapping) or by position (a sequence), or none.
Params = Union[Mapping[str, Any], Sequence[Any], None]
#: The kinds of entity a portfolio holds.
Kind = Literal["department", "journey", "product", "manager", "team", "system", "metric", "okr", "experiment"]
#: An RFC 3339 date-time or a date: a string, or a date or an aware datetime (sent in ISO 8601).
Timestamp = Union[str, datetime.date, datetime.datetime]


class Counts(TypedDict):
    departments: int
    journeys: int
    products: int
    managers: int
    teams: int
    systems: int
    metrics: int
    okrs: int
    experiments: int
    observations: int


class StoreInfo(TypedDict):
    path: str
    inMemory: bool
    schemaVersion: int


class EngineInfo(TypedDict):
    version: str
    abiVersion: int
    store: StoreInfo
    portfolios: int
    counts: Counts


class PutResult(TypedDict):
    id: str
    revision: int
    created: bool
    updated: str
    counts: Counts


class ImportProblem(TypedDict, total=False):
    """One problem of an import: where (file and line, or row and column) and why."""
    file: str
    line: int
    column: int
    row: int
    field: str
    entity: str
    pointer: str
    reason: str
    skipped: bool
    unmapped: bool


class ImportResult(TypedDict, total=False):
    """What import.backstage and import.csv did, entities counted by collection."""
    portfolio: str
    revision: int
    portfolioCreated: bool
    records: int
    created: Dict[str, int]
    updated: Dict[str, int]
    unchanged: Dict[str, int]
    removed: Dict[str, int]
    skipped: int
    unmapped: int
    problems: List[ImportProblem]
    problemsTruncated: bool


class GetResult(TypedDict):
    portfolio: Dict[str, Any]
    revision: int
    updated: str


class _SummaryBase(TypedDict):
    id: str
    name: str
    revision: int
    updated: str
    counts: Counts


class PortfolioSummary(_SummaryBase, total=False):
    industry: str


class DeleteResult(TypedDict):
    id: str
    deleted: bool


class _EntityChangeBase(TypedDict):
    kind: str
    id: str
    revision: int


class EntityChange(_EntityChangeBase, total=False):
    #: Present for upserts: whether the entity is new.
    created: bool


class _ObservationBase(TypedDict):
    at: str
    value: float


class Observation(_ObservationBase, total=False):
    source: str


#: An observation to append: a mapping like Observation, or a tuple (at, value) or (at, value, source).
ObservationLike = Union[Mapping[str, Any], Tuple[Timestamp, float], Tuple[Timestamp, float, str]]


class ObserveResult(TypedDict):
    metric: str
    appended: int
    total: int
    revision: int


class _LevelCapBase(TypedDict):
    maxLevel: int
    levelName: str
    reason: str


class LevelCap(_LevelCapBase, total=False):
    """A check that holds a level down while it stands: a finding (by pitfall) or a weak criterion."""
    pitfall: str
    criterion: str


class Overall(TypedDict, total=False):
    score: float
    #: Absent when too little of the model has evidence (sufficientEvidence is then false).
    level: int
    levelName: str
    #: The share of the model's weight with evidence, and whether it is enough for an overall level.
    evidence: float
    sufficientEvidence: bool
    #: The level the score alone reaches, and the caps that hold the level below it (when one does).
    scoreLevel: int
    caps: List[LevelCap]


class DimensionResult(TypedDict, total=False):
    id: str
    name: str
    weight: float
    score: float
    level: int
    levelName: str
    evidence: float
    criteria: List[Dict[str, Any]]
    scoreLevel: int
    caps: List[LevelCap]


class _AssessmentBase(TypedDict):
    portfolio: str
    organization: str
    model: Dict[str, Any]
    at: str
    asOf: str
    overall: Overall
    dimensions: List[DimensionResult]
    pitfalls: List[Dict[str, Any]]
    recommendations: List[Dict[str, Any]]
    analyses: Dict[str, Any]
    warnings: List[Any]


class AssessmentResult(_AssessmentBase, total=False):
    #: The kept run's number (absent when keep was false).
    run: int
    revision: int
    #: The executive summary: three to five sentences (level, weakest dimension, most severe finding,
    #: first step).
    summary: List[str]
    #: What to supply for each dimension with too little evidence.
    evidenceNeeded: List[Dict[str, Any]]


class _ArmCounts(TypedDict):
    users: int
    conversions: int


#: An arm's counts: a mapping {"users": n, "conversions": k} or a tuple (users, conversions).
ArmLike = Union[Mapping[str, int], Tuple[int, int]]


class Arm(_ArmCounts):
    rate: float


class Interval(TypedDict):
    low: float
    high: float


class _LiftBase(TypedDict):
    absolute: float
    absoluteInterval: Interval


class Lift(_LiftBase, total=False):
    relative: float
    relativeInterval: Interval


class ZTest(TypedDict):
    method: str
    z: float
    p: float
    significant: bool
    alpha: float


class SampleRatio(TypedDict):
    expectedShare: float
    observedShare: float
    chiSquare: float
    p: float
    mismatch: bool


class Recommendation(TypedDict):
    action: Literal["expand", "iterate", "roll-back"]
    nextShare: float
    reason: str


class _EvaluationBase(TypedDict):
    confidence: float
    control: Arm
    variant: Arm
    lift: Lift
    test: ZTest
    sampleRatio: SampleRatio
    minimumDetectableLift: float
    recommendation: Recommendation


class ExperimentEvaluation(_EvaluationBase, total=False):
    #: For an experiment of a portfolio: its id and product.
    experiment: str
    product: str
    #: The decision metric, which way is better ("higher" or "lower"), and the lift in that direction.
    metric: str
    direction: Literal["higher", "lower"]
    improvement: float
