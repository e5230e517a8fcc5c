"""Concurrency stress of twospeedd: 16 clients on one daemon over a file store, every read method mixed
with writes, each answer checked to belong to the portfolio and revision it asked about.

twospeedd answers reads on its event loops and writes (and the methods that may block) on its thread
pool, all on one engine: this is the test that could break the promise that a peer that may read
cannot take the daemon down or read another portfolio's data. Client t owns portfolio "stress-t" and
is the only one writing there, so it knows that portfolio's revision and kept runs exactly.
"""
from __future__ import annotations

import copy
import json
import os
import random
import shutil
import socket
import tempfile
import threading
from typing import Any, Dict, Iterator, List, Optional

import pytest

from conftest import retailer

CLIENTS = 16
OPS = 120
ANALYSES = ["analysis.coverage", "analysis.prioritize", "analysis.speed", "analysis.okrs",
            "analysis.accountability", "analysis.pitfalls"]


class Line:
    """One connection speaking newline-framed JSON-RPC."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 0

    def call(self, method: str, params: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        self.next_id += 1
        req: Dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": self.next_id}
        if params is not None:
            req["params"] = params
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise AssertionError("%s: the daemon closed the connection" % method)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        resp = json.loads(line)
        assert resp.get("id") == self.next_id, (method, resp)
        assert "result" in resp, "%s %s: %s" % (method, json.dumps(params)[:200], json.dumps(resp)[:500])
        return resp["result"]

    def close(self) -> None:
        self.sock.close()


def doc(example: Dict[str, Any], index: int, generation: int) -> Dict[str, Any]:
    d = copy.deepcopy(example)
    d["id"] = "stress-%d" % index
    d["organization"]["name"] = "Org %d gen %d" % (index, generation)
    return d


def names(org: str, index: int) -> bool:
    return org.startswith("Org %d gen " % index)


@pytest.fixture
def fast_folder(tmp_path: Any) -> Iterator[str]:
    """A folder on tmpfs when there is one: the stress is of threads, not of the disk's fsync."""
    if os.access("/dev/shm", os.W_OK):
        folder = tempfile.mkdtemp(prefix="twospeed-stress-", dir="/dev/shm")
        yield folder
        shutil.rmtree(folder, ignore_errors=True)
    else:
        yield str(tmp_path)


