"""Client: the same interface as Engine, through twospeedd's Unix-domain socket.

Wire: one compact JSON message per line in both directions; replies come in request order.

Connections: a Client keeps a small pool of connections (at most `max_connections`, opened as threads
need them), so threads calling at once run in parallel; each call has one connection to itself.

Reconnecting: an idle connection that the daemon has closed (it restarted, or its --idle-timeout went
by) is noticed before it is used and replaced by a new one; nothing had been sent on it, so nothing is
repeated. Once a request has been sent, a failure is never retried: a broken connection raises
ConnectionLost and a missing reply raises Timeout, since the daemon may have carried the request out
(a write would be applied twice). The connection is dropped and the next call opens a new one.
"""
from __future__ import annotations

import itertools
import json
import os
import select
import socket
import threading
import time
from typing import Any, Callable, List, Optional, TypeVar

from ._connection import Connection, encode
from ._errors import ConnectionLost, DaemonUnreachable, ProgrammingError, ProtocolError, Timeout
from ._library import PathLike

__all__ = ["Client"]

_T = TypeVar("_T")
_CHUNK = 1 << 18


def _remaining(deadline: Optional[float]) -> Optional[float]:
    if deadline is None:
        return None
    return deadline - time.monotonic()


class _Conn:
    """One connection to the daemon and the bytes read past the last reply."""

    __slots__ = ("sock", "buf", "path", "timeout", "broken")

    def __init__(self, path: str, timeout: Optional[float], deadline: Optional[float]) -> None:
        self.path = path
        self.timeout = timeout
        self.buf = bytearray()
        self.broken = False
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self._left(deadline, "connecting"))
            sock.connect(path)
        except socket.timeout as e:
            sock.close()
            raise Timeout("connecting to the daemon at %s timed out after %s s" % (path, timeout)) from e
        except OSError as e:
            sock.close()
            err = DaemonUnreachable("cannot reach the daemon at %s: %s" % (path, e.strerror or e))
            err.errno, err.strerror, err.filename = e.errno, e.strerror, path
            raise err from e
        self.sock = sock

    def _left(self, deadline: Optional[float], doing: str) -> Optional[float]:
        left = _remaining(deadline)
        if left is not None and left <= 0:
            raise Timeout("%s the daemon at %s took more than %s s" % (doing, self.path, self.timeout))
        return left

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def idle_and_open(self) -> bool:
        """True when nothing is waiting to be read: no end of file, no reply nobody asked for."""
        if self.buf or self.broken:
            return False
        p = select.poll()
        p.register(self.sock, select.POLLIN)
        try:
            return not p.poll(0)
        except OSError:
            return False

    def send(self, data: bytes, deadline: Optional[float]) -> None:
        try:
            self.sock.settimeout(self._left(deadline, "sending to"))
            self.sock.sendall(data)
        except socket.timeout as e:
            raise Timeout("sending to the daemon at %s took more than %s s" % (self.path, self.timeout)) from e
        except OSError as e:
            raise ConnectionLost("the connection to the daemon at %s broke while sending: %s"
                                 % (self.path, e.strerror or e)) from e

    def readline(self, deadline: Optional[float]) -> bytes:
        start = 0
        while True:
            i = self.buf.find(b"\n", start)
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 1]
                return line
            start = len(self.buf)
            try:
                self.sock.settimeout(self._left(deadline, "waiting for a reply from"))
                chunk = self.sock.recv(_CHUNK)
            except socket.timeout as e:
                raise Timeout("no reply from the daemon at %s within %s s" % (self.path, self.timeout)) from e
            except OSError as e:
                raise ConnectionLost("the connection to the daemon at %s broke: %s"
                                     % (self.path, e.strerror or e)) from e
            if not chunk:
                raise ConnectionLost("the daemon at %s closed the connection before replying" % self.path)
            self.buf += chunk


def _parse(line: bytes) -> Any:
    try:
        return json.loads(line)
    except ValueError as e:
        raise ProtocolError("the daemon's reply is not JSON: %s: %.200r" % (e, line)) from e


