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
    assert df.loc[second["run"], "asOf"] == "2026-12-31"


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
