"""The interface shared by Engine (in-process) and Client (the daemon): call, send and the typed helpers.

A transport implements three primitives (`_request`, `_notify`, `_send_text`) and `close`; everything
else, the helpers included, is written once here.
"""
from __future__ import annotations

import abc
import datetime
import itertools
import json
import os
from types import TracebackType
from typing import Any, Dict, Iterable, List, Literal, Mapping, Optional, Sequence, Type, TypeVar, Union, cast

from ._errors import ProtocolError, RPCError
from ._types import (
    JSON, ArmLike, AssessmentResult, DeleteResult, EngineInfo, EntityChange, ExperimentEvaluation, GetResult, Kind,
    MetricsResult, ObservationLike, ObserveResult, Params, PortfolioSummary, PutResult, RecordResult, Timestamp,
    Accountability, CoverageMap, Finding, History, OKRAlignment, Prioritization, SpeedAnalysis, ImportResult,
    DeliveryImportResult, AdviceHistory, CampaignDeleteResult, CampaignList, CampaignPutResult, CampaignReport,
    DismissResult, OutcomeReport, ReopenResult,
)

__all__ = ["Connection"]

_Self = TypeVar("_Self", bound="Connection")


def _default(o: Any) -> Any:
    """JSON for what json cannot encode by itself: dates and aware datetimes as ISO 8601."""
    if isinstance(o, datetime.datetime):
        if o.tzinfo is None or o.utcoffset() is None:
            raise ValueError("a naive datetime has no UTC offset (%s): give an aware datetime, a date or a string"
                             % o.isoformat())
        return o.isoformat()
    if isinstance(o, datetime.date):
        return o.isoformat()
    raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)


