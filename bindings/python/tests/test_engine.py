"""Engine specifics: stores, the library it loads, where it looks for it and what it says when it
cannot find or use it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import twospeed
from conftest import LIBRARY, PACKAGE_ROOT, ROOT, retailer


def test_in_memory_engines(engine):
    assert repr(engine) == "<twospeed.Engine open ':memory:'>"
    assert engine.info()["store"]["inMemory"] is True
    with twospeed.Engine() as other:                 # None is memory too, and a store of its own
        other.put_portfolio(retailer())
        assert other.path == ":memory:" and other.info()["portfolios"] == 1
    assert engine.info()["portfolios"] == 0
    assert repr(other) == "<twospeed.Engine closed ':memory:'>"


def test_a_store_file_outlives_its_engine(tmp_path):
    path = tmp_path / "store.sqlite"                  # a PathLike
    with twospeed.Engine(path) as eng:
        eng.put_portfolio(retailer())
        eng.append_observations("retailer", "nps", [("2026-11-30", 30)])
        info = eng.info()
        assert info["store"] == {"path": str(path), "inMemory": False, "schemaVersion": info["store"]["schemaVersion"]}
    with twospeed.Engine(str(path)) as eng:
        assert eng.get_portfolio("retailer")["revision"] == 2


def test_a_new_store_file_is_the_owners_alone(tmp_path):
    old = os.umask(0o022)
    try:
        for name, mode, want in [("private", None, 0o600), ("group", 0o640, 0o640)]:
            path = tmp_path / (name + ".sqlite")
            with twospeed.Engine(path, file_mode=mode) as eng:
                eng.put_portfolio(retailer())
                for suffix in ("", "-wal", "-shm"):
                    got = os.stat(str(path) + suffix).st_mode & 0o777
                    assert got == want, "%s%s: mode %o, expected %o" % (path, suffix, got, want)
    finally:
        os.umask(old)


def test_the_library(engine):
    lib = engine.library
    assert lib is twospeed.load_library()             # loaded once, shared
    assert lib.path == os.path.realpath(LIBRARY)
    assert lib.version == engine.info()["version"] == twospeed.__version__
    assert lib.abi_version == twospeed.ABI_VERSION == 1
    assert lib.errstr(twospeed.OpenCode.ECANTOPEN)
    with twospeed.Engine(library=LIBRARY) as eng:
        assert eng.library is lib


def test_a_library_path_that_does_not_exist(monkeypatch, tmp_path):
    missing = str(tmp_path / "nowhere" / "libtwospeed.so.0")
    with pytest.raises(twospeed.LibraryNotFoundError) as e:
        twospeed.Engine(library=missing)
    assert e.value.tried == [missing] and missing in str(e.value)
    monkeypatch.setenv("TWOSPEED_LIBRARY", missing)
    with pytest.raises(twospeed.LibraryNotFoundError) as e:
        twospeed.Engine()
    assert "TWOSPEED_LIBRARY names no file: %s" % missing in str(e.value)
    assert e.value.tried == [missing]
    assert isinstance(e.value, FileNotFoundError)


def test_a_file_that_is_not_a_library(tmp_path):
    fake = tmp_path / "libtwospeed.so.0"
    fake.write_text("not an ELF file\n")
    with pytest.raises(twospeed.LibraryError, match="cannot load") as e:
        twospeed.Engine(library=fake)
    assert not isinstance(e.value, twospeed.LibraryNotFoundError) and e.value.path == str(fake)


def _compile(tmp_path, name, source):
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler")
    src = tmp_path / (name + ".c")
    src.write_text(textwrap.dedent(source))
    out = tmp_path / (name + ".so")
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(out), str(src)], check=True)
    return out


def test_a_library_of_another_abi_version(tmp_path):
    lib = _compile(tmp_path, "abi2", """
        int twospeed_open(const char *p, void **out) { (void)p; *out = 0; return 1; }
        char *twospeed_call(void *e, const char *r) { (void)e; (void)r; return 0; }
        void twospeed_free(void *p) { (void)p; }
        void twospeed_close(void *e) { (void)e; }
        const char *twospeed_version(void) { return "9.0.0"; }
        int twospeed_abi_version(void) { return 2; }
        const char *twospeed_errstr(int c) { (void)c; return "?"; }
    """)
    with pytest.raises(twospeed.LibraryError, match="implements ABI version 2; this package needs version 1"):
        twospeed.Engine(library=lib)


def test_a_library_without_the_c_abi(tmp_path):
    lib = _compile(tmp_path, "other", "int something_else(void) { return 0; }\n")
    with pytest.raises(twospeed.LibraryError, match="is not libtwospeed"):
        twospeed.Engine(library=lib)


# -- the search order, each in a fresh process ----------------------------------------------------------

PROBE = "import twospeed; print(twospeed.load_library().path)"


def _env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("TWOSPEED_LIBRARY", "LD_LIBRARY_PATH", "PYTHONPATH", "TWOSPEED_TEST_INSTALLED")}
    env.update(extra)
    return env


def _package_copy(tmp_path):
    """The package copied to a folder of its own, away from any checkout's build folder."""
    dest = tmp_path / "site" / "twospeed"
    shutil.copytree(os.path.join(twospeed.__path__[0]), dest, ignore=shutil.ignore_patterns("__pycache__", "*.so*"))
    return dest


