"""twospeed.read_deployments and read_incidents: the CLI's delivery log formats read into Python, held
to the engine's own reader (delivery.import) on the same files."""
import json
import os

import pytest

import twospeed

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EXAMPLES = os.path.join(ROOT, "examples", "delivery")
COMPANY = os.path.join(ROOT, "Tests", "Fixtures", "company", "delivery")
BACKSTAGE = os.path.join(ROOT, "examples", "backstage")


def stored(eng, portfolio):
    """What the engine holds of a portfolio's delivery, as the four keys of one year, system by system."""
    return eng.delivery_metrics(portfolio, until="2026-12-01T00:00:00Z", days=400)["windows"][0]


def company(eng, pid):
    eng.put_portfolio({"id": pid, "organization": {"name": "Company"},
                       "systems": [{"id": "svc-%03d" % n, "name": "Service %d" % n, "layer": "back-end"} for n in range(1, 201)]})


@pytest.mark.parametrize("deployments,incidents", [
    (os.path.join(COMPANY, "deployments.jsonl"), os.path.join(COMPANY, "incidents.csv")),
])
def test_the_readers_and_the_engine_read_the_same_events(deployments, incidents):
    with twospeed.Engine() as eng:
        company(eng, "by-python")
        company(eng, "by-engine")
        d, i = twospeed.read_deployments(deployments), twospeed.read_incidents(incidents)
        assert len(d) > 3000 and len(i) > 300 and all({"id", "system", "time"} <= set(x) for x in d)
        recorded = eng.record_delivery("by-python", deployments=d, incidents=i, atomic=True)
        assert recorded["problemCount"] == 0
        eng.import_delivery("by-engine", "deployments", deployments, atomic=True)
        eng.import_delivery("by-engine", "incidents", incidents, atomic=True)
        a, b = stored(eng, "by-python"), stored(eng, "by-engine")
        assert a["systems"] == b["systems"] and a["all"] == b["all"] and a["all"]["deployments"] == len(d)


def test_csv_as_the_cli_reads_it(tmp_path):
    log = tmp_path / "deploys.csv"
    log.write_bytes("\ufeffId;System;Time;Failed;Changes\r\n"
                    'd1;web;2026-11-01T10:00:00Z;no;"c1@2026-10-30T10:00:00Z; c2@2026-10-31T08:00:00Z"\r\n'
                    "d2;web;2026-11-02T10:00:00Z;YES;\r\n"
                    ";;;;\r\n".encode("utf-8"))
    assert twospeed.read_deployments(log) == [
        {"id": "d1", "system": "web", "time": "2026-11-01T10:00:00Z", "failed": False,
         "changes": [{"id": "c1", "committed": "2026-10-30T10:00:00Z"}, {"id": "c2", "committed": "2026-10-31T08:00:00Z"}]},
        {"id": "d2", "system": "web", "time": "2026-11-02T10:00:00Z", "failed": True}]
    inc = tmp_path / "inc.csv"
    inc.write_text("id,system,started\ni1,web,2026-11-02T11:00:00Z\n")
    assert twospeed.read_incidents(inc) == [{"id": "i1", "system": "web", "started": "2026-11-02T11:00:00Z"}]


def test_bad_records_are_named_by_file_line_and_column(tmp_path):
    log = tmp_path / "d.csv"
    log.write_text("id,system,time,failed,changes\nd1,web,2026-11-01,maybe,\nd2,web,2026-11-01,no,c1\n")
    with pytest.raises(ValueError) as e:
        twospeed.read_deployments(log)
    assert "%s:2:4: failed: expected true or false" % log in str(e.value)
    assert "%s:3:5: changes: a change is changeId@commitTime" % log in str(e.value)
    bad = tmp_path / "d.jsonl"
    bad.write_text('{"id":"d1","system":"web","time":"2026-11-01"}\n\n[1]\n{"id":\n')
    with pytest.raises(ValueError) as e:
        twospeed.read_deployments(bad)
    assert "d.jsonl:3: an event is a JSON object" in str(e.value) and "d.jsonl:4: not JSON" in str(e.value)
    header = tmp_path / "h.csv"
    header.write_text("id,system,when\n")
    with pytest.raises(ValueError, match=r'h.csv:1:3: unknown column "when"'):
        twospeed.read_incidents(header)


def test_the_bundled_logs_read_and_record_into_the_bundled_catalog():
    with twospeed.Engine() as eng:
        eng.import_backstage("shop", [BACKSTAGE])
        d = twospeed.read_deployments(os.path.join(EXAMPLES, "deployments.jsonl"))
        i = twospeed.read_incidents(os.path.join(EXAMPLES, "incidents.csv"))
        r = eng.record_delivery("shop", deployments=d, incidents=i)
        assert r["problemCount"] == 0 and r["deployments"]["skipped"] == 0 and r["incidents"]["skipped"] == 0
        assert json.loads(json.dumps(d)) == d
