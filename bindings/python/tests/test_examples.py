"""examples/python, run end to end as a user would: in-process, on a store file and through a daemon."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

import twospeed
from conftest import RETAILER, ROOT, retailer

EXAMPLES = os.path.join(ROOT, "examples", "python")
OBSERVE = os.path.join(EXAMPLES, "observe_csv.py")
EXPORT = os.path.join(EXAMPLES, "backoffice-export.csv")
ROLLOUT = os.path.join(EXAMPLES, "evaluate_rollout.py")


def run(*args, cwd=None):
    return subprocess.run([sys.executable] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=120, cwd=cwd or ROOT)


def export_rows():
    with open(EXPORT, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter=";"))[1:]
    return [(m, at, float(v.replace(".", "").replace(",", ".")), src) for m, at, v, src in rows]


def expected_scores(eng):
    """The assessment the example should print, computed here through the package."""
    eng.put_portfolio(retailer())
    by_metric = {}
    for m, at, v, src in export_rows():
        by_metric.setdefault(m, []).append((at, v, src))
    for m, obs in by_metric.items():
        eng.append_observations("retailer", m, obs)
    return eng.run_assessment("retailer")


def dimension_lines(out):
    lines = out.splitlines()
    start = lines.index(next(l for l in lines if l.startswith("Dimension")))
    return lines[start + 1:]


def test_observe_csv_in_process():
    r = run(OBSERVE, "--load", RETAILER, EXPORT)
    assert r.returncode == 0, r.stderr
    assert 'loaded portfolio "retailer" (revision 1)' in r.stdout
    assert "online-sales                 +1 observation (4 in all)" in r.stdout
    assert "payment-release-speed        +2 observations (2 in all)" in r.stdout
    with twospeed.Engine() as eng:
        want = expected_scores(eng)
    assert "assessment of Brightmart Retail, run 1, as of 2026-11-30: %.2f of 5" % want["overall"]["score"] in r.stdout
    got = dimension_lines(r.stdout)
    assert len(got) == len(want["dimensions"]) == 10
    for line, d in zip(got, want["dimensions"]):
        assert line.startswith(d["name"]) and ("%.2f  %d %s" % (d["score"], d["level"], d["levelName"])) in line


def test_observe_csv_parses_the_export_as_the_engine_receives_it(tmp_path):
    # The semicolon file's decimal commas and thousands dots: 9.410.000 is nine million, 26,9 a share.
    db = str(tmp_path / "store.sqlite")
    r = run(OBSERVE, "--db", db, "--load", RETAILER, EXPORT)
    assert r.returncode == 0, r.stderr
    with twospeed.Engine(db) as eng:
        sales = eng.get_entity("retailer", "metric", "online-sales")["observations"][-1]
        assert sales == {"at": "2026-11-30", "value": 9410000, "source": "ERP month-end close"}
        drop = eng.get_entity("retailer", "metric", "checkout-drop-off")["observations"][-1]
        assert drop == {"at": "2026-11-30", "value": 26.9, "source": "web analytics"}


def test_observe_csv_on_a_store_file_keeps_the_history(tmp_path):
    db = str(tmp_path / "store.sqlite")
    first = run(OBSERVE, "--db", db, "--load", RETAILER, EXPORT)
    assert first.returncode == 0, first.stderr
    second = run(OBSERVE, "--db", db, "--portfolio", "retailer", EXPORT)
    assert second.returncode == 0, second.stderr
    assert "online-sales                 +1 observation (5 in all)" in second.stdout
    assert ", run 2, as of" in second.stdout
    with twospeed.Engine(db) as eng:
        assert [r["run"] for r in eng.assessment_history("retailer")["runs"]] == [1, 2]


def test_observe_csv_through_the_daemon(daemon):
    with twospeed.Client(daemon.socket) as c:
        c.put_portfolio(retailer())
        r = run(OBSERVE, "--socket", daemon.socket, "--portfolio", "retailer", "--no-keep", EXPORT)
        assert r.returncode == 0, r.stderr
        assert "assessment of Brightmart Retail, as of 2026-11-30" in r.stdout     # not kept: no run number
        assert len(c.get_entity("retailer", "metric", "payment-release-speed")["observations"]) == 2
        assert c.assessment_history("retailer")["runs"] == []
        with twospeed.Engine() as eng:
            want = expected_scores(eng)
        assert dimension_lines(r.stdout)[0].split()[-3] == "%.2f" % want["dimensions"][0]["score"]


@pytest.mark.parametrize("content,message", [
    ("metric,date,value\nnps,2026-11-30,30\nnps,30.11.2026,31\n",
     'line 3 (at): not an RFC 3339 date-time or date: "30.11.2026"'),
    ("kpi\tdate\tamount\nnps\t2026-11-30\t30\nchurn\t2026-11-30\t3\n", 'line 3: no metric with id "churn"'),
    ("metric,date,value\nnps,2026-11-30,3x0\n", "line 2: value '3x0' is not a number"),
    ("metric,when\nnps,2026-11-30\n", "line 1: no at column"),
])
def test_observe_csv_names_the_line_of_bad_data(tmp_path, content, message):
    path = tmp_path / "export.csv"
    path.write_text(content)
    r = run(OBSERVE, "--load", RETAILER, path)
    assert r.returncode == 1
    assert message in r.stderr


def test_observe_csv_usage():
    r = run(OBSERVE, EXPORT)
    assert r.returncode == 2 and "give --portfolio" in r.stderr
    r = run(OBSERVE, "--portfolio", "retailer", EXPORT)
    assert r.returncode == 1 and 'no portfolio with id "retailer"' in r.stderr


def test_evaluate_rollout_in_process():
    r = run(ROLLOUT, 45120, 27975, 5030, 3390, "--rollout", "0.1,0.5,1", "--stage", 0)
    assert r.returncode == 0, r.stderr
    with twospeed.Engine() as eng:
        ev = eng.evaluate_experiment(control=(45120, 27975), variant=(5030, 3390), rollout=[0.1, 0.5, 1], stage=0)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["control", "45120", "users", "27975", "conversions", "62.00%"]
    assert lines[1].split() == ["variant", "5030", "users", "3390", "conversions", "67.40%"]
    assert lines[2].startswith("lift     %+.2f points (%+.1f%%), 95%% interval %+.2f points to %+.2f points" % (
        100 * ev["lift"]["absolute"], 100 * ev["lift"]["relative"], 100 * ev["lift"]["absoluteInterval"]["low"],
        100 * ev["lift"]["absoluteInterval"]["high"]))
    assert "p < 0.0001, significant" in lines[3]
    assert lines[4] == "split    variant 10.03% of users, planned 10.00%: sound"
    assert lines[5] == "next     expand at 50.00% of traffic"
    assert lines[6].strip() == ev["recommendation"]["reason"]


def test_evaluate_rollout_as_json_through_the_daemon(daemon):
    r = run(ROLLOUT, "--socket", daemon.socket, 1000, 100, 1000, 130, "--planned-share", 0.5, "--confidence", 0.9,
            "--json")
    assert r.returncode == 0, r.stderr
    with twospeed.Engine() as eng:
        want = eng.evaluate_experiment(control=(1000, 100), variant=(1000, 130), planned_share=0.5, confidence=0.9)
    assert json.loads(r.stdout) == want
    plain = run(ROLLOUT, "--socket", daemon.socket, 1000, 100, 1000, 130, "--planned-share", 0.5)
    local = run(ROLLOUT, 1000, 100, 1000, 130, "--planned-share", 0.5)
    assert plain.returncode == local.returncode == 0
    assert plain.stdout == local.stdout                 # the same whichever way the engine is reached


def test_evaluate_rollout_refuses_impossible_counts():
    r = run(ROLLOUT, 10, 20, 5, 10, "--planned-share", 0.5)
    assert r.returncode == 1
    assert r.stderr.splitlines() == ["error: control conversions: 20 conversions exceed 10 users",
                                     "error: variant conversions: 10 conversions exceed 5 users"]
    r = run(ROLLOUT, 10, 2, 5, 1, "--rollout", "0.1,0.5", "--stage", 4)
    assert r.returncode == 1 and "error: stage: stage 4 is past the last rollout stage" in r.stderr
    r = run(ROLLOUT, 10, "x", 5, 1)
    assert r.returncode == 2 and "not a whole number" in r.stderr
    r = run(ROLLOUT, 900, 90, 100, 12)
    assert r.returncode == 2 and "--planned-share" in r.stderr and "no split is assumed" in r.stderr
