"""Finding and loading libtwospeed.so, with the C ABI's signatures declared once.

The search order, first match wins:

1. the `library` argument of `Engine` or `load_library`, when given: only there;
2. the TWOSPEED_LIBRARY environment variable, when set: only there (a wrong setting is an error, not a
   silent fall-back to some other copy);
3. beside the package: libtwospeed.so.0 or libtwospeed.so in the twospeed package's own folder;
4. when the package is the one in a source checkout (bindings/python/twospeed), that checkout's
   build/lib/libtwospeed.so.0; an installed copy has no such folder and skips this step;
5. the system's library path, through the dynamic loader (LD_LIBRARY_PATH, ld.so.cache, /usr/lib...):
   libtwospeed.so.0, then libtwospeed.so.

A library that is found but cannot be loaded, or implements another ABI version, raises LibraryError
at once rather than trying the next place.
"""
from __future__ import annotations

import ctypes
import os
import threading
from typing import Any, Dict, List, Optional, Tuple, Union

from ._errors import LibraryError, LibraryNotFoundError

__all__ = ["ABI_VERSION", "Library", "load_library"]

#: The C ABI version this package speaks (TWOSPEED_ABI_VERSION of include/twospeed.h).
ABI_VERSION = 1

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_NAMES = ("libtwospeed.so.0", "libtwospeed.so")

PathLike = Union[str, "os.PathLike[str]"]


class Library:
    """One loaded libtwospeed.so: its path, version, ABI version, and the functions of the C ABI.

    Libraries are shared: `load_library` returns the same object for the same file.
    """

    path: str
    version: str
    abi_version: int

    def __init__(self, path: str, handle: Optional[str] = None) -> None:
        try:
            cdll = ctypes.CDLL(handle or path)
        except OSError as e:
            raise LibraryError("cannot load %s: %s" % (path, e), path=path) from e
        try:
            cdll.twospeed_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
            cdll.twospeed_open.restype = ctypes.c_int
            # c_void_p, not c_char_p: ctypes would copy a c_char_p result into bytes and lose the
            # pointer that twospeed_free must get back.
            cdll.twospeed_call.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
            cdll.twospeed_call.restype = ctypes.c_void_p
            cdll.twospeed_free.argtypes = [ctypes.c_void_p]
            cdll.twospeed_free.restype = None
            cdll.twospeed_close.argtypes = [ctypes.c_void_p]
            cdll.twospeed_close.restype = None
            cdll.twospeed_version.argtypes = []
            cdll.twospeed_version.restype = ctypes.c_char_p
            cdll.twospeed_abi_version.argtypes = []
            cdll.twospeed_abi_version.restype = ctypes.c_int
            cdll.twospeed_errstr.argtypes = [ctypes.c_int]
            cdll.twospeed_errstr.restype = ctypes.c_char_p
        except AttributeError as e:
            raise LibraryError("%s is not libtwospeed: %s" % (path, e), path=path) from e
        # Later additions to ABI version 1, absent from older builds of the library.
        self.open_v2: Optional[Any] = None
        if hasattr(cdll, "twospeed_open_v2"):
            cdll.twospeed_open_v2.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
            cdll.twospeed_open_v2.restype = ctypes.c_int
            self.open_v2 = cdll.twospeed_open_v2
        self._open_error: Optional[Any] = None
        if hasattr(cdll, "twospeed_open_error"):
            cdll.twospeed_open_error.argtypes = []
            cdll.twospeed_open_error.restype = ctypes.c_char_p
            self._open_error = cdll.twospeed_open_error
        abi = cdll.twospeed_abi_version()
        if abi != ABI_VERSION:
            raise LibraryError("%s implements ABI version %d; this package needs version %d"
                               % (path, abi, ABI_VERSION), path=path)
        self.path = _loaded_from(cdll) or path
        self.version = (cdll.twospeed_version() or b"").decode("ascii", "replace")
        self.abi_version = abi
        self.open = cdll.twospeed_open
        self.call = cdll.twospeed_call
        self.free = cdll.twospeed_free
        self.close = cdll.twospeed_close
        self._errstr = cdll.twospeed_errstr
        self._cdll = cdll

    def errstr(self, code: int) -> str:
        """The library's English description of a twospeed_open result code."""
        return (self._errstr(code) or b"").decode("utf-8", "replace")

    def open_error(self) -> Optional[str]:
        """Why the last twospeed_open or twospeed_open_v2 on this thread failed (None after a success, or
        from a library too old to say). Call it on the thread that opened, right after the open."""
        if self._open_error is None:
            return None
        text = self._open_error()
        return None if text is None else text.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return "<twospeed.Library %s %s>" % (self.version, self.path)


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


