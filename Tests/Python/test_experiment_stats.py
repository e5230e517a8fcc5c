"""experiment.evaluate cross-checked against scipy.stats.

The engine computes its statistics with its own code (erfc from the C library); these tests compute
the same figures with scipy and statsmodels-free textbook formulas on many cases, so a slip in either
shows. The cases cover small and large samples, wins, losses, ties, zero conversions and broken splits.
"""
import math

import pytest

scipy_stats = pytest.importorskip("scipy.stats")

CASES = [
    # control users, conversions, variant users, conversions, planned share
    (45120, 27975, 5030, 3390, 0.1),        # the retailer's lite checkout
    (8000, 4400, 1150, 650, 0.1),           # the telco's router restart: split off
    (10000, 1200, 10000, 1000, 0.5),        # a clear loss
    (1000, 100, 1000, 104, 0.5),            # a tie
    (500, 0, 480, 3, 0.5),                  # zero conversions in control
    (123456, 6789, 13717, 812, 0.1),
    (50, 20, 52, 31, 0.5),                  # small samples
    (9000, 3420, 1010, 395, 0.1),           # the bank's video KYC
]


def reference(n1, c1, n2, c2, share, confidence=0.95):
    p1, p2 = c1 / n1, c2 / n2
    pooled = (c1 + c2) / (n1 + n2)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (p2 - p1) / se_pooled if se_pooled > 0 else 0.0
    p = 2 * scipy_stats.norm.sf(abs(z)) if se_pooled > 0 else 1.0
    zc = scipy_stats.norm.ppf(1 - (1 - confidence) / 2)
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    total = n1 + n2
    chi2, srm_p = scipy_stats.chisquare([n1, n2], [total * (1 - share), total * share])
    return {"p1": p1, "p2": p2, "z": z, "p": p, "low": p2 - p1 - zc * se, "high": p2 - p1 + zc * se,
            "chi2": chi2, "srm_p": srm_p, "zc": zc}


@pytest.mark.parametrize("n1,c1,n2,c2,share", CASES)
def test_matches_scipy(engine, n1, c1, n2, c2, share):
    got = engine.call("experiment.evaluate", {"control": {"users": n1, "conversions": c1},
                                              "variant": {"users": n2, "conversions": c2},
                                              "plannedShare": share})
    want = reference(n1, c1, n2, c2, share)
    assert got["control"]["rate"] == pytest.approx(want["p1"], rel=1e-12)
    assert got["variant"]["rate"] == pytest.approx(want["p2"], rel=1e-12)
    assert got["test"]["z"] == pytest.approx(want["z"], rel=1e-9, abs=1e-12)
    assert got["test"]["p"] == pytest.approx(want["p"], rel=1e-6, abs=1e-15)
    assert got["lift"]["absoluteInterval"]["low"] == pytest.approx(want["low"], rel=1e-9, abs=1e-12)
    assert got["lift"]["absoluteInterval"]["high"] == pytest.approx(want["high"], rel=1e-9, abs=1e-12)
    assert got["sampleRatio"]["chiSquare"] == pytest.approx(want["chi2"], rel=1e-9, abs=1e-12)
    assert got["sampleRatio"]["p"] == pytest.approx(want["srm_p"], rel=1e-6, abs=1e-15)
    assert got["sampleRatio"]["mismatch"] == (want["srm_p"] < 0.001)
    assert got["test"]["significant"] == (want["p"] < 0.05)
    if want["p1"] > 0 and want["p2"] > 0:
        # Relative lift interval from the log of the rate ratio (delta method).
        se_log = math.sqrt((1 - want["p1"]) / (n1 * want["p1"]) + (1 - want["p2"]) / (n2 * want["p2"]))
        ratio = math.log(want["p2"] / want["p1"])
        assert got["lift"]["relativeInterval"]["low"] == pytest.approx(math.exp(ratio - want["zc"] * se_log) - 1, rel=1e-9)
        assert got["lift"]["relativeInterval"]["high"] == pytest.approx(math.exp(ratio + want["zc"] * se_log) - 1, rel=1e-9)
    else:
        assert "relativeInterval" not in got["lift"]


@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.99, 0.999])
def test_other_confidence_levels(engine, confidence):
    got = engine.call("experiment.evaluate", {"control": {"users": 20000, "conversions": 2000},
                                              "variant": {"users": 20000, "conversions": 2100},
                                              "confidence": confidence})
    want = reference(20000, 2000, 20000, 2100, 0.5, confidence)
    assert got["lift"]["absoluteInterval"]["low"] == pytest.approx(want["low"], rel=1e-9)
    assert got["test"]["alpha"] == pytest.approx(1 - confidence)


def test_recommendations_follow_the_figures(engine):
    retailer_case = engine.call("experiment.evaluate", {"control": {"users": 45120, "conversions": 27975},
                                                        "variant": {"users": 5030, "conversions": 3390},
                                                        "rollout": [0.1, 0.5, 1.0], "stage": 0})
    assert retailer_case["recommendation"]["action"] == "expand"
    assert retailer_case["recommendation"]["nextShare"] == 0.5
    broken = engine.call("experiment.evaluate", {"control": {"users": 8000, "conversions": 4400},
                                                 "variant": {"users": 1150, "conversions": 650},
                                                 "rollout": [0.1, 0.5, 1.0], "stage": 0})
    assert broken["sampleRatio"]["mismatch"]
    assert broken["recommendation"]["action"] == "iterate"
    assert "split" in broken["recommendation"]["reason"]
    loss = engine.call("experiment.evaluate", {"control": {"users": 10000, "conversions": 1200},
                                               "variant": {"users": 10000, "conversions": 1000}})
    assert loss["recommendation"]["action"] == "roll-back"
    assert loss["recommendation"]["nextShare"] == 0