def test_sixteen_clients_read_and_write_one_daemon(start_daemon: Any, fast_folder: str) -> None:
    d = start_daemon(db=os.path.join(fast_folder, "stress.db"), args=["--max-clients", "64"])
    example = retailer()
    product = example["products"][0]["id"]
    metric = example["metrics"][0]["id"]
    experiment = example["experiments"][0]["id"]
    base_observations = len(example["metrics"][0]["observations"])
    setup = Line(d.socket)
    methods = len(setup.call("rpc.discover")["methods"])
    state: List[Dict[str, Any]] = []
    for t in range(CLIENTS):
        rev = setup.call("portfolio.put", {"portfolio": doc(example, t, 0)})["revision"]
        run = setup.call("assessment.run", {"portfolio": "stress-%d" % t})["run"]
        state.append({"revision": rev, "runs": run, "observations": 0})
    setup.close()
    failures: List[str] = []
    lock = threading.Lock()
    ready = threading.Barrier(CLIENTS)

    def work(t: int) -> None:
        rng = random.Random(t)
        own = "stress-%d" % t
        mine = state[t]
        seen = [0] * CLIENTS
        c = Line(d.socket)

        def revision(q: int, rev: int, what: str) -> None:
            if q == t:
                assert rev == mine["revision"], "%s of own portfolio: revision %d, expected %d" % (what, rev, mine["revision"])
            else:
                assert rev >= seen[q], "%s of stress-%d: revision went back from %d to %d" % (what, q, seen[q], rev)
            seen[q] = max(seen[q], rev)

        ready.wait()
        try:
            for i in range(OPS):
                q = rng.randrange(CLIENTS)
                pid = "stress-%d" % q
                op = rng.randrange(16)
                if op == 0:
                    r = c.call("portfolio.put", {"portfolio": doc(example, t, i + 1), "ifRevision": mine["revision"]})
                    assert r["revision"] == mine["revision"] + 1, r
                    mine["revision"], mine["observations"] = r["revision"], 0
                elif op == 1:
                    p = dict(example["products"][0], name="Checkout %s call %d" % (own, i))
                    r = c.call("entity.upsert", {"portfolio": own, "kind": "product", "entity": p, "ifRevision": mine["revision"]})
                    assert r["revision"] == mine["revision"] + 1, r
                    mine["revision"] = r["revision"]
                elif op == 2:
                    r = c.call("metric.observe", {"portfolio": own, "metric": metric,
                                                  "observations": [{"at": "2026-10-31", "value": 30 + i % 7}]})
                    assert r["revision"] == mine["revision"] + 1, r
                    mine["revision"] = r["revision"]
                    mine["observations"] += 1
                elif op == 3:
                    r = c.call("assessment.run", {"portfolio": own})
                    assert r["portfolio"] == own and names(r["organization"], t), (r["portfolio"], r["organization"])
                    assert r["revision"] == mine["revision"], (r["revision"], mine["revision"])
                    assert r["run"] == mine["runs"] + 1, (r["run"], mine["runs"])
                    mine["runs"] = r["run"]
                elif op == 4:
                    assert c.call("engine.info")["portfolios"] == CLIENTS
                elif op == 5:
                    listed = c.call("portfolio.list")["portfolios"]
                    assert len(listed) == CLIENTS
                    for s in listed:
                        k = int(s["id"].split("-")[1])
                        assert names(s["name"], k), s
                        revision(k, s["revision"], "portfolio.list")
                elif op == 6:
                    r = c.call("portfolio.get", {"id": pid})
                    assert r["portfolio"]["id"] == pid and names(r["portfolio"]["organization"]["name"], q), pid
                    revision(q, r["revision"], "portfolio.get")
                    if q == t:
                        got = len(r["portfolio"]["metrics"][0]["observations"])
                        assert got == base_observations + mine["observations"], (got, mine["observations"])
                elif op == 7:
                    e = c.call("entity.get", {"portfolio": pid, "kind": "product", "id": product})["entity"]
                    assert e["id"] == product
                    assert not e["name"].startswith("Checkout stress-") or e["name"].startswith("Checkout %s call" % pid), (pid, e["name"])
                elif op == 8:
                    r = c.call("entity.list", {"portfolio": pid, "kind": "metric"})
                    assert len(r["entities"]) == len(example["metrics"])
                elif op == 9:
                    r = c.call("assessment.get", {"portfolio": pid, "run": 1})
                    assert r["portfolio"] == pid and names(r["organization"], q) and r["run"] == 1, (pid, r["portfolio"])
                elif op == 10:
                    r = c.call("assessment.history", {"portfolio": pid})
                    assert r["portfolio"] == pid
                    assert [x["run"] for x in r["runs"]] == list(range(1, len(r["runs"]) + 1))
                    if q == t:
                        assert len(r["runs"]) == mine["runs"], (len(r["runs"]), mine["runs"])
                elif op == 11:
                    assert c.call(rng.choice(ANALYSES), {"portfolio": pid})
                elif op == 12:
                    content = c.call("report.render", {"format": "markdown", "portfolio": pid})["content"]
                    assert content.startswith("# Org %d gen " % q), content[:60]
                elif op == 13:
                    assert len(c.call("rpc.discover")["methods"]) == methods
                elif op == 14:
                    assert c.call("experiment.evaluate", {"portfolio": pid, "experiment": experiment})
                else:
                    assert c.call("assessment.model.list")["models"]
        except Exception as e:  # every failure is reported, with the client that saw it
            with lock:
                failures.append("client %d: %r" % (t, e))
        finally:
            c.close()

    threads = [threading.Thread(target=work, args=(t,)) for t in range(CLIENTS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert failures == [], "\n".join(failures[:10]) + "\n" + d.read_log()[-2000:]
    # The daemon is still up, and what each client knows of its portfolio is what a new connection reads.
    check = Line(d.socket)
    for t in range(CLIENTS):
        assert check.call("portfolio.get", {"id": "stress-%d" % t})["revision"] == state[t]["revision"]
        assert len(check.call("assessment.history", {"portfolio": "stress-%d" % t})["runs"]) == state[t]["runs"]
    check.close()
    assert d.proc is not None and d.proc.poll() is None, d.read_log()
