"""Engine: the TwoSpeed engine in this process, through libtwospeed.so and ctypes."""
from __future__ import annotations

import ctypes
import json
import os
import threading
from typing import Any, Dict, Optional

from ._connection import Connection
from ._errors import LibraryError, OpenCode, OpenError, ProgrammingError, ProtocolError
from ._library import Library, PathLike, load_library

__all__ = ["Engine"]


class Engine(Connection):
    """An engine on a store, in this process: `Engine("store.sqlite")`, or `Engine()` / `Engine(":memory:")`
    for one that keeps everything in memory.

    `plugins` names a folder of plugin manifests to load, `max_request_bytes` the largest request the
    engine accepts (default 64 MiB), `file_mode` the mode a new store file is created with (default
    0o600, the owner's alone); they go to twospeed_open_v2.

    The library is found as `load_library` says (TWOSPEED_LIBRARY, beside the package, the build folder,
    the system's library path), or taken from `library`. Opening raises OpenError (with the library's
    code and message) when the store cannot be opened.

    Threads: calls from several threads run in parallel (the C engine is thread-safe and ctypes releases
    the GIL while it works). `close` waits for the calls already running, then closes the store; a call
    made after close has begun raises ProgrammingError.
    """

    library: Library
    path: str

    def __init__(self, path: Optional[PathLike] = None, *, plugins: Optional[PathLike] = None,
                 max_request_bytes: Optional[int] = None, file_mode: Optional[int] = None,
                 library: Optional[PathLike] = None) -> None:
        super().__init__()
        self._handle: Optional[int] = None
        self._cond = threading.Condition(threading.Lock())
        self._active = 0
        self._closing = False
        self.library = load_library(library)
        self.path = ":memory:" if path is None else os.fspath(path)
        # A PostgreSQL URI may carry a password: it is never kept or shown here. The library names the
        # store with the password hidden, in its open error and in engine.info (set below).
        is_uri = isinstance(self.path, str) and self.path.lower().startswith(("postgresql://", "postgres://"))
        if is_uri:
            self.path = "(a PostgreSQL store)"
        out = ctypes.c_void_p()
        cpath = None if path is None else os.fsencode(path)
        options: Dict[str, Any] = {}
        if plugins is not None:
            options["plugins"] = os.fsdecode(os.path.abspath(os.fspath(plugins)))
        if max_request_bytes is not None:
            options["maxRequestBytes"] = int(max_request_bytes)
        if file_mode is not None:
            options["fileMode"] = "%04o" % int(file_mode)
        if options:
            if self.library.open_v2 is None:
                raise LibraryError("%s (version %s) has no twospeed_open_v2, which plugins, max_request_bytes and "
                                   "file_mode need" % (self.library.path, self.library.version), path=self.library.path)
            rc = self.library.open_v2(cpath, json.dumps(options).encode("utf-8"), ctypes.byref(out))
        else:
            rc = self.library.open(cpath, ctypes.byref(out))
        if rc != 0 or not out.value:
            # Read at once and on this thread: the reason is the thread's own until its next open.
            reason = self.library.open_error()
            try:
                name = OpenCode(rc).name
            except ValueError:
                name = str(rc)
            raise OpenError("cannot open the store%s: %s (%s)%s" % ("" if is_uri else " " + self.path, self.library.errstr(rc), name,
                                                                    ": " + reason if reason else ""),
                            code=rc, path=None if is_uri else self.path)
        self._handle = out.value
        if is_uri:
            self.path = self.call("engine.info")["store"]["path"]

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return "<twospeed.Engine %s %r>" % (state, self.path)

    @property
    def closed(self) -> bool:
        return self._closing

    def close(self) -> None:
        """Waits for the calls running on other threads, then closes the store. Idempotent."""
        with self._cond:
            self._closing = True
            while self._active:
                self._cond.wait()
            handle, self._handle = self._handle, None
            # Under the lock: a second close returns only once the store is closed.
            if handle is not None:
                self.library.close(handle)

    def __del__(self) -> None:
        # An engine dropped without close: release the store (no call can be running, since a
        # running call holds a reference to the engine).
        try:
            if getattr(self, "_handle", None) is not None:
                self.close()
        except Exception:
            pass

    def _raw(self, data: bytes) -> bytes:
        """One twospeed_call: request text in, response text out (b"" for notifications)."""
        with self._cond:
            if self._closing or self._handle is None:
                raise ProgrammingError("cannot operate on a closed engine")
            handle = self._handle
            self._active += 1
        try:
            ptr = self.library.call(handle, data)
            if not ptr:
                raise MemoryError("twospeed_call returned NULL (out of memory)")
            try:
                return ctypes.string_at(ptr)
            finally:
                self.library.free(ptr)
        finally:
            with self._cond:
                self._active -= 1
                if self._active == 0:
                    self._cond.notify_all()

    def _request(self, data: bytes) -> Any:
        text = self._raw(data)
        try:
            return json.loads(text)
        except ValueError as e:
            raise ProtocolError("the engine's reply is not JSON: %s" % e) from e

    def _notify(self, data: bytes) -> None:
        self._raw(data)

    def _send_text(self, data: bytes) -> bytes:
        return self._raw(data)