def _loaded_from(cdll: ctypes.CDLL) -> Optional[str]:
    """The file the dynamic loader loaded the library from (dladdr), or None when it cannot say."""
    try:
        dladdr = ctypes.CDLL(None).dladdr
        dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
        dladdr.restype = ctypes.c_int
        info = _DlInfo()
        if dladdr(ctypes.cast(cdll.twospeed_version, ctypes.c_void_p), ctypes.byref(info)) and info.dli_fname:
            return os.path.realpath(os.fsdecode(info.dli_fname))
    except (AttributeError, OSError):
        pass
    return None


_loaded: Dict[str, Library] = {}
_lock = threading.Lock()


def _build_folder() -> Optional[str]:
    """The checkout's build/lib when this package is bindings/python/twospeed of a checkout, else None
    (installed in site-packages, where the same three levels up mean nothing)."""
    bindings = os.path.dirname(os.path.dirname(_PACKAGE_DIR))
    root = os.path.dirname(bindings)
    if os.path.basename(bindings) != "bindings" or not os.path.isfile(os.path.join(root, "include", "twospeed.h")):
        return None
    return os.path.join(root, "build", "lib")


def _locate(library: Optional[PathLike]) -> Tuple[str, Optional[str]]:
    """(path, name for dlopen or None): where the library is. Raises LibraryNotFoundError."""
    if library is not None:
        path = os.path.abspath(os.fspath(library))
        if os.path.isfile(path):
            return path, None
        raise LibraryNotFoundError("libtwospeed not found: the library argument names no file: %s" % path,
                                   tried=[path])
    env = os.environ.get("TWOSPEED_LIBRARY")
    if env:
        path = os.path.abspath(env)
        if os.path.isfile(path):
            return path, None
        raise LibraryNotFoundError(
            "libtwospeed not found: TWOSPEED_LIBRARY names no file: %s\n"
            "(unset it to search beside the package, the build folder and the system's library path)" % path,
            tried=[path])
    tried: List[str] = []
    lines: List[str] = ["  - TWOSPEED_LIBRARY: not set"]
    places = [("beside the package", _PACKAGE_DIR)]
    build = _build_folder()
    if build is not None:
        places.append(("the checkout's build folder", build))
    for where, folder in places:
        paths = [os.path.join(folder, n) for n in _NAMES] if where == "beside the package" \
            else [os.path.join(folder, _NAMES[0])]
        for p in paths:
            tried.append(p)
            if os.path.isfile(p):
                return os.path.realpath(p), None
        lines.append("  - %s: %s (no such file)" % (where, ", ".join(paths)))
    failures = []
    for name in _NAMES:
        tried.append(name)
        try:
            ctypes.CDLL(name)
        except OSError as e:
            failures.append(str(e))
            continue
        return name, name
    lines.append("  - the system's library path: %s (%s)" % (", ".join(_NAMES), "; ".join(failures)))
    raise LibraryNotFoundError(
        "libtwospeed not found. Looked in:\n%s\n"
        "Install the wheel that carries it (`make wheel`, then `pip install dist/twospeed-*.whl`), "
        "build it with `make lib` and set TWOSPEED_LIBRARY to its path, or install it (`make install`)." % "\n".join(lines),
        tried=tried)


def load_library(library: Optional[PathLike] = None) -> Library:
    """Finds and loads libtwospeed.so (see the module's search order); the same file loads once."""
    path, handle = _locate(library)
    key = handle or os.path.realpath(path)
    with _lock:
        lib = _loaded.get(key)
        if lib is None:
            lib = Library(path, handle)
            _loaded[key] = lib
        return lib