class Client(Connection):
    """A client of twospeedd on the Unix-domain socket at `socket_path` (default: $TWOSPEED_SOCKET).

    The same interface as Engine. Connects at once, so a daemon that is not there raises
    DaemonUnreachable here. `timeout` (seconds, None for none) bounds each call: connecting, waiting
    for a free connection, sending and receiving; a call that takes longer raises Timeout (the daemon
    may still carry it out); the attribute may be changed at any time, for the calls that start
    afterwards. Up to `max_connections` connections are opened as threads need them. `close` closes
    the idle connections at once and the busy ones as their calls end.
    """

    socket_path: str
    timeout: Optional[float]
    max_connections: int

    def __init__(self, socket_path: Optional[PathLike] = None, *, timeout: Optional[float] = 60.0,
                 max_connections: int = 4) -> None:
        super().__init__()
        self._idle: List[_Conn] = []
        self._closed = False
        if socket_path is None:
            socket_path = os.environ.get("TWOSPEED_SOCKET") or None
            if socket_path is None:
                raise ValueError("no socket: give socket_path or set TWOSPEED_SOCKET")
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive, or None")
        self.socket_path = os.fspath(socket_path)
        self.timeout = timeout
        self.max_connections = max_connections
        self._cond = threading.Condition(threading.Lock())
        self._open = 0
        self._pid = os.getpid()
        self._sentinels = itertools.count(1)
        self._release(self._acquire(self._deadline()), True)

    def __repr__(self) -> str:
        return "<twospeed.Client %s %r>" % ("closed" if self._closed else "open", self.socket_path)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Closes the idle connections now and the busy ones when their calls end. Idempotent."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for c in idle:
            c.close()

    def __del__(self) -> None:
        try:
            for c in getattr(self, "_idle", ()):
                c.close()
        except Exception:
            pass

    # -- the pool ----------------------------------------------------------------------------------

    def _deadline(self) -> Optional[float]:
        return None if self.timeout is None else time.monotonic() + self.timeout

    def _acquire(self, deadline: Optional[float]) -> _Conn:
        with self._cond:
            if self._pid != os.getpid():
                # A forked child must not share the parent's connections: their replies would mix.
                self._idle, self._open, self._pid = [], 0, os.getpid()
            while True:
                if self._closed:
                    raise ProgrammingError("cannot operate on a closed client")
                while self._idle:
                    c = self._idle.pop()
                    if c.idle_and_open():
                        return c
                    c.close()
                    self._open -= 1
                if self._open < self.max_connections:
                    self._open += 1
                    break
                left = _remaining(deadline)
                if left is not None and left <= 0:
                    raise Timeout("all %d connections to the daemon at %s stayed busy for %s s"
                                  % (self.max_connections, self.socket_path, self.timeout))
                self._cond.wait(left)
        try:
            return _Conn(self.socket_path, self.timeout, deadline)
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def _release(self, conn: _Conn, reusable: bool) -> None:
        with self._cond:
            if reusable and not conn.broken and not self._closed and self._pid == os.getpid():
                self._idle.append(conn)
                conn = None  # type: ignore[assignment]
            else:
                self._open -= 1
            self._cond.notify()
        if conn is not None:
            conn.close()

    def _with_conn(self, work: Callable[[_Conn, Optional[float]], _T]) -> _T:
        deadline = self._deadline()
        conn = self._acquire(deadline)
        ok = False
        try:
            result = work(conn, deadline)
            ok = True
            return result
        finally:
            self._release(conn, ok)

    # -- the transport -------------------------------------------------------------------------------

    @staticmethod
    def _send_or_salvage(conn: _Conn, data: bytes, deadline: Optional[float]) -> Optional[bytes]:
        """Sends data; when the daemon closed the connection under it (a message over its limit),
        returns the error line it wrote before closing, if any."""
        try:
            conn.send(data, deadline)
            return None
        except ConnectionLost:
            conn.broken = True
            try:
                return conn.readline(time.monotonic() + 1.0)
            except (ConnectionLost, Timeout):
                pass
            raise

    def _request(self, data: bytes) -> Any:
        def work(conn: _Conn, deadline: Optional[float]) -> Any:
            line = self._send_or_salvage(conn, data + b"\n", deadline)
            if line is None:
                line = conn.readline(deadline)
            reply = _parse(line)
            if isinstance(reply, dict) and reply.get("id") is None:
                # An error about the connection itself (too large, refused, stopping): the daemon
                # closes it after this reply.
                conn.broken = True
            return reply
        return self._with_conn(work)

    def _notify(self, data: bytes) -> None:
        def work(conn: _Conn, deadline: Optional[float]) -> None:
            if self._send_or_salvage(conn, data + b"\n", deadline) is not None:
                conn.broken = True
        self._with_conn(work)

    def _send_text(self, data: bytes) -> bytes:
        # Whether the daemon answers a text is its to decide (a notification gets no reply, a broken
        # one does): a request of our own follows it, and what comes before that reply is the answer.
        sid = "twospeed-python-sentinel-%d" % next(self._sentinels)
        sentinel = encode({"jsonrpc": "2.0", "method": "engine.info", "id": sid})
        payload = data.replace(b"\n", b" ") + b"\n" + sentinel + b"\n"

        def work(conn: _Conn, deadline: Optional[float]) -> bytes:
            first = self._send_or_salvage(conn, payload, deadline)
            if first is not None:
                return first
            lines: List[bytes] = []
            while True:
                try:
                    line = conn.readline(deadline)
                except ConnectionLost:
                    if lines:
                        conn.broken = True
                        break
                    raise
                reply = _parse(line)
                if isinstance(reply, dict) and reply.get("id") == sid:
                    break
                lines.append(line)
            if len(lines) > 1:
                raise ProtocolError("the daemon answered one line with %d replies" % len(lines))
            return lines[0] if lines else b""
        return self._with_conn(work)