def encode(value: Any) -> bytes:
    """Compact JSON text in UTF-8, on one line; NaN and infinities are refused (they are not JSON)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                      default=_default).encode("utf-8")


def _named(**params: Any) -> Dict[str, Any]:
    """Named params without the ones left at None."""
    return {k: v for k, v in params.items() if v is not None}


def _observation(o: ObservationLike) -> Any:
    if isinstance(o, Mapping):
        return o
    if isinstance(o, (tuple, list)) and len(o) in (2, 3):
        d: Dict[str, Any] = {"at": o[0], "value": o[1]}
        if len(o) == 3 and o[2] is not None:
            d["source"] = o[2]
        return d
    raise TypeError("an observation is a mapping {'at', 'value'[, 'source']} or a tuple (at, value[, source]), "
                    "not %r" % (o,))


def _arm(a: Optional[ArmLike]) -> Any:
    if a is None or isinstance(a, Mapping):
        return a
    if isinstance(a, (tuple, list)) and len(a) == 2:
        return {"users": a[0], "conversions": a[1]}
    raise TypeError("an arm is a mapping {'users', 'conversions'} or a tuple (users, conversions), not %r" % (a,))


class Connection(abc.ABC):
    """A way to call the engine: `Engine` in this process, `Client` through the daemon.

    Both behave the same: `call` sends one JSON-RPC request and returns its result or raises the
    `RPCError` subclass of the error reply; the helpers below are `call` with typed params. A
    connection may be used from several threads at once; `close` (or leaving a `with` block) releases
    it, and every call after that raises ProgrammingError.
    """

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    # -- what a transport provides ----------------------------------------------------------------

    @abc.abstractmethod
    def _request(self, data: bytes) -> Any:
        """Sends one request that has an id; returns its reply, parsed."""

    @abc.abstractmethod
    def _notify(self, data: bytes) -> None:
        """Sends one notification (no reply comes)."""

    @abc.abstractmethod
    def _send_text(self, data: bytes) -> bytes:
        """Sends any text; returns the reply text, or b"" when there is none."""

    @abc.abstractmethod
    def close(self) -> None:
        """Releases the connection; later calls raise ProgrammingError. Closing twice is harmless."""

    @property
    @abc.abstractmethod
    def closed(self) -> bool:
        """True once close has been called."""

    # -- context manager ----------------------------------------------------------------------------

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()

    # -- calls ----------------------------------------------------------------------------------------

    def call(self, method: str, params: Params = None) -> JSON:
        """Calls a method with named (a mapping) or positional (a sequence) params; returns its result.

        Raises the RPCError subclass of an error reply (NotFound, InvalidParams, ...), ProgrammingError
        when closed, and for the daemon a CommunicationError when it cannot be reached or answered.
        Dates and aware datetimes in params are sent in ISO 8601; NaN and infinities raise ValueError.
        """
        rid = next(self._ids)
        request: Dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": rid}
        if params is not None:
            request["params"] = params
        reply = self._request(encode(request))
        return self._result(reply, rid)

    def notify(self, method: str, params: Params = None) -> None:
        """Sends a notification: the method runs, nothing is answered, errors included."""
        request: Dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            request["params"] = params
        self._notify(encode(request))

    def send(self, text: Union[str, bytes]) -> str:
        """Sends JSON-RPC text as it is (a request, a notification or a batch) and returns the reply
        text unparsed, or "" when nothing is answered. Error replies are returned, not raised:
        `RPCError.from_error(json.loads(reply)["error"])` makes one an exception. Over the socket
        the text travels on one line, so its line breaks are sent as spaces.
        """
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        if b"\0" in data:
            raise ValueError("the request text contains a NUL byte")
        return self._send_text(data).decode("utf-8")

    @staticmethod
    def _result(reply: Any, rid: int) -> JSON:
        if not isinstance(reply, dict) or reply.get("jsonrpc") != "2.0":
            raise ProtocolError("not a JSON-RPC 2.0 response: %.200r" % (reply,))
        if "error" in reply:
            error = reply["error"]
            if not isinstance(error, dict) or reply.get("id") not in (rid, None):
                raise ProtocolError("an error reply to another request: %.200r" % (reply,))
            raise RPCError.from_error(error)
        if "result" not in reply or reply.get("id") != rid:
            raise ProtocolError("a reply to another request (id %r, expected %r)" % (reply.get("id"), rid))
        return reply["result"]

    # -- typed helpers ---------------------------------------------------------------------------------

    def info(self) -> EngineInfo:
        """engine.info: the version, ABI version, store and counts."""
        return cast(EngineInfo, self.call("engine.info"))

    def discover(self) -> Dict[str, Any]:
        """rpc.discover: the OpenRPC document, every method with its params and result schemas."""
        return cast(Dict[str, Any], self.call("rpc.discover"))

    def put_portfolio(self, portfolio: Mapping[str, Any], *, if_revision: Optional[int] = None) -> PutResult:
        """portfolio.put: stores a whole portfolio document, replacing one with the same id.

        Raises InvalidParams listing every failure, RevisionMismatch when if_revision is not current.
        """
        return cast(PutResult, self.call("portfolio.put", _named(portfolio=portfolio, ifRevision=if_revision)))

    def import_backstage(self, portfolio: str, sources: Iterable[Any] = (), *,
                         documents: Optional[Iterable[Mapping[str, Any]]] = None,
                         rules: Optional[Sequence[Mapping[str, Any]]] = None, prune: bool = False, atomic: bool = False,
                         organization: Optional[str] = None, if_revision: Optional[int] = None) -> ImportResult:
        """import.backstage: maps a Backstage catalog onto departments, teams, managers and systems.

        `sources` are catalog files or folders of them, read with PyYAML (each problem then names its
        file and line); `documents` are entities already parsed (Backstage entities as dicts, or
        {"entity": ..., "file": ..., "line": ...}). `rules` choose layers before the defaults; `prune`
        removes what the catalog does not name; `atomic` refuses everything if any record is refused
        (InvalidParams). Returns the report: created, updated, unchanged, removed, skipped, problems.
        """
        docs: List[Any] = []
        srcs: List[Any] = [sources] if isinstance(sources, (str, bytes)) or hasattr(sources, "__fspath__") else list(sources)
        if srcs:
            from ._catalog import catalog_documents
            docs += catalog_documents(srcs)
        for d in documents or ():
            docs.append(d if "entity" in d or "error" in d else {"entity": d})
        return cast(ImportResult, self.call("import.backstage", _named(
            portfolio=portfolio, documents=docs, rules=list(rules) if rules is not None else None,
            prune=prune or None, atomic=atomic or None, organization=organization, ifRevision=if_revision)))

    def import_csv(self, portfolio: str, kind: Kind, source: Any = None, *, text: Optional[str] = None,
                   separator: Optional[str] = None, atomic: bool = False, organization: Optional[str] = None,
                   if_revision: Optional[int] = None) -> ImportResult:
        """import.csv: one entity of `kind` per row of a CSV file (`source`, a path) or of `text`.

        The header names the fields (dotted paths for nested ones, lists separated by ;); Excel's
        exports (a BOM, ; separators, CRLF) are fine. Problems name their row and column.
        """
        if (source is None) == (text is None):
            raise TypeError("give a CSV file or text=, one of them")
        name = None
        if source is not None:
            with open(source, "r", encoding="utf-8", newline="") as f:
                text = f.read()
            name = os.fspath(source)
        return cast(ImportResult, self.call("import.csv", _named(
            portfolio=portfolio, kind=kind, text=text, file=name, separator=separator, atomic=atomic or None,
            organization=organization, ifRevision=if_revision)))

    def get_portfolio(self, id: str) -> GetResult:
        """portfolio.get: {"portfolio": document, "revision": n, "updated": timestamp}; NotFound if absent."""
        return cast(GetResult, self.call("portfolio.get", {"id": id}))

    def list_portfolios(self) -> List[PortfolioSummary]:
        """portfolio.list: every portfolio in the store, summarized, by id."""
        return cast(List[PortfolioSummary], self.call("portfolio.list")["portfolios"])

    def delete_portfolio(self, id: str, *, if_revision: Optional[int] = None) -> DeleteResult:
        """portfolio.delete: deletes a portfolio and everything in it."""
        return cast(DeleteResult, self.call("portfolio.delete", _named(id=id, ifRevision=if_revision)))

    def get_entity(self, portfolio: str, kind: Kind, id: str) -> Dict[str, Any]:
        """entity.get: one entity of a portfolio (the entity itself); NotFound if absent."""
        return cast(Dict[str, Any], self.call("entity.get", {"portfolio": portfolio, "kind": kind, "id": id})["entity"])

    def list_entities(self, portfolio: str, kind: Kind) -> List[Dict[str, Any]]:
        """entity.list: every entity of one kind in a portfolio, in order."""
        return cast(List[Dict[str, Any]], self.call("entity.list", {"portfolio": portfolio, "kind": kind})["entities"])

    def upsert_entity(self, portfolio: str, kind: Kind, entity: Mapping[str, Any], *,
                      if_revision: Optional[int] = None) -> EntityChange:
        """entity.upsert: adds an entity, or replaces the one with the same id.

        Raises InvalidParams (pointers into /entity), Conflict when the change would leave references
        dangling, NotFound when the portfolio does not exist.
        """
        return cast(EntityChange, self.call("entity.upsert", _named(portfolio=portfolio, kind=kind, entity=entity,
                                                                     ifRevision=if_revision)))

    def upsert_product(self, portfolio: str, product: Mapping[str, Any], *,
                       if_revision: Optional[int] = None) -> EntityChange:
        """entity.upsert of a product: {"id", "name", "status", ...} as in the portfolio model."""
        return self.upsert_entity(portfolio, "product", product, if_revision=if_revision)

    def remove_entity(self, portfolio: str, kind: Kind, id: str, *, if_revision: Optional[int] = None) -> EntityChange:
        """entity.remove: removes an entity; Conflict while something still references it."""
        return cast(EntityChange, self.call("entity.remove", _named(portfolio=portfolio, kind=kind, id=id,
                                                                     ifRevision=if_revision)))

    def append_observations(self, portfolio: str, metric: str, observations: Iterable[ObservationLike], *,
                            if_revision: Optional[int] = None) -> ObserveResult:
        """metric.observe: appends observations to a metric, in one write.

        Each observation is a mapping {"at", "value"[, "source"]} or a tuple (at, value[, source]); at
        is an RFC 3339 date-time or date, as a string, a date or an aware datetime.
        """
        obs = [_observation(o) for o in observations]
        return cast(ObserveResult, self.call("metric.observe", _named(portfolio=portfolio, metric=metric,
                                                                       observations=obs, ifRevision=if_revision)))

    def run_assessment(self, portfolio: str, *, model: Optional[str] = None,
                       answers: Optional[Sequence[Mapping[str, Any]]] = None, as_of: Optional[Timestamp] = None,
                       prioritization: Optional[str] = None, keep: Optional[bool] = None) -> AssessmentResult:
        """assessment.run: dimension scores with the facts behind them, pitfalls, recommendations and
        analyses. Kept for assessment.history (with a run number) unless keep is False.
        """
        return cast(AssessmentResult, self.call("assessment.run", _named(
            portfolio=portfolio, model=model, answers=None if answers is None else list(answers), asOf=as_of,
            prioritization=prioritization, keep=keep)))

    def get_assessment(self, portfolio: str, run: Optional[int] = None) -> AssessmentResult:
        """assessment.get: a kept assessment by its run number, or the latest kept run when run is None."""
        params: Dict[str, Any] = {"portfolio": portfolio}
        if run is not None:
            params["run"] = run
        return cast(AssessmentResult, self.call("assessment.get", params))

    def assessment_history(self, portfolio: str, *, model: Optional[str] = None,
                           compare: Optional[Sequence[int]] = None) -> History:
        """assessment.history: scores per dimension over time, and what changed between two runs."""
        return cast(History, self.call("assessment.history", _named(
            portfolio=portfolio, model=model, compare=None if compare is None else list(compare))))

    def recommendation_history(self, portfolio: str, *, up_to_run: Optional[int] = None) -> AdviceHistory:
        """recommendation.history: every piece of advice across the kept runs, with its status in each run
        (with up_to_run, the history as it stood at that kept run)."""
        return cast(AdviceHistory, self.call("recommendation.history", _named(portfolio=portfolio, upToRun=up_to_run)))

    def dismiss_recommendation(self, portfolio: str, key: str, reason: str, *,
                               if_revision: Optional[int] = None) -> DismissResult:
        """recommendation.dismiss: shown in the history, never counted as acted on."""
        return cast(DismissResult, self.call("recommendation.dismiss", _named(
            portfolio=portfolio, key=key, reason=reason, ifRevision=if_revision)))

    def reopen_recommendation(self, portfolio: str, key: str, *, if_revision: Optional[int] = None) -> ReopenResult:
        """recommendation.reopen: undoes a dismissal."""
        return cast(ReopenResult, self.call("recommendation.reopen", _named(portfolio=portfolio, key=key, ifRevision=if_revision)))

    def recommendation_outcomes(self, portfolio: str) -> OutcomeReport:
        """recommendation.outcomes: for resolved advice, each aimed measure's level shift with a 95% interval."""
        return cast(OutcomeReport, self.call("recommendation.outcomes", {"portfolio": portfolio}))

    def put_campaign(self, portfolio: str, campaign: Mapping[str, Any], *,
                     if_revision: Optional[int] = None) -> CampaignPutResult:
        """campaign.put: stores a campaign, replacing the one with the same id."""
        return cast(CampaignPutResult, self.call("campaign.put", _named(
            portfolio=portfolio, campaign=dict(campaign), ifRevision=if_revision)))

    def get_campaign(self, portfolio: str, id: str) -> CampaignReport:
        """campaign.get: status, progress overall and per rule, and burn-up across kept runs."""
        return cast(CampaignReport, self.call("campaign.get", {"portfolio": portfolio, "id": id}))

    def campaigns(self, portfolio: str) -> List[CampaignReport]:
        """campaign.list: every campaign of the portfolio with its status and progress."""
        return cast(CampaignList, self.call("campaign.list", {"portfolio": portfolio}))["campaigns"]

    def delete_campaign(self, portfolio: str, id: str, *, if_revision: Optional[int] = None) -> CampaignDeleteResult:
        """campaign.delete."""
        return cast(CampaignDeleteResult, self.call("campaign.delete", _named(portfolio=portfolio, id=id, ifRevision=if_revision)))

    def coverage(self, portfolio: str) -> CoverageMap:
        """analysis.coverage: journeys x stages, and who owns each stage (unowned, doubly owned)."""
        return cast(CoverageMap, self.call("analysis.coverage", {"portfolio": portfolio}))

    def prioritize(self, portfolio: str, *, method: Optional[Literal["value", "rice", "wsjf"]] = None) -> Prioritization:
        """analysis.prioritize: the products ranked by value, RICE or WSJF."""
        return cast(Prioritization, self.call("analysis.prioritize", _named(portfolio=portfolio, method=method)))

    def speed(self, portfolio: str) -> SpeedAnalysis:
        """analysis.speed: each system's DORA tier, the layers, and the couplings that hold them back."""
        return cast(SpeedAnalysis, self.call("analysis.speed", {"portfolio": portfolio}))

    def okr_alignment(self, portfolio: str) -> OKRAlignment:
        """analysis.okrs: how the objectives and key results line up with products and metrics."""
        return cast(OKRAlignment, self.call("analysis.okrs", {"portfolio": portfolio}))

    def accountability(self, portfolio: str) -> Accountability:
        """analysis.accountability: each manager's share of metrics they can influence."""
        return cast(Accountability, self.call("analysis.accountability", {"portfolio": portfolio}))

    def pitfalls(self, portfolio: str) -> List[Finding]:
        """analysis.pitfalls: the pitfalls alone, with their subjects and evidence."""
        return cast(List[Finding], self.call("analysis.pitfalls", {"portfolio": portfolio})["pitfalls"])

    def evaluate_experiment(self, portfolio: Optional[str] = None, experiment: Optional[str] = None, *,
                            control: Optional[ArmLike] = None, variant: Optional[ArmLike] = None,
                            planned_share: Optional[float] = None, rollout: Optional[Sequence[float]] = None,
                            stage: Optional[int] = None, confidence: Optional[float] = None) -> ExperimentEvaluation:
        """experiment.evaluate: lift with its confidence interval, a two-proportion z-test, a sample-ratio
        check and the next rollout step.

        Either for an experiment of a portfolio (portfolio and experiment), or for counts given directly:
        control and variant as (users, conversions), with the rollout stages' shares and the running
        stage, or the variant's planned share of traffic. Counts given directly need one of the two: the
        sample-ratio check compares the split seen with the split planned, and a 10%/90% test judged
        against an assumed 50/50 would read as a broken split, so no split is assumed (ValueError).
        """
        if (control is not None or variant is not None) and planned_share is None and rollout is None:
            raise ValueError("evaluate_experiment with control and variant counts needs planned_share (the variant's "
                             "planned share of traffic, such as 0.1 for a 10% test) or rollout and stage")
        return cast(ExperimentEvaluation, self.call("experiment.evaluate", _named(
            portfolio=portfolio, experiment=experiment, control=_arm(control), variant=_arm(variant),
            plannedShare=planned_share, rollout=None if rollout is None else list(rollout), stage=stage,
            confidence=confidence)))

    def record_delivery(self, portfolio: str, *, deployments: Optional[Iterable[Mapping[str, Any]]] = None,
                        incidents: Optional[Iterable[Mapping[str, Any]]] = None,
                        atomic: Optional[bool] = None) -> RecordResult:
        """delivery.record: records deployments and incidents for DORA's four keys, in one transaction.

        A deployment is {"id", "system", "time", "failed"?, "changes"?: [{"id", "committed"}]} (or changes as
        {change id: commit time}, the compact form), an incident
        {"id", "system", "started", "resolved"?, "cause"?} (cause: the deployment's id); times are RFC 3339
        strings, dates or aware datetimes. Recording an event again replaces it, so nothing counts twice.
        A bad event is listed in problems (with its pointer) and skipped; with atomic=True nothing is
        recorded and InvalidParams lists every problem.
        """
        return cast(RecordResult, self.call("delivery.record", _named(
            portfolio=portfolio, deployments=None if deployments is None else list(deployments),
            incidents=None if incidents is None else list(incidents), atomic=atomic)))

    def delivery_metrics(self, portfolio: str, *, system: Optional[str] = None, until: Optional[Timestamp] = None,
                         days: Optional[int] = None, windows: Optional[int] = None) -> MetricsResult:
        """delivery.metrics: DORA's four keys per system from the recorded events, each with its DORA 2024
        bucket: for the `days` (default 90) before `until` (default now), or `windows` such windows back.
        """
        return cast(MetricsResult, self.call("delivery.metrics", _named(
            portfolio=portfolio, system=system, until=until, days=days, windows=windows)))

    def import_delivery(self, portfolio: str, kind: Literal["deployments", "incidents"], source: Any = None, *,
                        text: Optional[str] = None, format: Optional[Literal["jsonl", "csv"]] = None,
                        atomic: Optional[bool] = None) -> DeliveryImportResult:
        """delivery.import: a deployments or incidents log, JSON Lines or CSV, as `twospeed import --from
        deployments|incidents` reads it, from a file (`source`, a path) or `text`.

        The format is `format`, or csv for a file named *.csv and jsonl otherwise. Each bad record is listed
        in problems with its file, line (and CSV column) and skipped; with atomic=True nothing is recorded
        and InvalidParams lists every problem. A log none of whose records can be recorded (a portfolio
        naming none of its systems) raises InvalidParams rather than recording nothing.
        """
        if (source is None) == (text is None):
            raise TypeError("give a log file or text=, one of them")
        name = None
        if source is not None:
            with open(source, "r", encoding="utf-8", newline="") as f:
                text = f.read()
            name = os.fspath(source)
        if format is None:
            format = "csv" if name is not None and name.endswith(".csv") else "jsonl"
        return cast(DeliveryImportResult, self.call("delivery.import", _named(
            portfolio=portfolio, kind=kind, format=format, text=text, file=name, atomic=atomic)))

    def import_fourkeys(self, portfolio: str, sources: Sequence[Any], *, system: Optional[str] = None,
                        atomic: Optional[bool] = None) -> DeliveryImportResult:
        """delivery.import with format fourkeys: DORA Four Keys' tables (four_keys.changes, .deployments,
        .incidents) as BigQuery exports them, CSV or newline-delimited JSON, one file each (`sources`, paths).

        Four Keys names no service: `system` is the system of every event, unless a row has a system or
        service column. What the tables cannot give (a change without a commit time, an incident whose root
        cause no deployment carries) is said in the result's notes.
        """
        tables = []
        for source in sources:
            with open(source, "r", encoding="utf-8", newline="") as f:
                tables.append({"text": f.read(), "file": os.fspath(source)})
        return cast(DeliveryImportResult, self.call("delivery.import", _named(
            portfolio=portfolio, format="fourkeys", tables=tables, system=system, atomic=atomic)))

    def render_report(self, portfolio: Optional[str] = None, *, result: Optional[Mapping[str, Any]] = None,
                      run: Optional[int] = None, width: Optional[int] = None, format: str = "text") -> str:
        """report.render: an assessment for people to read, from a portfolio's latest kept run (or run),
        a fresh assessment when none is kept, or a result given directly.
        """
        return cast(str, self.call("report.render", _named(format=format, result=result, portfolio=portfolio,
                                                            run=run, width=width))["content"])
