"""Test helpers for the Python ctypes tests of libtwospeed.

A tiny `Engine` wrapper over the C ABI of include/twospeed.h, local to these tests (the real Python
package comes later). The library is found through $TWOSPEED_LIBRARY (set by `make test-python`),
falling back to build/lib/libtwospeed.so.0.1.0 in this checkout.
"""
import ctypes
import itertools
import json
import os
import threading

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RETAILER = os.path.join(ROOT, "examples", "portfolios", "retailer.json")


def library_path():
    path = os.environ.get("TWOSPEED_LIBRARY")
    if path:
        return path
    return os.path.join(ROOT, "build", "lib", "libtwospeed.so.0.1.0")


_lib = None
_lib_lock = threading.Lock()


def load_library(path=None):
    """Loads the library once and declares the signatures of every function we call."""
    global _lib
    with _lib_lock:
        if _lib is not None and path is None:
            return _lib
        lib = ctypes.CDLL(path or library_path())
        lib.twospeed_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
        lib.twospeed_open.restype = ctypes.c_int
        # c_void_p out, not c_char_p: ctypes would copy a c_char_p into bytes and lose the pointer
        # that twospeed_free must get back.
        lib.twospeed_call.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.twospeed_call.restype = ctypes.c_void_p
        lib.twospeed_free.argtypes = [ctypes.c_void_p]
        lib.twospeed_free.restype = None
        lib.twospeed_close.argtypes = [ctypes.c_void_p]
        lib.twospeed_close.restype = None
        lib.twospeed_version.argtypes = []
        lib.twospeed_version.restype = ctypes.c_char_p
        lib.twospeed_abi_version.argtypes = []
        lib.twospeed_abi_version.restype = ctypes.c_int
        lib.twospeed_errstr.argtypes = [ctypes.c_int]
        lib.twospeed_errstr.restype = ctypes.c_char_p
        if path is None:
            _lib = lib
        return lib


class RPCError(Exception):
    def __init__(self, error):
        super().__init__("%s %s" % (error.get("code"), error.get("message")))
        self.error = error
        self.code = error.get("code")
        self.data = error.get("data") or {}


class Engine:
    """One engine handle. call_text is the raw C call; call() builds a request and returns the result."""

    def __init__(self, path=None, lib=None):
        self.lib = lib or load_library()
        handle = ctypes.c_void_p()
        rc = self.lib.twospeed_open(None if path is None else os.fsencode(path), ctypes.byref(handle))
        if rc != 0:
            raise OSError(rc, self.lib.twospeed_errstr(rc).decode())
        self.handle = handle
        self._ids = itertools.count(1)

    def close(self):
        if self.handle is not None:
            self.lib.twospeed_close(self.handle)
            self.handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call_text(self, text):
        """Sends request text (str or bytes) and returns the response text ("" for notifications)."""
        if isinstance(text, str):
            text = text.encode("utf-8")
        ptr = self.lib.twospeed_call(self.handle, text)
        if not ptr:
            raise MemoryError("twospeed_call returned NULL")
        try:
            return ctypes.string_at(ptr).decode("utf-8")
        finally:
            self.lib.twospeed_free(ptr)

    def request(self, obj):
        """Sends a request (or batch) object; returns the parsed response, or None for notifications."""
        text = self.call_text(json.dumps(obj, ensure_ascii=False))
        return json.loads(text) if text else None

    def response(self, method, params=None):
        req = {"jsonrpc": "2.0", "method": method, "id": next(self._ids)}
        if params is not None:
            req["params"] = params
        resp = self.request(req)
        assert resp["jsonrpc"] == "2.0"
        assert resp["id"] == req["id"]
        return resp

    def call(self, method, params=None):
        resp = self.response(method, params)
        if "error" in resp:
            raise RPCError(resp["error"])
        return resp["result"]


def retailer():
    with open(RETAILER, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def lib():
    return load_library()


@pytest.fixture
def engine(lib):
    e = Engine(None, lib)
    yield e
    e.close()


@pytest.fixture
def loaded(engine):
    """An in-memory engine holding the retailer portfolio."""
    engine.call("portfolio.put", {"portfolio": retailer()})
    return engine


@pytest.fixture
def retailer_doc():
    return retailer()
