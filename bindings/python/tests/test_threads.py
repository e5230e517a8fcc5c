"""Engines and clients used from several threads at once, and closed under running calls."""
from __future__ import annotations

import threading
import time

import pytest

import twospeed
from conftest import retailer, wait_for

THREADS = 8
ROUNDS = 40


def _hammer(conn: twospeed.Connection, n: int, errors: list) -> None:
    """Each thread owns one portfolio: writes it, appends, reads it back and checks what it reads."""
    try:
        pid = "p%d" % n
        conn.put_portfolio(dict(retailer(), id=pid))
        for i in range(ROUNDS):
            r = conn.append_observations(pid, "nps", [("2027-01-%02d" % (i % 28 + 1), i)])
            assert r["revision"] == i + 2
            got = conn.get_entity(pid, "metric", "nps")
            assert got["observations"][-1]["value"] == i
            assert conn.info()["version"] == twospeed.__version__
        assert conn.get_portfolio(pid)["revision"] == ROUNDS + 1
    except BaseException as e:  # noqa: B902 - handed to the main thread
        errors.append(e)


def _run_threads(conn: twospeed.Connection) -> None:
    errors: list = []
    threads = [threading.Thread(target=_hammer, args=(conn, n, errors)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[0]
    assert len(conn.list_portfolios()) == THREADS


def test_engine_from_many_threads(engine):
    _run_threads(engine)


def test_client_from_many_threads_on_a_small_pool(daemon):
    with twospeed.Client(daemon.socket, max_connections=3, timeout=30) as c:
        seen = []
        original = c._acquire

        def watching(deadline):  # how many connections are open while calls run
            conn = original(deadline)
            seen.append(c._open)
            return conn
        c._acquire = watching  # type: ignore[method-assign]
        _run_threads(c)
        assert max(seen) <= 3
        assert max(seen) >= 2          # the threads did run in parallel on more than one connection


def test_engine_close_waits_for_running_calls_and_later_calls_fail_cleanly(engine):
    engine.put_portfolio(retailer())
    stop = threading.Event()
    outcomes = {"ok": 0, "closed": 0}
    finished_ok: list = []           # when each successful call ended
    other: list = []
    lock = threading.Lock()

    def caller():
        while not stop.is_set():
            try:
                engine.run_assessment("retailer", keep=False)
                key = "ok"
            except twospeed.ProgrammingError:
                key = "closed"
            except BaseException as e:  # noqa: B902
                other.append(e)
                return
            with lock:
                outcomes[key] += 1
                if key == "ok":
                    finished_ok.append(time.monotonic())
            if key == "closed":
                return

    threads = [threading.Thread(target=caller) for _ in range(6)]
    for t in threads:
        t.start()
    # Close once the callers are well under way: a few calls each have finished.
    wait_for(lambda: outcomes["ok"] >= 2 * len(threads) or other, 60, "the callers' first calls", seen=lambda: outcomes)
    closing = time.monotonic()
    engine.close()                   # must wait for the assessments running now, then close
    for t in threads:
        t.join(30)
    stop.set()
    assert not other, other[0]
    assert outcomes["ok"] > 0 and outcomes["closed"] == len(threads)
    # Calls that were running when close began still finished normally.
    assert any(t >= closing for t in finished_ok)
    with pytest.raises(twospeed.ProgrammingError):
        engine.info()


def test_engine_closed_from_several_threads_at_once():
    for _ in range(20):
        eng = twospeed.Engine()
        eng.info()
        threads = [threading.Thread(target=eng.close) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert eng.closed
        with pytest.raises(twospeed.ProgrammingError):
            eng.info()


def test_client_close_under_running_calls(daemon):
    c = twospeed.Client(daemon.socket, max_connections=4, timeout=30)
    c.put_portfolio(retailer())
    other: list = []
    closed = []
    calls = [0]

    def caller():
        try:
            while True:
                c.get_portfolio("retailer")
                calls[0] += 1
        except twospeed.ProgrammingError:
            closed.append(1)
        except BaseException as e:  # noqa: B902
            other.append(e)

    threads = [threading.Thread(target=caller) for _ in range(6)]
    for t in threads:
        t.start()
    wait_for(lambda: calls[0] >= 2 * len(threads) or other, 60, "the callers' first calls", seen=lambda: calls[0])
    c.close()
    for t in threads:
        t.join(30)
    assert not other, other[0]
    assert len(closed) == len(threads)
    assert c._open == 0              # every connection, idle or busy at close, is closed


def test_an_engine_dropped_without_close_is_closed(tmp_path):
    import gc
    import weakref
    path = str(tmp_path / "s.sqlite")
    eng = twospeed.Engine(path)
    eng.put_portfolio(retailer())
    ref = weakref.ref(eng)
    del eng
    gc.collect()
    assert ref() is None
    with twospeed.Engine(path) as again:   # the store was closed and can be opened again
        assert again.get_portfolio("retailer")["revision"] == 1
