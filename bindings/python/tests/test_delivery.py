"""record_delivery and delivery_metrics, through both transports: figures worked out by hand (issue 13)."""
from __future__ import annotations

import datetime

import pytest

import twospeed
import twospeed._types as types

UTC = datetime.timezone.utc
UNTIL = "2026-04-01T00:00:00Z"

# web-checkout, window [2026-03-02, 2026-04-01):
#   d1 carries c1 (3 h) and c2 (9 h); d2 failed; d3 carries c1 again (deployed twice: 27 h from its
#   commit) and c3 (1 h). An incident caused by d3 lasts 30 minutes; one with no cause lasts 90.
#   => 3 deployments, 2 successful; leads 1, 3, 9, 27 h: median 6 h; failures d2 and d3: 2 / 3;
#      recovery 0.5 h and 1.5 h: median 1 h.
DEPLOYMENTS = [
    {"id": "d1", "system": "web-checkout", "time": "2026-03-10T12:00:00Z",
     "changes": [{"id": "c1", "committed": "2026-03-10T09:00:00Z"}, {"id": "c2", "committed": "2026-03-10T03:00:00Z"}]},
    {"id": "d2", "system": "web-checkout", "time": datetime.date(2026, 3, 10), "failed": True},
    {"id": "d3", "system": "web-checkout", "time": datetime.datetime(2026, 3, 11, 12, tzinfo=UTC),
     "changes": [{"id": "c1", "committed": "2026-03-10T09:00:00Z"}, {"id": "c3", "committed": "2026-03-11T11:00:00Z"}]},
]
INCIDENTS = [
    {"id": "i1", "system": "web-checkout", "started": "2026-03-11T13:00:00Z", "resolved": "2026-03-11T13:30:00Z",
     "cause": "d3"},
    {"id": "i2", "system": "web-checkout", "started": "2026-03-20T00:00:00Z", "resolved": "2026-03-20T01:30:00Z"},
]


def web(conn: twospeed.Connection, **kw) -> types.FourKeys:
    m = conn.delivery_metrics("retailer", until=UNTIL, days=30, **kw)
    return next(s for s in m["windows"][0]["systems"] if s["system"] == "web-checkout")


def test_record_and_metrics_match_the_hand_computed_figures(loaded):
    r = loaded.record_delivery("retailer", deployments=DEPLOYMENTS, incidents=INCIDENTS)
    assert r["deployments"] == {"created": 3, "updated": 0, "unchanged": 0, "skipped": 0}
    assert r["incidents"]["created"] == 2 and r["problems"] == [] and r["problemCount"] == 0
    f = web(loaded)
    assert (f["deployments"], f["successfulDeployments"], f["failedDeployments"]) == (3, 2, 2)
    assert f["deploysPerMonth"] == pytest.approx(2 * 30.4375 / 30, abs=1e-4)
    assert f["changes"] == 4 and f["leadTimeHours"] == 6
    assert f["changeFailureRate"] == pytest.approx(2 / 3, abs=1e-4)
    assert f["recoveryHours"] == 1 and f["incidents"] == 2 and f["openIncidents"] == 0
    assert f["buckets"] == {"deploysPerMonth": "medium", "leadTimeHours": "elite", "changeFailureRate": "low",
                            "recoveryHours": "elite"}
    assert set(f) <= set(types.FourKeys.__required_keys__) | set(types.FourKeys.__optional_keys__)


def test_recording_again_counts_nothing_twice(loaded):
    loaded.record_delivery("retailer", deployments=DEPLOYMENTS, incidents=INCIDENTS)
    again = loaded.record_delivery("retailer", deployments=DEPLOYMENTS, incidents=INCIDENTS)
    assert again["deployments"]["unchanged"] == 3 and again["incidents"]["unchanged"] == 2
    assert web(loaded)["deployments"] == 3
    fixed = dict(DEPLOYMENTS[1], failed=False)
    assert loaded.record_delivery("retailer", deployments=[fixed])["deployments"]["updated"] == 1
    assert web(loaded)["changeFailureRate"] == pytest.approx(1 / 3, abs=1e-4)


def test_bad_events_are_reported_skipped_or_refused_with_atomic(loaded):
    bad = [{"id": "ok", "system": "cms", "time": "2026-03-05"},
           {"id": "x", "system": "cms", "time": "soon"}]
    r = loaded.record_delivery("retailer", deployments=bad)
    assert r["deployments"]["created"] == 1 and r["deployments"]["skipped"] == 1
    assert r["problems"] == [{"pointer": "/deployments/1/time",
                              "reason": 'not an RFC 3339 date-time or date: "soon"'}]
    with pytest.raises(twospeed.InvalidParams) as e:
        loaded.record_delivery("retailer", incidents=[{"id": "i", "system": "nowhere", "started": "2026-03-05"}],
                               atomic=True)
    assert [i.pointer for i in e.value.errors] == ["/incidents/0/system"]
    with pytest.raises(twospeed.NotFound):
        loaded.delivery_metrics("retailer", system="nowhere")
    # A single system asked for: no pooled figures beside it.
    m = loaded.delivery_metrics("retailer", system="cms", until=UNTIL, windows=2)
    assert len(m["windows"]) == 2 and "all" not in m["windows"][0]
    assert m["windows"][0]["systems"][0]["deployments"] == 1


