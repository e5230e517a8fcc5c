"""twospeed.frames: results as DataFrames, with pandas when it is there, and a clear error when not."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import twospeed
from conftest import PACKAGE_ROOT, retailer


def test_without_pandas_the_error_says_how_to_get_it():
    code = textwrap.dedent("""
        import sys
        sys.modules["pandas"] = None          # as if pandas were not installed
        import twospeed, twospeed.frames as tf
        try:
            tf.dimensions({"dimensions": []})
        except ImportError as e:
            print(e)
            raise SystemExit(3)
        """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=os.pathsep.join([PACKAGE_ROOT] + sys.path)))
    assert r.returncode == 3, r.stderr
    assert "twospeed.frames needs pandas" in r.stdout and "pip install pandas" in r.stdout


def test_importing_the_package_does_not_import_pandas():
    code = "import sys, twospeed, twospeed.frames; print('pandas' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=os.pathsep.join([PACKAGE_ROOT] + sys.path)))
    assert r.returncode == 0 and r.stdout.strip() == "False", r.stdout + r.stderr


pd = pytest.importorskip("pandas", reason="pandas is not installed (make test-python installs it with pip when it can)")
import twospeed.frames as tf  # noqa: E402


@pytest.fixture(scope="module")
def runs():
    with twospeed.Engine() as eng:
        eng.put_portfolio(retailer())
        first = eng.run_assessment("retailer")
        eng.append_observations("retailer", "nps", [("2026-12-31", 12)])
        second = eng.run_assessment("retailer", as_of="2026-12-31")
        yield eng, first, second, eng.assessment_history("retailer")


def test_dimensions(runs):
    _, result, _, _ = runs
    df = tf.dimensions(result)
    assert list(df.index) == [d["id"] for d in result["dimensions"]] and len(df) == 10
    arch = result["dimensions"][0]
    assert df.loc[arch["id"], "score"] == arch["score"] and df.loc[arch["id"], "levelName"] == arch["levelName"]
    capped = [d for d in result["dimensions"] if d.get("caps")]
    assert capped and df.loc[capped[0]["id"], "caps"] == "; ".join(c["reason"] for c in capped[0]["caps"])
    assert df.loc[capped[0]["id"], "scoreLevel"] > df.loc[capped[0]["id"], "level"]


def test_criteria(runs):
    _, result, _, _ = runs
    df = tf.criteria(result)
    assert len(df) == sum(len(d["criteria"]) for d in result["dimensions"])
    c = result["dimensions"][0]["criteria"][0]
    row = df.loc[(result["dimensions"][0]["id"], c["id"])]
    assert row["detail"] == c["fact"]["detail"] and row["score"] == c["score"] and row["basis"] == c["basis"]
    assert df["score"].between(1, 5).all() or df["score"].isna().any()


def test_pitfalls_and_recommendations(runs):
    eng, result, _, _ = runs
    p = tf.pitfalls(result)
    assert list(p["pitfall"]) == [f["pitfall"] for f in result["pitfalls"]]
    assert p.iloc[0]["subjects"] == ", ".join(s["name"] for s in result["pitfalls"][0]["subjects"])
    assert tf.pitfalls(eng.pitfalls("retailer"))["pitfall"].tolist() == p["pitfall"].tolist()
    r = tf.recommendations(result)
    assert list(r.index) == list(range(1, len(result["recommendations"]) + 1))
    assert r.loc[1, "title"] == result["recommendations"][0]["title"]
    assert r.loc[1, "severity"] == "high"


def test_history(runs):
    _, first, second, history = runs
    df = tf.history(history)
    assert list(df.index) == [first["run"], second["run"]]
    assert df.loc[second["run"], "overall"] == second["overall"]["score"]
    assert df.loc[first["run"], "culture"] == next(d["score"] for d in first["dimensions"] if d["id"] == "culture")
    # Times as datetimes (UTC), so that they sort, subtract and plot as times.
    assert df.loc[second["run"], "asOf"] == pd.Timestamp("2026-12-31", tz="UTC")
    assert str(df["at"].dtype).startswith("datetime64") and df["at"].dt.tz is not None
    assert df.loc[second["run"], "at"] >= df.loc[first["run"], "at"]


def test_coverage(runs):
    eng, result, _, _ = runs
    df = tf.coverage(result)
    assert df.equals(tf.coverage(eng.coverage("retailer")))
    assert df.loc[("online-shopping", "online-shopping/cart"), "status"] == "uncovered"
    assert df.loc[("online-shopping", "online-shopping/checkout"), "owners"] == "Daniel Ortiz, Peter Lang"   # doubly owned


def test_the_package_readme_frames_example_runs(tmp_path):
    with open(os.path.join(PACKAGE_ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    example = next(b for b in (c.split("```", 1)[0] for c in readme.split("```py\n")[1:]) if "twospeed.frames" in b)
    root = os.path.dirname(os.path.dirname(PACKAGE_ROOT))
    r = subprocess.run([sys.executable, "-c", example], cwd=root, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=os.pathsep.join([PACKAGE_ROOT] + sys.path)))
    assert r.returncode == 0, r.stderr
    assert "text" in r.stdout and "score" in r.stdout and "overall" in r.stdout and "culture" in r.stdout
    with twospeed.Engine() as eng:
        eng.put_portfolio(retailer())
        weakest = tf.criteria(eng.run_assessment("retailer")).sort_values("score").iloc[0]
    assert weakest["text"][:30] in r.stdout


def test_speed_and_couplings(runs):
    eng, result, _, _ = runs
    df = tf.speed(result)
    assert df.equals(tf.speed(eng.speed("retailer")))
    systems = result["analyses"]["speed"]["systems"]
    assert list(df.index) == [s["system"]["id"] for s in systems]
    wc = next(s for s in systems if s["system"]["id"] == "web-checkout")
    assert df.loc["web-checkout", "tier"] == wc["tier"] and df.loc["web-checkout", "deploysPerMonth"] == wc["delivery"]["deploysPerMonth"]
    assert df.loc["web-checkout", "bucket_changeFailureRate"] == wc["byKey"]["changeFailureRate"]
    c = tf.couplings(result)
    first = result["analyses"]["speed"]["couplings"][0]
    assert len(c) == len(result["analyses"]["speed"]["couplings"])
    assert (c.iloc[0]["from"], c.iloc[0]["to"], c.iloc[0]["blocking"]) == (first["from"]["id"], first["to"]["id"], first["blocking"])


def test_four_keys():
    with twospeed.Engine() as eng:
        eng.put_portfolio(retailer())
        eng.record_delivery("retailer", deployments=[
            {"id": "d1", "system": "web-checkout", "time": "2026-11-01T10:00:00Z",
             "changes": [{"id": "c1", "committed": "2026-10-30T10:00:00Z"}]},
            {"id": "d2", "system": "web-checkout", "time": "2026-11-03T10:00:00Z", "failed": True},
            {"id": "d3", "system": "erp", "time": "2026-11-04T10:00:00Z"}],
            incidents=[{"id": "i1", "system": "web-checkout", "started": "2026-11-03T11:00:00Z",
                        "resolved": "2026-11-03T13:00:00Z", "cause": "d2"}])
        m = eng.delivery_metrics("retailer", until="2026-11-30T00:00:00Z", windows=2)
    df = tf.four_keys(m)
    assert len(df) == sum(len(w["systems"]) + 1 for w in m["windows"])
    newest = pd.Timestamp("2026-11-30T00:00:00Z")
    row = df.loc[(newest, "web-checkout")]
    assert row["deployments"] == 2 and row["failedDeployments"] == 1 and row["changeFailureRate"] == 0.5
    assert row["recoveryHours"] == 2 and row["leadTimeHours"] == 48
    assert row["bucket_changeFailureRate"] == m["windows"][0]["systems"][0]["buckets"]["changeFailureRate"]
    assert df.loc[(newest, "*"), "deployments"] == 3
    assert str(df["from"].dtype).startswith("datetime64") and df.loc[(newest, "erp"), "from"] < newest


def test_okrs_accountability_prioritization(runs):
    eng, result, _, _ = runs
    o = tf.objectives(result)
    objectives = result["analyses"]["okrs"]["objectives"]
    assert list(o.index) == [x["okr"]["id"] for x in objectives]
    assert o.loc[objectives[0]["okr"]["id"], "keyResults"] == len(objectives[0]["keyResults"])
    assert o.equals(tf.objectives(eng.okr_alignment("retailer")))
    k = tf.key_results(result)
    assert len(k) == sum(len(x["keyResults"]) for x in objectives)
    assert k.iloc[0]["target"] == objectives[0]["keyResults"][0].get("target")
    a = tf.accountability(result)
    managers = result["analyses"]["accountability"]["managers"]
    assert list(a.index) == [m["manager"]["id"] for m in managers]
    assert a.loc["pm-checkout", "share"] == next(m["share"] for m in managers if m["manager"]["id"] == "pm-checkout")
    p = tf.prioritization(result)
    ranked = result["analyses"]["prioritization"]["ranked"]
    assert p.iloc[0]["id"] == ranked[0]["product"]["id"] and p.iloc[0]["score"] == ranked[0]["score"]
    assert len(p) == len(ranked) + len(result["analyses"]["prioritization"]["unscored"])
    assert set(tf.prioritization(eng.prioritize("retailer", method="rice"))["method"]) == {"rice"}


def test_experiments(runs):
    eng, result, _, _ = runs
    df = tf.experiments(result)
    e = result["analyses"]["experiments"][0]
    assert list(df["experiment"]) == [x["experiment"] for x in result["analyses"]["experiments"]]
    row = df.iloc[0]
    assert row["variantUsers"] == e["variant"]["users"] and row["liftRelative"] == e["lift"]["relative"]
    assert row["liftAbsoluteLow"] == e["lift"]["absoluteInterval"]["low"] and row["action"] == e["recommendation"]["action"]
    one = tf.experiments(eng.evaluate_experiment(control=(1000, 100), variant=(1000, 130), planned_share=0.5))
    assert len(one) == 1 and one.iloc[0]["controlUsers"] == 1000 and bool(one.iloc[0]["significant"])


def test_the_package_readme_delivery_example_runs():
    with open(os.path.join(PACKAGE_ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    example = next(b for b in (c.split("```", 1)[0] for c in readme.split("```py\n")[1:]) if "record_delivery" in b)
    root = os.path.dirname(os.path.dirname(PACKAGE_ROOT))
    r = subprocess.run([sys.executable, "-c", example], cwd=root, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=os.pathsep.join([PACKAGE_ROOT] + sys.path)))
    assert r.returncode == 0, r.stderr
    assert "web-checkout" in r.stdout and "0.5" in r.stdout and "1.5" in r.stdout


def test_advice_and_outcomes():
    with twospeed.Engine() as eng:
        eng.put_portfolio(retailer())
        eng.run_assessment("retailer", as_of="2026-05-01")
        first = eng.get_assessment("retailer")["recommendations"][0]["key"]
        product = eng.call("entity.get", {"portfolio": "retailer", "kind": "product", "id": "store-locator"})["entity"]
        eng.call("entity.upsert", {"portfolio": "retailer", "kind": "product", "entity": dict(product, owner="pm-front")})
        system = eng.call("entity.get", {"portfolio": "retailer", "kind": "system", "id": "locator-app"})["entity"]
        eng.call("entity.upsert", {"portfolio": "retailer", "kind": "system",
                                   "entity": dict(system, interfaces=[{"to": "order-service", "kind": "api"}])})
        eng.run_assessment("retailer", as_of="2026-06-01")
        second = eng.get_assessment("retailer")["recommendations"][0]["key"]
        eng.dismiss_recommendation("retailer", second, "not this year")
        history = eng.recommendation_history("retailer")
        report = eng.recommendation_outcomes("retailer")
        then = eng.recommendation_history("retailer", up_to_run=1)
        with pytest.raises(twospeed.NotFound) as missing:
            eng.recommendation_history("retailer", up_to_run=7)
    assert missing.value.data["pointer"] == "/upToRun"
    assert [r["run"] for r in then["runs"]] == [1]
    assert list(tf.advice_runs(then).loc[first]["status"]) == ["open"]
    df = tf.advice(history)
    assert df.loc[first, "status"] == "resolved" and df.loc[first, "resolvedAt"] == 2
    assert df.loc[second, "status"] == "dismissed" and df.loc[second, "dismissalReason"] == "not this year"
    assert df.loc[second, "dismissedBy"] == "unknown"
    runs = tf.advice_runs(history)
    assert list(runs.loc[first]["status"]) == ["open", "resolved"]
    assert runs.loc[(first, 2), "asOf"] == pd.Timestamp("2026-06-01", tz="UTC")
    out = tf.outcomes(report)
    assert list(out["key"]) == [first]
    assert out.iloc[0]["status"] == "insufficient data" and pd.isna(out.iloc[0]["shift"])
