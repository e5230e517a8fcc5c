"""The platform wheel of `make wheel`, installed with pip in a fresh venv as a user would: it carries
libtwospeed.so with its jansson and SQLite, so the README's Python example runs with no environment
variable, no `make install` and no checkout on the path."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

import twospeed
from conftest import ROOT

WHEEL = os.environ.get("TWOSPEED_WHEEL")
if os.environ.get("TWOSPEED_TEST_INSTALLED"):
    pytest.skip("already testing an installed copy", allow_module_level=True)
if not WHEEL:
    pytest.skip("no TWOSPEED_WHEEL: `make test-python` builds the wheel (make wheel) and names it",
                allow_module_level=True)


def readme_python() -> str:
    """The README's first python block, as written."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    start = text.index("```python\n") + len("```python\n")
    return text[start:text.index("```", start)]


def clean_env() -> dict:
    # Nothing that would point the package at another copy of the library or of itself.
    return {k: v for k, v in os.environ.items()
            if k not in ("TWOSPEED_LIBRARY", "LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONHOME")}


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=120)
    py = str(folder / "bin" / "python")
    r = subprocess.run([py, "-m", "pip", "install", "-q", "--no-index", "--disable-pip-version-check", WHEEL],
                       capture_output=True, text=True, timeout=120, env=clean_env())
    assert r.returncode == 0, r.stdout + r.stderr
    return py


def test_the_wheel_carries_the_library_and_what_it_links(tmp_path):
    assert os.path.basename(WHEEL).startswith("twospeed-%s-py3-none-manylinux_" % twospeed.__version__)
    with zipfile.ZipFile(WHEEL) as z:
        names = z.namelist()
        wheel = z.read("twospeed-%s.dist-info/WHEEL" % twospeed.__version__).decode()
    assert "twospeed/libtwospeed.so.0" in names
    libs = [n for n in names if n.startswith("twospeed.libs/")]
    assert any("libjansson" in n for n in libs) and any("libsqlite3" in n for n in libs), libs
    assert "Root-Is-Purelib: false" in wheel


def test_readme_example_runs_from_the_wheel_alone(venv, tmp_path):
    script = tmp_path / "example.py"
    # What was loaded: the library, jansson and SQLite all from the installed wheel.
    script.write_text(readme_python() + "\nprint('MAPS', open('/proc/self/maps').read())\n", encoding="utf-8")
    r = subprocess.run([venv, str(script)], cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out, maps = r.stdout.split("MAPS", 1)
    assert "'products': 5" in out and "/entity/status" in out
    assert "Two-speed architecture" in out
    site = os.path.dirname(os.path.dirname(venv))
    loaded = {line.split()[-1] for line in maps.splitlines() if ".so" in line}
    mine = [p for p in loaded if "libtwospeed" in p or "libjansson" in p or "libsqlite3" in p]
    assert mine and all(p.startswith(site) for p in mine), mine
    assert any("twospeed.libs/libjansson" in p for p in mine) and any("twospeed.libs/libsqlite3" in p for p in mine)


def test_the_installed_package_finds_its_own_library(venv, tmp_path):
    code = "import twospeed; e = twospeed.Engine(); print(e.library.path); print(e.info()['version'])"
    r = subprocess.run([venv, "-c", code], cwd=str(tmp_path), env=clean_env(), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    path, version = r.stdout.split()
    assert path.endswith(os.path.join("site-packages", "twospeed", "libtwospeed.so.0"))
    assert path.startswith(os.path.dirname(os.path.dirname(venv)))
    assert version == twospeed.__version__
