"""Fixtures of the twospeed package's tests: the real library and real twospeedd daemons.

`make test-python` sets TWOSPEED_LIBRARY and TWOSPEED_DAEMON; without them the checkout's build/
folder is used. The package is imported from bindings/python, except when TWOSPEED_TEST_INSTALLED
names the folder of an installed copy (test_packaging.py runs some of these tests that way): then
that copy must be the one imported.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any, Dict, Iterator, List, Optional

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
ROOT = os.path.dirname(os.path.dirname(PACKAGE_ROOT))
RETAILER = os.path.join(ROOT, "examples", "portfolios", "retailer.json")
INSTALLED = os.environ.get("TWOSPEED_TEST_INSTALLED")

if not INSTALLED:
    sys.path.insert(0, PACKAGE_ROOT)

import twospeed  # noqa: E402

if INSTALLED:
    assert os.path.realpath(twospeed.__file__).startswith(os.path.realpath(INSTALLED) + os.sep), \
        "expected the installed copy under %s, imported %s" % (INSTALLED, twospeed.__file__)

LIBRARY = os.environ.get("TWOSPEED_LIBRARY") or os.path.join(ROOT, "build", "lib", "libtwospeed.so.0")
DAEMON = os.environ.get("TWOSPEED_DAEMON") or os.path.join(ROOT, "build", "bin", "twospeedd")
os.environ.setdefault("TWOSPEED_LIBRARY", LIBRARY)


def retailer() -> Dict[str, Any]:
    with open(RETAILER, encoding="utf-8") as f:
        return json.load(f)


def wait_for(condition: Any, seconds: float, what: str, seen: Any = None) -> None:
    """Polls condition() until it is true; after `seconds`, fails saying what it waited for and, when
    `seen` is given, what seen() shows. Tests wait on conditions, not on the clock."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("gave up after %s s waiting for %s%s" % (seconds, what, "; saw: %s" % (seen(),) if seen else ""))
        time.sleep(0.01)


def unread_bytes(socket_path: str) -> int:
    """Bytes that have arrived on a daemon's connections and that it has not read yet (ss -x: the
    Recv-Q of the accepted sockets, whose local address is the socket's path)."""
    out = subprocess.run(["ss", "-x", "-H", "-n"], capture_output=True, text=True, check=True).stdout
    total = 0
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 5 and f[0] == "u_str" and f[4] == socket_path:
            total += int(f[2])
    return total


class Daemon:
    """A twospeedd child on a socket in a temporary folder; stopped (SIGTERM, then SIGKILL) at the end."""

    def __init__(self, folder: str, name: str = "d", db: Optional[str] = None, args: Optional[List[str]] = None) -> None:
        self.socket = os.path.join(folder, name + ".sock")
        self.db = db if db is not None else ":memory:"
        self.log = os.path.join(folder, name + ".log")
        self.args = list(args or [])
        self.proc: Optional["subprocess.Popen[bytes]"] = None

    def start(self) -> "Daemon":
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([DAEMON, "--socket", self.socket, "--db", self.db] + self.args,
                                         stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("twospeedd exited with %s:\n%s" % (self.proc.returncode, self.read_log()))
            if os.path.exists(self.socket):
                import socket
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(self.socket)
                    return self
                except OSError:
                    pass
                finally:
                    s.close()
            time.sleep(0.01)
        raise RuntimeError("twospeedd did not start:\n" + self.read_log())

    def wait_for_log(self, text: str, seconds: float = 15) -> None:
        """Waits until the daemon's log has a line containing text."""
        wait_for(lambda: text in self.read_log(), seconds, "%r in the daemon's log" % text,
                 seen=lambda: self.read_log()[-2000:])

    def read_log(self) -> str:
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        if sig == signal.SIGSTOP:
            # A stop is not immediate: until every thread has stopped, the daemon may still answer.
            wait_for(lambda: self.thread_states() <= {"T", "t"}, 10, "every thread of twospeedd to stop",
                     seen=self.thread_states)

    def thread_states(self) -> set:
        """The states of the daemon's threads (/proc/PID/task/*/stat): "T" once stopped."""
        assert self.proc is not None
        states = set()
        folder = "/proc/%d/task" % self.proc.pid
        for tid in os.listdir(folder):
            try:
                with open(os.path.join(folder, tid, "stat")) as f:
                    states.add(f.read().rsplit(")", 1)[1].split()[0])
            except OSError:
                pass        # a thread that has just ended
        return states

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGCONT)
                self.proc.terminate()
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self.proc = None


@pytest.fixture
def start_daemon(tmp_path: Any) -> Iterator[Any]:
    """start_daemon(name="d", db=None, args=[]) starts a daemon; every one is stopped after the test."""
    started: List[Daemon] = []

    def start(name: str = "d", db: Optional[str] = None, args: Optional[List[str]] = None) -> Daemon:
        d = Daemon(str(tmp_path), name, db, args).start()
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


@pytest.fixture
def daemon(start_daemon: Any) -> Daemon:
    return start_daemon()


@pytest.fixture
def engine() -> Iterator[twospeed.Engine]:
    with twospeed.Engine(":memory:") as e:
        yield e


@pytest.fixture
def client(daemon: Daemon) -> Iterator[twospeed.Client]:
    with twospeed.Client(daemon.socket, timeout=30) as c:
        yield c


@pytest.fixture(params=["engine", "client"])
def conn(request: Any) -> Iterator[twospeed.Connection]:
    """The same tests through both transports: an in-memory engine, and a client of a fresh daemon."""
    if request.param == "engine":
        with twospeed.Engine(":memory:") as e:
            yield e
    else:
        d = request.getfixturevalue("daemon")
        with twospeed.Client(d.socket, timeout=30) as c:
            yield c


@pytest.fixture
def loaded(conn: twospeed.Connection) -> twospeed.Connection:
    """conn holding the retailer portfolio."""
    conn.put_portfolio(retailer())
    return conn
