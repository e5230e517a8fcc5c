"""The exceptions of the twospeed package and the stable error codes they carry.

Every exception the package raises derives from `Error`. An error reply of the engine or the daemon is
an `RPCError`, of the subclass that its code names; problems on this side of the call (the library, the
socket, a closed engine) have classes of their own.
"""
from __future__ import annotations

import builtins
import enum
from typing import Any, ClassVar, Dict, List, Mapping, NamedTuple, Optional, Tuple, Type

__all__ = [
    "ErrorCode", "OpenCode", "Issue",
    "Error", "ProgrammingError", "LibraryError", "LibraryNotFoundError", "OpenError",
    "CommunicationError", "DaemonUnreachable", "ConnectionLost", "Timeout", "ProtocolError",
    "RPCError", "ParseError", "InvalidRequest", "MethodNotFound", "InvalidParams", "InternalError",
    "NotFound", "Conflict", "StoreError", "TooLarge", "ReadOnly", "RevisionMismatch", "PluginError",
    "PeerRefused", "TooManyClients",
]


class ErrorCode(enum.IntEnum):
    """The JSON-RPC error codes of include/twospeed.h and the daemon. Numbers never change."""

    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    NOT_FOUND = -32000
    CONFLICT = -32001
    STORE_ERROR = -32002
    TOO_LARGE = -32003
    READ_ONLY = -32004
    REVISION_MISMATCH = -32005
    #: A plugin failed (crashed, timed out, wrote garbage) or answered with an error.
    PLUGIN_ERROR = -32006
    #: The daemon refused the peer: its uid and gid are on no allow list.
    PEER_REFUSED = -32010
    #: The daemon serves --max-clients connections already.
    TOO_MANY_CLIENTS = -32011


class OpenCode(enum.IntEnum):
    """The library's own result codes (TWOSPEED_E* in include/twospeed.h, and twospeed_call_rc's NOREPLY)."""

    OK = 0
    EINVAL = 1
    ECANTOPEN = 2
    ENOTSTORE = 3
    ESCHEMA = 4
    EIO = 5
    ENOMEM = 6
    #: twospeed_open_v2: the options are not JSON, or name an unknown option.
    EOPTIONS = 7
    #: twospeed_call_rc: the request was a notification (no id); nothing answers it.
    NOREPLY = 8


class Issue(NamedTuple):
    """One failure of a validation: where (a JSON pointer into the params) and why."""

    pointer: str
    reason: str


def _restore(cls: Type[BaseException], args: Tuple[Any, ...], state: Dict[str, Any]) -> BaseException:
    e = cls.__new__(cls)
    e.args = args
    for k, v in state.items():
        setattr(e, k, v)
    return e