def test_the_assessment_uses_the_computed_figures(loaded):
    loaded.record_delivery("retailer", deployments=DEPLOYMENTS, incidents=INCIDENTS)
    result = loaded.run_assessment("retailer", as_of="2026-03-31", keep=False)
    speed = {s["system"]["id"]: s for s in result["analyses"]["speed"]["systems"]}
    assert speed["web-checkout"]["source"] == "events" and speed["erp"]["source"] == "entered"
    assert result["analyses"]["delivery"]["windows"][0]["all"]["deployments"] == 3


def test_changes_as_an_object_from_id_to_commit_time(loaded):
    compact = [dict(d, changes={c["id"]: c["committed"] for c in d.get("changes", [])}) for d in DEPLOYMENTS]
    assert loaded.record_delivery("retailer", deployments=compact)["deployments"]["created"] == 3
    assert loaded.record_delivery("retailer", deployments=DEPLOYMENTS)["deployments"]["unchanged"] == 3
    assert web(loaded)["leadTimeHours"] == 6


def test_import_delivery_reads_csv_and_json_lines_as_the_command_line_does(loaded, tmp_path):
    # The same events as DEPLOYMENTS and INCIDENTS, as a spreadsheet and a log write them.
    csv_file = tmp_path / "deployments.csv"
    csv_file.write_text(
        "\ufeffid;system;time;failed;changes\r\n"
        'd1;web-checkout;2026-03-10T12:00:00Z;no;"c1@2026-03-10T09:00:00Z;c2@2026-03-10T03:00:00Z"\r\n'
        "d2;web-checkout;2026-03-10;yes;\r\n"
        'd3;web-checkout;2026-03-11T12:00:00Z;;"c1@2026-03-10T09:00:00Z;c3@2026-03-11T11:00:00Z"\r\n'
        "d4;web-checkout;2026-03-12;perhaps;\r\n", encoding="utf-8")
    r = loaded.import_delivery("retailer", "deployments", csv_file)
    assert r["deployments"]["created"] == 3 and r["deployments"]["skipped"] == 1 and r["records"] == 4
    assert r["problems"] == [{"pointer": "/text", "file": str(csv_file), "line": 5, "column": 4, "member": "failed",
                              "reason": 'expected true or false, found "perhaps"'}]
    lines = "\n".join(__import__("json").dumps(i) for i in INCIDENTS)
    assert loaded.import_delivery("retailer", "incidents", text=lines)["incidents"]["created"] == 2
    w = web(loaded)
    # The hand-computed figures of test_record_and_metrics_match_the_hand_computed_figures.
    assert (w["leadTimeHours"], round(w["changeFailureRate"], 4), w["recoveryHours"]) == (6, round(2 / 3, 4), 1)


def test_import_delivery_of_a_log_naming_none_of_the_systems_is_an_error(loaded):
    with pytest.raises(twospeed.InvalidParams) as e:
        loaded.import_delivery("retailer", "deployments", text='{"id":"m1","system":"mobile-app","time":"2026-03-10"}\n')
    assert [(i.pointer, i.reason) for i in e.value.errors] == [
        ("/text", 'text:1: system: the portfolio has no system "mobile-app"')]
    assert loaded.delivery_metrics("retailer", until=UNTIL)["windows"][0]["systems"] == []


FOURKEYS = __import__("os").path.join(__import__("os").path.dirname(__file__), "..", "..", "..", "Tests", "Fixtures", "fourkeys")


def test_import_fourkeys_reads_the_tables_as_bigquery_exports_them(loaded):
    import os
    r = loaded.import_fourkeys("retailer", [os.path.join(FOURKEYS, n) for n in ("changes.csv", "deployments.json", "incidents.json")],
                               system="web-checkout")
    assert (r["deployments"]["created"], r["incidents"]["created"], r["problemCount"]) == (3, 4, 0)
    assert len(r["notes"]) == 2
    w = web(loaded)
    # The hand-computed figures of FourKeysImportTests: leads 2, 6, 24, 24, 30 h; 1 failure in 3; recovery 2, 4, 6 h.
    assert (w["leadTimeHours"], w["changeFailureRate"], w["recoveryHours"], w["openIncidents"]) == (24, 0.3333, 4, 1)