def _probe(tmp_path, pythonpath, **env):
    return subprocess.run([sys.executable, "-c", PROBE], cwd=str(tmp_path), env=_env(PYTHONPATH=str(pythonpath), **env),
                          capture_output=True, text=True, timeout=60)


def _system_has_the_library():
    r = subprocess.run([sys.executable, "-c", "import ctypes; ctypes.CDLL('libtwospeed.so.0')"], env=_env(),
                       capture_output=True, timeout=60)
    return r.returncode == 0


def test_search_finds_the_library_beside_the_package(tmp_path):
    pkg = _package_copy(tmp_path)
    shutil.copy(LIBRARY, pkg / "libtwospeed.so.0")
    r = _probe(tmp_path, pkg.parent)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(pkg / "libtwospeed.so.0")


def test_search_finds_the_build_folder_of_the_checkout(tmp_path):
    built = os.path.join(ROOT, "build", "lib", "libtwospeed.so.0")
    if not os.path.exists(built) or os.environ.get("TWOSPEED_TEST_INSTALLED"):
        pytest.skip("no build folder beside this copy of the package")
    if os.path.exists(os.path.join(PACKAGE_ROOT, "twospeed", "libtwospeed.so.0")):
        pytest.skip("a library lies beside the package in the checkout")
    r = _probe(tmp_path, PACKAGE_ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == os.path.realpath(built)


def test_search_finds_the_library_on_the_system_path(tmp_path):
    pkg = _package_copy(tmp_path)
    libdir = tmp_path / "lib"
    libdir.mkdir()
    shutil.copy(LIBRARY, libdir / "libtwospeed.so.0")
    r = _probe(tmp_path, pkg.parent, LD_LIBRARY_PATH=str(libdir))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(libdir / "libtwospeed.so.0")


def test_search_says_everywhere_it_looked(tmp_path):
    if _system_has_the_library():
        pytest.skip("libtwospeed.so.0 is installed on this system")
    pkg = _package_copy(tmp_path)
    r = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import twospeed
        try:
            twospeed.Engine()
        except twospeed.LibraryNotFoundError as e:
            print(e)
            print(e.tried)
            raise SystemExit(3)
        """)], cwd=str(tmp_path), env=_env(PYTHONPATH=str(pkg.parent)), capture_output=True, text=True, timeout=60)
    assert r.returncode == 3, r.stderr
    out = r.stdout
    assert "libtwospeed not found. Looked in:" in out
    assert "TWOSPEED_LIBRARY: not set" in out
    assert "beside the package: %s" % (pkg / "libtwospeed.so.0") in out
    # A copy outside a checkout has no build folder: none is named (once it was venv/lib/build/lib).
    assert "build folder" not in out and os.path.join("build", "lib") not in out
    assert "the system's library path: libtwospeed.so.0, libtwospeed.so (" in out
    assert "make lib" in out and "make wheel" in out


def test_search_names_the_checkouts_build_folder_only_from_the_checkout(tmp_path):
    if _system_has_the_library() or os.environ.get("TWOSPEED_TEST_INSTALLED"):
        pytest.skip("libtwospeed.so.0 is installed on this system, or this is an installed copy")
    code = "import twospeed._library as l; print(l._build_folder())"
    r = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=_env(PYTHONPATH=PACKAGE_ROOT),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == os.path.join(ROOT, "build", "lib")
