"""Acknowledged writes survive SIGKILL.

A child process (durability_writer.py) writes to a file-backed store in a loop and prints "ack S"
only after the response to write S came back. The parent kills it with SIGKILL in the middle of the
stream, reopens the store in this process and checks that every acknowledged write is there, that at
most the one write in flight when the child died is there beyond them, and that the store is sound.
Three rounds on the same file, each killed at a different moment, each rechecking the rounds before.
"""
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time

from conftest import Engine, library_path, retailer

WRITER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "durability_writer.py")
DEADLINE = 120  # seconds for one round


def start_writer(store, rnd, stderr):
    env = dict(os.environ, TWOSPEED_LIBRARY=library_path())
    proc = subprocess.Popen([sys.executable, WRITER, str(store), str(rnd)], stdout=subprocess.PIPE,
                            stderr=stderr, env=env, text=True, bufsize=1)
    lines = queue.Queue()

    def pump():
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    return proc, lines, reader


def next_line(lines, deadline):
    try:
        return lines.get(timeout=max(0.0, deadline - time.monotonic()))
    except queue.Empty:
        raise AssertionError("the writer stopped answering")


def run_round(store, rnd, kill_after, delay, tmp_path):
    """Starts a writer, kills it after `kill_after` acknowledgements (+ `delay` seconds) and returns
    the acknowledged write numbers, including any printed before the kill that were still unread."""
    with open(tmp_path / ("writer-%d.stderr" % rnd), "w+") as err:
        proc, lines, reader = start_writer(store, rnd, err)
        deadline = time.monotonic() + DEADLINE
        acked = []
        try:
            assert next_line(lines, deadline) == "ready"
            while len(acked) < kill_after:
                line = next_line(lines, deadline)
                assert line is not None and line.startswith("ack "), "writer said %r" % (line,)
                acked.append(int(line.split()[1]))
            if delay:
                time.sleep(delay)
            os.kill(proc.pid, signal.SIGKILL)
            assert proc.wait(timeout=30) == -signal.SIGKILL, "the writer ended before it was killed"
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        # Lines the child printed before it died were acknowledged too.
        reader.join(timeout=30)
        while True:
            line = lines.get_nowait() if not lines.empty() else None
            if line is None:
                break
            assert line.startswith("ack "), "writer said %r" % (line,)
            acked.append(int(line.split()[1]))
        err.seek(0)
        assert err.read() == ""
    assert acked == list(range(len(acked))), "acknowledgements out of order"
    return acked


def present_writes(doc, rnd):
    """The write numbers of round `rnd` found in the stored portfolio."""
    found = []
    metric = next(m for m in doc["metrics"] if m["id"] == "durability")
    for o in metric["observations"]:
        if o.get("source") == "round %d" % rnd:
            found.append(int(o["value"]) - rnd * 1000000)
    prefix = "r%d-p" % rnd
    for p in doc["products"]:
        if p["id"].startswith(prefix):
            s = int(p["id"][len(prefix):])
            assert p["name"] == "Written by round %d, write %d" % (rnd, s)
            found.append(s)
    return sorted(found)


def test_acknowledged_writes_survive_sigkill(tmp_path):
    store = tmp_path / "durable.db"
    with Engine(store) as e:
        e.call("portfolio.put", {"portfolio": retailer()})
        e.call("entity.upsert", {"portfolio": "retailer", "kind": "metric",
                                 "entity": {"id": "durability", "name": "Durability probe", "category": "delivery"}})
        base_revision = e.call("portfolio.get", {"id": "retailer"})["revision"]

    # Kill at different moments: right on the 200th acknowledgement, a little after the 250th, and
    # a while after the 300th.
    schedule = [(200, 0.0), (250, 0.002), (300, 0.02)]
    kept = {}  # round -> number of writes found after that round
    total = 0
    for rnd, (kill_after, delay) in enumerate(schedule):
        acked = run_round(store, rnd, kill_after, delay, tmp_path)
        assert len(acked) >= kill_after

        with Engine(store) as e:
            info = e.call("engine.info")
            assert info["portfolios"] == 1 and info["store"]["inMemory"] is False
            got = e.call("portfolio.get", {"id": "retailer"})
            doc = got["portfolio"]
            found = present_writes(doc, rnd)
            # Every acknowledged write is there; at most the one in flight is there beyond them.
            assert found[:len(acked)] == acked
            extra = found[len(acked):]
            assert extra in ([], [len(acked)]), "unacknowledged writes present: %r" % extra
            kept[rnd] = len(found)
            print("round %d: %d acknowledged, %d present" % (rnd, len(acked), len(found)))
            total += len(found)
            # Earlier rounds are untouched.
            for before in range(rnd):
                assert present_writes(doc, before) == list(range(kept[before]))
            # Consistent: one revision per write, counts agree with the document.
            assert got["revision"] == base_revision + total
            assert info["counts"]["products"] == len(doc["products"]) == 5 + sum((n // 2) for n in kept.values())
            assert info["counts"]["observations"] == sum(len(m["observations"]) for m in doc["metrics"])
            # And the store still takes writes.
            e.call("metric.observe", {"portfolio": "retailer", "metric": "nps",
                                      "observations": [{"at": "2026-12-01", "value": rnd}]})
            base_revision += 1

        con = sqlite3.connect(str(store))
        try:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            con.close()
