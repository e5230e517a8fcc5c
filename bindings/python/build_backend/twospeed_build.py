"""The PEP 517 build backend of the twospeed package: pure Python, standard library only.

Why not setuptools: the package is pure Python, and `pip install ./bindings/python` must work offline.
setuptools builds wheels only with the `wheel` package beside it (before setuptools 70.1), which a
machine may not have, and with build isolation pip would fetch both from an index. This backend needs
nothing on Python 3.11 and later (`requires = []`; older Pythons ask for tomli, to read
pyproject.toml), so pip installs the package with or without build isolation, with no network. It implements build_wheel, build_sdist and build_editable (PEP 660) and reads the metadata
from pyproject.toml's [project] table; the version is __version__ in twospeed/__init__.py.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import platform
import re
import tarfile
import time
import zipfile
from typing import Any, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "twospeed"
TAG = "py3-none-any"
# `make wheel` names a built libtwospeed.so here (or with pip's --config-settings library=PATH): the
# wheel then carries it as twospeed/libtwospeed.so.0, where the package looks first, and is a platform
# wheel. auditwheel then copies in the jansson and SQLite it links against (see the Makefile).
LIBRARY_ENV = "TWOSPEED_WHEEL_LIBRARY"
# Fixed timestamps make the archives reproducible (SOURCE_DATE_EPOCH overrides, as usual).
EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))  # 1980-01-01, the earliest zip date


def _toml() -> Any:
    """tomllib (Python 3.11+), else tomli: on older Pythons get_requires_for_build_* ask for it."""
    try:
        import tomllib
        return tomllib
    except ImportError:
        import tomli  # type: ignore[import-not-found]
        return tomli


def _requires() -> List[str]:
    try:
        _toml()
        return []
    except ImportError:
        return ["tomli>=1.1"]


def _project() -> Dict[str, Any]:
    tomllib = _toml()
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project: Dict[str, Any] = tomllib.load(f)["project"]
    return project


def _version() -> str:
    with open(os.path.join(ROOT, PACKAGE, "__init__.py"), encoding="utf-8") as f:
        m = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', f.read(), re.M)
    if not m:
        raise RuntimeError("no __version__ in %s/__init__.py" % PACKAGE)
    return m.group(1)


def _name_version() -> Tuple[str, str]:
    return _project()["name"], _version()


def _metadata() -> str:
    p = _project()
    known = {"name", "version", "dynamic", "description", "readme", "requires-python", "license", "keywords",
             "classifiers", "urls", "dependencies", "authors"}
    unknown = set(p) - known
    if unknown:
        raise RuntimeError("pyproject.toml [project] has keys this backend does not write: %s" % sorted(unknown))
    lines = ["Metadata-Version: 2.1", "Name: %s" % p["name"], "Version: %s" % _version()]
    if "description" in p:
        lines.append("Summary: %s" % p["description"])
    for a in p.get("authors", []):
        if "email" in a:
            lines.append("Author-email: %s <%s>" % (a.get("name", ""), a["email"]) if a.get("name")
                         else "Author-email: %s" % a["email"])
        elif "name" in a:
            lines.append("Author: %s" % a["name"])
    if "license" in p:
        lines.append("License: %s" % p["license"].get("text", ""))
    if p.get("keywords"):
        lines.append("Keywords: %s" % ",".join(p["keywords"]))
    for c in p.get("classifiers", []):
        lines.append("Classifier: %s" % c)
    for label, url in p.get("urls", {}).items():
        lines.append("Project-URL: %s, %s" % (label, url))
    if "requires-python" in p:
        lines.append("Requires-Python: %s" % p["requires-python"])
    for d in p.get("dependencies", []):
        lines.append("Requires-Dist: %s" % d)
    body = ""
    readme = p.get("readme")
    if readme:
        path = readme if isinstance(readme, str) else readme["file"]
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            body = f.read()
        lines.append("Description-Content-Type: %s" % ("text/markdown" if path.endswith(".md") else "text/plain"))
    return "\n".join(lines) + "\n\n" + body


def _library(config_settings: Optional[Dict[str, Any]]) -> Optional[str]:
    """The shared library to bundle, or None for the pure wheel."""
    path = (config_settings or {}).get("library") or os.environ.get(LIBRARY_ENV)
    if not path:
        return None
    if not os.path.isfile(path):
        raise RuntimeError("%s names no file: %s" % (LIBRARY_ENV, path))
    return os.path.abspath(path)


def _tag(library: Optional[str]) -> str:
    # ctypes, not the C API of Python: any Python 3 on this platform loads it, hence py3-none.
    return TAG if library is None else "py3-none-linux_%s" % platform.machine()


def _wheel_file(tag: str = TAG) -> str:
    pure = "true" if tag == TAG else "false"
    return "Wheel-Version: 1.0\nGenerator: twospeed_build\nRoot-Is-Purelib: %s\nTag: %s\n" % (pure, tag)


def _package_files() -> List[Tuple[str, str]]:
    """(path in the archive, path on disk) of the package's modules and its py.typed marker. The
    shared library is not picked up, even when a copy lies beside the modules: the wheel stays pure
    Python unless a library is named (`_library`), and then it is that one."""
    out = []
    top = os.path.join(ROOT, PACKAGE)
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py") or name == "py.typed":
                full = os.path.join(dirpath, name)
                out.append((os.path.relpath(full, ROOT).replace(os.sep, "/"), full))
    return out


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def _write_wheel(directory: str, files: List[Tuple[str, bytes]], tag: str = TAG) -> str:
    name, version = _name_version()
    dist_info = "%s-%s.dist-info" % (name, version)
    files = files + [("%s/METADATA" % dist_info, _metadata().encode("utf-8")),
                     ("%s/WHEEL" % dist_info, _wheel_file(tag).encode("utf-8")),
                     ("%s/top_level.txt" % dist_info, (PACKAGE + "\n").encode("utf-8"))]
    record = [_record_line(p, d) for p, d in files] + ["%s/RECORD,," % dist_info]
    files.append(("%s/RECORD" % dist_info, ("\n".join(record) + "\n").encode("utf-8")))
    filename = "%s-%s-%s.whl" % (name, version, tag)
    date = time.gmtime(max(EPOCH, 315532800))[:6]
    with zipfile.ZipFile(os.path.join(directory, filename), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files:
            info = zipfile.ZipInfo(path, date_time=date)
            info.external_attr = (0o755 if path.endswith(".so.0") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return filename


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


# -- PEP 517 ----------------------------------------------------------------------------------------


def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return _requires()


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return _requires()


def get_requires_for_build_editable(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return _requires()


def prepare_metadata_for_build_wheel(metadata_directory: str,
                                     config_settings: Optional[Dict[str, Any]] = None) -> str:
    name, version = _name_version()
    dist_info = "%s-%s.dist-info" % (name, version)
    os.makedirs(os.path.join(metadata_directory, dist_info), exist_ok=True)
    wheel = _wheel_file(_tag(_library(config_settings)))
    for fname, text in (("METADATA", _metadata()), ("WHEEL", wheel), ("top_level.txt", PACKAGE + "\n")):
        with open(os.path.join(metadata_directory, dist_info, fname), "w", encoding="utf-8") as f:
            f.write(text)
    return dist_info


def build_wheel(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None,
                metadata_directory: Optional[str] = None) -> str:
    files = [(arc, _read(full)) for arc, full in _package_files()]
    library = _library(config_settings)
    if library is not None:
        files.append(("%s/libtwospeed.so.0" % PACKAGE, _read(library)))
    return _write_wheel(wheel_directory, files, _tag(library))


def build_editable(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None,
                   metadata_directory: Optional[str] = None) -> str:
    # PEP 660: a .pth file that puts this folder on sys.path, so the installed package is the source.
    pth = ("%s\n" % ROOT).encode("utf-8")
    return _write_wheel(wheel_directory, [("__editable__.%s.pth" % PACKAGE, pth)])


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    name, version = _name_version()
    base = "%s-%s" % (name, version)
    members: List[Tuple[str, bytes]] = [("PKG-INFO", _metadata().encode("utf-8"))]
    for rel in ("pyproject.toml", "README.md", "build_backend/twospeed_build.py"):
        members.append((rel, _read(os.path.join(ROOT, rel))))
    members += [(arc, _read(full)) for arc, full in _package_files()]
    filename = base + ".tar.gz"
    with open(os.path.join(sdist_directory, filename), "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=EPOCH) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel, data in members:
            info = tarfile.TarInfo("%s/%s" % (base, rel))
            info.size, info.mtime, info.mode = len(data), EPOCH, 0o644
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return filename
