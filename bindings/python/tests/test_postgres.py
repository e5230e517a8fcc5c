"""Python's Engine over PostgreSQL: the same store string as everywhere, against a throwaway server
(initdb as the postgres user in a temporary folder, a Unix socket only). A server that cannot start
is a failure, not a skip: `make deps` installs PostgreSQL."""
from __future__ import annotations

import glob
import sys
import os
import shutil
import subprocess
import tempfile
from typing import Iterator

import pytest

import twospeed
from conftest import retailer


def _bin(name: str) -> str:
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    found = shutil.which(name)
    assert found, "%s not found: make deps installs postgresql" % name
    return found


def _as_postgres(args: list) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    # Output to a file: the started server keeps inherited pipes open.
    with tempfile.TemporaryFile() as out:
        p = subprocess.run(prefix + args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.seek(0)
        p.stdout = out.read().decode()
    return p


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    d = tempfile.mkdtemp(prefix="twospeed-pg-py-")
    if os.geteuid() == 0:
        shutil.chown(d, "postgres", "postgres")
    r = _as_postgres([_bin("initdb"), "-D", d + "/data", "-A", "trust", "-U", "postgres", "--locale=C", "--no-sync"])
    assert r.returncode == 0, r.stdout
    r = _as_postgres([_bin("pg_ctl"), "-D", d + "/data", "-l", d + "/log", "-w", "-o",
                      "-k %s -c listen_addresses='' -c fsync=off" % d, "start"])
    assert r.returncode == 0, r.stdout
    try:
        yield d
    finally:
        _as_postgres([_bin("pg_ctl"), "-D", d + "/data", "-m", "immediate", "-w", "stop"])
        shutil.rmtree(d, ignore_errors=True)


def _database(server: str, name: str) -> str:
    r = _as_postgres([_bin("createdb"), "-h", server, "-U", "postgres", name])
    assert r.returncode == 0, r.stdout
    return "postgresql:///%s?host=%s&user=postgres" % (name, server)


def test_engine_opens_a_postgresql_uri_and_keeps_what_it_writes(server: str, tmp_path: object) -> None:
    """Reopened, a PostgreSQL store answers what a SQLite store answers for the same writes."""
    uri = _database(server, "py_roundtrip")
    sqlite = os.path.join(str(tmp_path), "store.sqlite")
    for name in (uri, sqlite):
        with twospeed.Engine(name) as eng:
            eng.call("portfolio.put", {"portfolio": retailer()})
            eng.call("metric.observe", {"portfolio": "retailer", "metric": "nps", "observations": [{"at": "2026-12-01", "value": 31.5}]})
    with twospeed.Engine(uri) as eng:
        assert eng.call("engine.info")["store"] == {"path": uri, "inMemory": False, "schemaVersion": 3}
        got = eng.call("portfolio.get", {"id": "retailer"})
    with twospeed.Engine(sqlite) as eng:
        expected = eng.call("portfolio.get", {"id": "retailer"})
    assert got["revision"] == expected["revision"] == 2
    assert got["portfolio"] == expected["portfolio"]


def test_a_password_is_never_shown(server: str) -> None:
    _database(server, "py_secret")
    uri = "postgresql://postgres:s3cret@/py_secret?host=%s" % server
    with twospeed.Engine(uri) as eng:
        assert "s3cret" not in eng.path and "s3cret" not in repr(eng)
        assert eng.path == "postgresql://postgres:***@/py_secret?host=%s" % server
    with pytest.raises(twospeed.OpenError) as e:
        twospeed.Engine("postgresql://postgres:s3cret@/no_such_db?host=%s" % server)
    assert "s3cret" not in str(e.value) and "s3cret" not in repr(e.value)
    assert "no_such_db" in str(e.value)
    assert e.value.path is None


def test_the_roles_of_docs_deployment_work_as_documented(server: str) -> None:
    """The SQL of docs/deployment.md, run as written: the writer's engine creates the tables and writes;
    the reader's engine opens and reads, and its writes fail with PostgreSQL's permission error."""
    import re
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    with open(os.path.join(root, "docs", "deployment.md"), encoding="utf-8") as f:
        blocks = re.findall(r"^```sql\n(.*?)^```$", f.read(), re.S | re.M)
    assert len(blocks) == 1
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(blocks[0])
    os.chmod(f.name, 0o644)
    try:
        r = _as_postgres([_bin("psql"), "-h", server, "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-f", f.name])
        assert r.returncode == 0, r.stdout
    finally:
        os.unlink(f.name)
    writer = "postgresql:///twospeed?host=%s&user=twospeed_writer" % server
    reader = "postgresql:///twospeed?host=%s&user=twospeed_reader" % server
    with twospeed.Engine(writer) as eng:
        eng.call("portfolio.put", {"portfolio": retailer()})
        eng.call("assessment.run", {"portfolio": "retailer"})
    with twospeed.Engine(reader) as eng:
        assert eng.call("portfolio.get", {"id": "retailer"})["revision"] == 1
        assert [r["run"] for r in eng.call("assessment.history", {"portfolio": "retailer"})["runs"]] == [1]
        with pytest.raises(twospeed.Error) as e:
            eng.call("metric.observe", {"portfolio": "retailer", "metric": "nps", "observations": [{"at": "2026-12-01", "value": 1}]})
        assert "permission denied" in str(e.value)
    with twospeed.Engine(writer) as eng:
        assert eng.call("portfolio.get", {"id": "retailer"})["revision"] == 1, "the reader's refused write left nothing"


def test_a_missing_libpq_is_a_clear_error_and_sqlite_still_works(tmp_path: object) -> None:
    """libpq is loaded on the first PostgreSQL open only: with it unreadable (libpq.so.5 covered by
    /dev/null in a private mount namespace), a PostgreSQL URI fails naming the package, and SQLite
    stores open as before in the same process."""
    libpq = None
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"):
        if os.path.exists(os.path.join(d, "libpq.so.5")):
            libpq = os.path.realpath(os.path.join(d, "libpq.so.5"))
            break
    assert libpq, "libpq.so.5 not found: make deps installs libpq-dev"
    script = (
        "import twospeed\n"
        "try:\n"
        "    twospeed.Engine('postgresql:///x?host=/nonexistent')\n"
        "except twospeed.OpenError as e:\n"
        "    print('ERROR', e)\n"
        "with twospeed.Engine(%r) as e:\n"
        "    print('SQLITE', e.call('engine.info')['store']['inMemory'])\n" % os.path.join(str(tmp_path), "s.db"))
    unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-r", "-m"]
    package = os.path.dirname(os.path.dirname(os.path.abspath(twospeed.__file__)))
    r = subprocess.run(unshare + ["sh", "-c", 'mount --bind /dev/null "$0" && exec "$1" -c "$2"', libpq, sys.executable, script],
                       capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=package))
    assert r.returncode == 0, r.stderr
    assert "needs libpq" in r.stdout and "libpq5" in r.stdout, r.stdout
    assert "SQLITE False" in r.stdout, r.stdout
