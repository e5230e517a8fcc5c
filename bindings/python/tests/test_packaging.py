"""The package as pip installs it, offline: the installed copy passes the helper and example tests."""
from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import tarfile
import zipfile

import pytest

import twospeed
from conftest import HERE, PACKAGE_ROOT

if os.environ.get("TWOSPEED_TEST_INSTALLED"):
    pytest.skip("already testing an installed copy", allow_module_level=True)

# Offline: no index, and none of pip's configuration (--isolated), whatever it says.
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "--isolated"]
QUIET = ["-q", "--no-index"]


def pip(*args, cwd=None):
    r = subprocess.run(PIP + list(args), capture_output=True, text=True, timeout=300, cwd=cwd)
    assert r.returncode == 0, "pip %s failed:\n%s\n%s" % (" ".join(args), r.stdout, r.stderr)
    return r


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """pip install --no-build-isolation --target: the package as a user installs it, with no network."""
    target = tmp_path_factory.mktemp("installed")
    pip("install", *QUIET, "--no-build-isolation", "--target", str(target), PACKAGE_ROOT)
    return target


def test_installed_files(installed):
    assert (installed / "twospeed" / "py.typed").is_file()
    modules = sorted(p.name for p in (installed / "twospeed").glob("*.py"))
    assert modules == sorted(p.name for p in os.scandir(os.path.dirname(twospeed.__file__)) if p.name.endswith(".py"))
    assert not list((installed / "twospeed").glob("*.so*"))        # the wheel stays pure Python
    meta = (installed / ("twospeed-%s.dist-info" % twospeed.__version__) / "METADATA").read_text()
    assert "Name: twospeed\n" in meta and "Version: %s\n" % twospeed.__version__ in meta
    assert "Requires-Python: >=3.9\n" in meta and "Description-Content-Type: text/markdown" in meta


def test_installed_copy_passes_the_helper_and_example_tests(installed, tmp_path):
    # The installed copy, not bindings/python, must be the one imported (conftest checks it).
    path = os.pathsep.join([str(installed)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    env = dict(os.environ, PYTHONPATH=path, TWOSPEED_TEST_INSTALLED=str(installed))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
                        os.path.join(HERE, "test_helpers.py"), os.path.join(HERE, "test_examples.py"),
                        os.path.join(HERE, "test_engine.py")],
                       cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert " passed" in r.stdout and " failed" not in r.stdout


def test_installed_version_metadata(installed):
    code = ("import importlib.metadata as m, twospeed; "
            "print(m.version('twospeed'), twospeed.__version__, twospeed.__file__)")
    r = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=str(installed)),
                       capture_output=True, text=True, cwd="/", timeout=60)
    assert r.returncode == 0, r.stderr
    version, module_version, path = r.stdout.split()
    assert version == module_version == twospeed.__version__
    assert path.startswith(str(installed))


@pytest.mark.skipif(sys.version_info < (3, 11), reason="before 3.11 the backend needs tomli, from an index")
def test_install_with_build_isolation_needs_no_network(tmp_path):
    # The backend requires nothing, so pip's isolated build environment needs no index either.
    pip("install", *QUIET, "--target", str(tmp_path / "t"), PACKAGE_ROOT)
    assert (tmp_path / "t" / "twospeed" / "__init__.py").is_file()


def test_wheel_is_pure_and_its_record_is_right(tmp_path):
    pip("wheel", *QUIET, "--no-deps", "--no-build-isolation", "-w", str(tmp_path), PACKAGE_ROOT)
    wheel = tmp_path / ("twospeed-%s-py3-none-any.whl" % twospeed.__version__)
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        assert "twospeed/py.typed" in names and "twospeed/__init__.py" in names
        assert not [n for n in names if ".so" in n or "__pycache__" in n or n.startswith("tests/")]
        dist = "twospeed-%s.dist-info/" % twospeed.__version__
        assert "Root-Is-Purelib: true" in z.read(dist + "WHEEL").decode()
        for line in z.read(dist + "RECORD").decode().splitlines():
            path, digest, size = line.rsplit(",", 2)
            if path == dist + "RECORD":
                continue
            data = z.read(path)
            want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == "sha256=" + want and int(size) == len(data), path


def test_sdist_builds_and_installs_offline(tmp_path):
    sys.path.insert(0, os.path.join(PACKAGE_ROOT, "build_backend"))
    try:
        import twospeed_build
    finally:
        sys.path.pop(0)
    name = twospeed_build.build_sdist(str(tmp_path))
    base = "twospeed-%s" % twospeed.__version__
    assert name == base + ".tar.gz"
    with tarfile.open(tmp_path / name) as tar:
        members = tar.getnames()
    for f in ("PKG-INFO", "pyproject.toml", "README.md", "build_backend/twospeed_build.py", "twospeed/py.typed"):
        assert "%s/%s" % (base, f) in members
    pip("install", *QUIET, "--no-build-isolation", "--target", str(tmp_path / "t"), str(tmp_path / name))
    assert (tmp_path / "t" / "twospeed" / "_client.py").is_file()


def test_editable_wheel_points_at_the_source(tmp_path):
    sys.path.insert(0, os.path.join(PACKAGE_ROOT, "build_backend"))
    try:
        import twospeed_build
    finally:
        sys.path.pop(0)
    name = twospeed_build.build_editable(str(tmp_path))
    with zipfile.ZipFile(tmp_path / name) as z:
        assert z.read("__editable__.twospeed.pth").decode().strip() == PACKAGE_ROOT