class Error(Exception):
    """Base class of every exception raised by twospeed.

    `code` is the JSON-RPC error code for error replies (`RPCError`), the twospeed_open result code for
    `OpenError`, and None otherwise; `message` is the short message; `data` the error's data object
    (an empty dict when there is none).
    """

    code: Optional[int]
    message: str
    data: Dict[str, Any]

    def __init__(self, message: str, *, code: Optional[int] = None, data: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.data = dict(data) if data else {}

    def __str__(self) -> str:
        # Also for the OSError subclasses, whose own __str__ would print "[Errno n] strerror: filename".
        return self.message

    def __reduce__(self) -> Tuple[Any, ...]:
        # Picklable whatever the subclass's __init__ takes (multiprocessing hands exceptions back).
        state = dict(self.__dict__)
        if isinstance(self, OSError):
            for k in ("errno", "strerror", "filename"):
                if getattr(self, k) is not None:
                    state[k] = getattr(self, k)
        return (_restore, (type(self), self.args, state))


class ProgrammingError(Error):
    """The API was misused: a call on an engine or client that has been closed."""


class LibraryError(Error, OSError):
    """libtwospeed.so was found but cannot be used (not loadable, wrong ABI version)."""

    path: Optional[str]

    def __init__(self, message: str, *, path: Optional[str] = None) -> None:
        super().__init__(message)
        self.path = path


class LibraryNotFoundError(LibraryError, FileNotFoundError):
    """libtwospeed.so was not found; `tried` lists every place looked, in order."""

    tried: List[str]

    def __init__(self, message: str, *, tried: List[str]) -> None:
        super().__init__(message)
        self.tried = list(tried)


class OpenError(Error):
    """twospeed_open failed; `code` is an `OpenCode`, `path` the store's path."""

    path: Optional[str]

    def __init__(self, message: str, *, code: int, path: Optional[str]) -> None:
        super().__init__(message, code=code)
        self.path = path


class CommunicationError(Error):
    """Talking to the daemon failed: it could not be reached, the connection broke, or no reply came."""


class DaemonUnreachable(CommunicationError, builtins.ConnectionError):
    """No daemon answers on the socket (missing socket file, connection refused, permission denied)."""


class ConnectionLost(CommunicationError, builtins.ConnectionError):
    """The connection broke after the request was sent: whether the daemon carried it out is unknown."""


class Timeout(CommunicationError, builtins.TimeoutError):
    """No reply came within the client's timeout; the connection is dropped, the call may still run."""


class ProtocolError(CommunicationError):
    """The daemon's reply is not a JSON-RPC 2.0 response to the request sent."""


class RPCError(Error):
    """An error reply: `code`, `message` and `data` are the error object's members.

    `pointer` and `reason` name the first failure (a JSON pointer into the params, and why); `errors`
    lists every failure as `Issue(pointer, reason)` tuples where the engine gives them.
    """

    code: int
    #: The code whose replies this class stands for (None for RPCError itself).
    error_code: ClassVar[Optional[int]] = None
    _by_code: ClassVar[Dict[int, Type["RPCError"]]] = {}

    def __init__(self, code: int, message: str, data: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(message, code=code, data=data)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Only the classes that declare a code stand for it (a caller's subclass takes nothing over).
        if "error_code" in cls.__dict__ and cls.error_code is not None:
            RPCError._by_code[int(cls.error_code)] = cls

    @classmethod
    def from_error(cls, error: Mapping[str, Any]) -> "RPCError":
        """The exception for a JSON-RPC error object, of the subclass that its code names."""
        code = error.get("code")
        message = error.get("message")
        data = error.get("data")
        if not isinstance(code, int) or isinstance(code, bool):
            code = int(ErrorCode.INTERNAL_ERROR)
        if not isinstance(message, str):
            message = "error %d" % code
        if not isinstance(data, dict):
            data = {"value": data} if data is not None else None
        return RPCError._by_code.get(code, RPCError)(code, message, data)

    def to_error(self) -> Dict[str, Any]:
        """The JSON-RPC error object this exception stands for."""
        e: Dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data:
            e["data"] = dict(self.data)
        return e

    @property
    def pointer(self) -> Optional[str]:
        """The JSON pointer of the first failure ("" is the params themselves), or None."""
        p = self.data.get("pointer")
        return p if isinstance(p, str) else None

    @property
    def reason(self) -> Optional[str]:
        r = self.data.get("reason")
        return r if isinstance(r, str) else None

    @property
    def errors(self) -> List[Issue]:
        """Every failure, as Issue(pointer, reason): data.errors (at most 100), or when the engine gives
        only data.pointer and data.reason (as some checks do), that one failure."""
        out: List[Issue] = []
        for e in self.data.get("errors") or ():
            if isinstance(e, dict):
                out.append(Issue(str(e.get("pointer", "")), str(e.get("reason", ""))))
        if not out and self.reason is not None:
            out.append(Issue(self.pointer or "", self.reason))
        return out

    @property
    def truncated(self) -> bool:
        """True when the engine found more failures than data.errors lists."""
        return bool(self.data.get("truncated"))

    def __str__(self) -> str:
        s = "%s (%d)" % (self.message, self.code)
        if self.reason is not None:
            where = self.pointer
            s += ": " + ("%s: " % (where or "(params)") if where is not None else "") + self.reason
        n = len(self.data.get("errors") or ())
        if n > 1:
            s += " (and %d more)" % (n - 1)
        return s

    def __repr__(self) -> str:
        return "%s(%r, %r, %r)" % (type(self).__name__, self.code, self.message, self.data)


class ParseError(RPCError):
    """-32700: the request is not JSON; data has reason, line, column and position."""

    error_code = ErrorCode.PARSE_ERROR

    @property
    def line(self) -> Optional[int]:
        return self.data.get("line")

    @property
    def column(self) -> Optional[int]:
        return self.data.get("column")

    @property
    def position(self) -> Optional[int]:
        return self.data.get("position")


class InvalidRequest(RPCError):
    """-32600: not a JSON-RPC 2.0 request; `pointer` names the member."""

    error_code = ErrorCode.INVALID_REQUEST


class MethodNotFound(RPCError):
    """-32601: no such method; `method` is the name asked for."""

    error_code = ErrorCode.METHOD_NOT_FOUND

    @property
    def method(self) -> Optional[str]:
        return self.data.get("method")


class InvalidParams(RPCError, ValueError):
    """-32602: the params fail validation; `errors` lists every failure with its pointer."""

    error_code = ErrorCode.INVALID_PARAMS


class InternalError(RPCError):
    """-32603: the engine (or the daemon, while stopping) failed; nothing was changed."""

    error_code = ErrorCode.INTERNAL_ERROR


class NotFound(RPCError, LookupError):
    """-32000: a portfolio or entity named in the params does not exist; `pointer` names it."""

    error_code = ErrorCode.NOT_FOUND


class Conflict(RPCError):
    """-32001: the change would leave references dangling; `errors` lists them."""

    error_code = ErrorCode.CONFLICT


class StoreError(RPCError):
    """-32002: the store could not read or write; nothing was changed."""

    error_code = ErrorCode.STORE_ERROR


class TooLarge(RPCError):
    """-32003: the message exceeds the limit in `limit` (bytes)."""

    error_code = ErrorCode.TOO_LARGE

    @property
    def limit(self) -> Optional[int]:
        return self.data.get("limit")

    @property
    def size(self) -> Optional[int]:
        return self.data.get("size")


class ReadOnly(RPCError):
    """-32004: this caller may only call methods that change nothing."""

    error_code = ErrorCode.READ_ONLY


class RevisionMismatch(RPCError):
    """-32005: if_revision did not match; `revision` is the portfolio's current revision."""

    error_code = ErrorCode.REVISION_MISMATCH

    @property
    def revision(self) -> Optional[int]:
        return self.data.get("revision")


class PluginError(RPCError):
    """-32006: a plugin failed (crashed, timed out, wrote garbage) or answered with an error; `plugin`
    names it; for a wasm plugin `failure` says which way it failed."""

    error_code = ErrorCode.PLUGIN_ERROR

    @property
    def plugin(self) -> Optional[str]:
        p = self.data.get("plugin")
        return p if isinstance(p, str) else None

    @property
    def failure(self) -> Optional[str]:
        """A wasm plugin's failure: "trap", "fuel", "memory", "garbage" or "too-large"."""
        f = self.data.get("failure")
        return f if isinstance(f, str) else None


class PeerRefused(RPCError):
    """-32010: the daemon refused this peer (uid and gid on no allow list: data.uid, data.gid) and
    closed the connection."""

    error_code = ErrorCode.PEER_REFUSED


class TooManyClients(RPCError):
    """-32011: the daemon serves its --max-clients connections already and closed this one."""

    error_code = ErrorCode.TOO_MANY_CLIENTS
