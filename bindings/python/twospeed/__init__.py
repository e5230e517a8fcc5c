"""TwoSpeed from Python: the engine in this process through libtwospeed.so, or the twospeedd daemon
over its Unix-domain socket, behind one interface.

    import twospeed

    with twospeed.Engine(":memory:") as eng:            # or Engine("store.sqlite"), or
        eng.put_portfolio(document)                      # twospeed.Client("/run/twospeed/twospeed.sock")
        eng.append_observations("retailer", "nps", [("2026-11-30", 31)])
        result = eng.run_assessment("retailer")
        for d in result["dimensions"]:
            print(d["name"], d.get("score"))
        try:
            eng.get_portfolio("nope")
        except twospeed.NotFound as e:
            print(e.code, e.pointer, e.reason)           # -32000 /id no portfolio with id "nope"

`Engine(path=None)` opens a store (None or ":memory:" keeps it in memory) with libtwospeed.so, found
through TWOSPEED_LIBRARY, beside the package, in the source checkout's build folder, then on the
system's library path. `Client(socket_path=None)` talks to twospeedd (default socket:
$TWOSPEED_SOCKET). Both offer `call(method, params)` for every method (`rpc.discover` lists them),
`notify`, `send` for raw JSON-RPC text, and typed helpers for the main methods: `info`, `discover`,
`put_portfolio`, `get_portfolio`, `list_portfolios`, `delete_portfolio`, `get_entity`,
`list_entities`, `upsert_entity`, `upsert_product`, `remove_entity`, `append_observations`,
`run_assessment`, `get_assessment`, `assessment_history`, `evaluate_experiment`, `render_report`.

Results are what the engine returns, as plain dicts and lists, typed for checkers by TypedDicts
generated from the engine's schemas (twospeed.AssessmentResult, History, ...; every one in
twospeed._types). `twospeed.frames` turns them into pandas DataFrames, when pandas is installed. Error replies raise subclasses of
`RPCError` (`NotFound`, `InvalidParams`, `RevisionMismatch`, ...) carrying `code`, `message` and
`data`; every exception of the package derives from `Error`. Both are context managers, and both may
be used from several threads at once; a call after `close` raises `ProgrammingError`.
"""
from ._client import Client
from ._connection import Connection
from ._delivery import read_deployments, read_incidents
from ._engine import Engine
from ._errors import (
    CommunicationError, Conflict, ConnectionLost, DaemonUnreachable, Error, ErrorCode,
    InternalError, InvalidParams, InvalidRequest, Issue, LibraryError, LibraryNotFoundError, MethodNotFound,
    NotFound, OpenCode, OpenError, ParseError, PeerRefused, PluginError, ProgrammingError, ProtocolError,
    ReadOnly, RevisionMismatch, RPCError, StoreError, Timeout, TooLarge, TooManyClients,
)
from ._library import ABI_VERSION, Library, load_library
from ._types import (
    ArmLike, AssessmentResult, Counts, DeleteResult, EngineInfo, EntityChange, ExperimentEvaluation, FourKeys,
    GetResult, Kind, MetricsResult, FourKeysWindow, Observation, ObservationLike, ObserveResult, Params,
    PortfolioSummary, PutResult, RecordCounts, RecordResultProblemsItem, RecordResult, Analyses, CoverageMap,
    DimensionResult, Finding, History, Overall, Pitfall, Recommendation, ImportProblem, ImportResult,
    DeliveryImportProblem, DeliveryImportResult,
)

__version__ = "0.1.0"

__all__ = [
    "__version__", "ABI_VERSION",
    "Connection", "Engine", "Client", "Library", "load_library", "read_deployments", "read_incidents",
    "Error", "ProgrammingError", "LibraryError", "LibraryNotFoundError", "OpenError",
    "CommunicationError", "DaemonUnreachable", "ConnectionLost", "Timeout", "ProtocolError",
    "RPCError", "ParseError", "InvalidRequest", "MethodNotFound", "InvalidParams", "InternalError",
    "NotFound", "Conflict", "StoreError", "TooLarge", "ReadOnly", "RevisionMismatch", "PluginError",
    "PeerRefused", "TooManyClients", "ErrorCode", "OpenCode", "Issue",
    "ArmLike", "AssessmentResult", "Counts", "DeleteResult", "EngineInfo", "EntityChange", "ExperimentEvaluation",
    "GetResult", "Kind", "Observation", "ObservationLike", "ObserveResult", "Params", "PortfolioSummary",
    "PutResult", "RecordCounts", "RecordResultProblemsItem", "RecordResult", "FourKeys", "FourKeysWindow",
    "MetricsResult", "Analyses", "CoverageMap", "DimensionResult", "Finding", "History", "Overall", "Pitfall",
    "Recommendation", "ImportProblem", "ImportResult", "DeliveryImportProblem", "DeliveryImportResult",
]
