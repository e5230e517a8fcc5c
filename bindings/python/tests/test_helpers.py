"""Every typed helper, call, notify and send, through both transports (in-process and the daemon)."""
from __future__ import annotations

import datetime
import json

import pytest

import twospeed
from conftest import retailer


def test_info(conn):
    info = conn.info()
    assert info["version"] == twospeed.__version__
    assert info["abiVersion"] == twospeed.ABI_VERSION
    assert info["store"]["inMemory"] is True
    assert info["portfolios"] == 0


def test_discover_lists_the_methods_of_every_helper(conn):
    doc = conn.discover()
    names = {m["name"] for m in doc["methods"]}
    for method in ("engine.info", "rpc.discover", "portfolio.put", "portfolio.get", "portfolio.list",
                   "portfolio.delete", "entity.get", "entity.list", "entity.upsert", "entity.remove",
                   "metric.observe", "assessment.run", "assessment.get", "assessment.history",
                   "experiment.evaluate", "report.render"):
        assert method in names


def test_put_and_get_portfolio(conn):
    doc = retailer()
    put = conn.put_portfolio(doc)
    assert (put["id"], put["revision"], put["created"]) == ("retailer", 1, True)
    assert put["counts"]["products"] == 5
    got = conn.get_portfolio("retailer")
    assert got["revision"] == 1 and got["updated"] == put["updated"]
    assert got["portfolio"]["id"] == "retailer"
    assert [p["id"] for p in got["portfolio"]["products"]] == [p["id"] for p in doc["products"]]
    again = conn.put_portfolio(doc, if_revision=1)
    assert (again["revision"], again["created"]) == (2, False)


def test_put_portfolio_if_revision_mismatch(loaded):
    with pytest.raises(twospeed.RevisionMismatch) as e:
        loaded.put_portfolio(retailer(), if_revision=7)
    assert e.value.revision == 1
    assert loaded.get_portfolio("retailer")["revision"] == 1


def test_list_and_delete_portfolios(loaded):
    bank = dict(retailer(), id="second")
    loaded.put_portfolio(bank)
    summaries = loaded.list_portfolios()
    assert [s["id"] for s in summaries] == ["retailer", "second"]
    assert summaries[0]["name"] == "Brightmart Retail" and summaries[0]["industry"] == "retail"
    assert loaded.delete_portfolio("second", if_revision=1) == {"id": "second", "deleted": True}
    assert [s["id"] for s in loaded.list_portfolios()] == ["retailer"]
    with pytest.raises(twospeed.NotFound):
        loaded.get_portfolio("second")


def test_get_and_list_entities(loaded):
    checkout = loaded.get_entity("retailer", "product", "checkout")
    assert checkout["owner"] == "pm-checkout"
    products = loaded.list_entities("retailer", "product")
    assert [p["id"] for p in products] == [p["id"] for p in retailer()["products"]]
    assert loaded.list_entities("retailer", "okr")[0]["id"] == retailer()["okrs"][0]["id"]


def test_upsert_product_creates_then_replaces(loaded):
    r = loaded.upsert_product("retailer", {"id": "returns", "name": "Returns", "status": "idea"})
    assert r == {"kind": "product", "id": "returns", "created": True, "revision": 2}
    r = loaded.upsert_product("retailer", {"id": "returns", "name": "Easy returns", "status": "discovery"},
                              if_revision=2)
    assert (r["created"], r["revision"]) == (False, 3)
    assert loaded.get_entity("retailer", "product", "returns")["name"] == "Easy returns"


def test_upsert_entity_and_remove_entity(loaded):
    loaded.upsert_entity("retailer", "team", {"id": "t-returns", "name": "Returns squad", "size": 6})
    assert loaded.get_entity("retailer", "team", "t-returns")["size"] == 6
    r = loaded.remove_entity("retailer", "team", "t-returns")
    assert (r["kind"], r["id"], r["revision"]) == ("team", "t-returns", 3)
    with pytest.raises(twospeed.NotFound) as e:
        loaded.get_entity("retailer", "team", "t-returns")
    assert e.value.pointer == "/id"


def test_append_observations_takes_mappings_tuples_dates_and_aware_datetimes(loaded):
    before = len(loaded.get_entity("retailer", "metric", "nps")["observations"])
    utc = datetime.timezone.utc
    r = loaded.append_observations("retailer", "nps", [
        {"at": "2026-11-30", "value": 28, "source": "survey"},
        ("2026-12-31", 30),
        (datetime.date(2027, 1, 31), 31.5, "survey"),
        (datetime.datetime(2027, 2, 28, 12, 30, tzinfo=utc), 33),
    ])
    assert r == {"metric": "nps", "appended": 4, "total": before + 4, "revision": 2}
    obs = loaded.get_entity("retailer", "metric", "nps")["observations"][-4:]
    assert [o["at"] for o in obs] == ["2026-11-30", "2026-12-31", "2027-01-31", "2027-02-28T12:30:00+00:00"]
    assert [o["value"] for o in obs] == [28, 30, 31.5, 33]
    assert obs[0]["source"] == "survey" and "source" not in obs[1]


def test_append_observations_refuses_what_json_cannot_say(loaded):
    with pytest.raises(ValueError, match="naive datetime"):
        loaded.append_observations("retailer", "nps", [(datetime.datetime(2027, 1, 1), 3)])
    with pytest.raises(ValueError):
        loaded.append_observations("retailer", "nps", [("2027-01-01", float("nan"))])
    with pytest.raises(TypeError, match="observation"):
        loaded.append_observations("retailer", "nps", [42])
    assert loaded.get_portfolio("retailer")["revision"] == 1


def test_run_get_and_history_of_assessments(loaded):
    first = loaded.run_assessment("retailer", as_of=datetime.date(2026, 10, 31))
    assert first["run"] == 1 and first["asOf"].startswith("2026-10-31")
    assert first["organization"] == "Brightmart Retail"
    dims = {d["id"]: d for d in first["dimensions"]}
    assert "architecture" in dims and 1 <= dims["architecture"]["score"] <= 5
    assert 1 <= first["overall"]["score"] <= 5
    loaded.append_observations("retailer", "payment-release-speed", [("2026-11-30", 12)])
    second = loaded.run_assessment("retailer")
    assert second["run"] == 2 and second["revision"] == 2
    unkept = loaded.run_assessment("retailer", keep=False)
    assert "run" not in unkept
    assert loaded.get_assessment("retailer", 1)["overall"] == first["overall"]
    history = loaded.assessment_history("retailer")
    assert [r["run"] for r in history["runs"]] == [1, 2]
    assert history["runs"][0]["dimensions"]["architecture"] == dims["architecture"]["score"]
    assert "change" in loaded.assessment_history("retailer", compare=(1, 2))
    with pytest.raises(twospeed.NotFound) as e:
        loaded.get_assessment("retailer", 9)
    assert e.value.pointer == "/run"


def test_run_assessment_with_answers(loaded):
    criterion = loaded.run_assessment("retailer", keep=False)["dimensions"][0]["criteria"][0]["id"]
    r = loaded.run_assessment("retailer", answers=[{"criterion": criterion, "score": 5}], keep=False)
    c = r["dimensions"][0]["criteria"][0]
    assert c["answer"]["score"] == 5
    with pytest.raises(twospeed.InvalidParams) as e:
        loaded.run_assessment("retailer", answers=[{"criterion": "no.such", "score": 5}])
    assert e.value.pointer == "/answers/0/criterion"


def test_evaluate_experiment_from_counts(conn):
    ev = conn.evaluate_experiment(control=(1000, 100), variant={"users": 1000, "conversions": 130},
                                  planned_share=0.5)
    assert ev["control"] == {"users": 1000, "conversions": 100, "rate": 0.1}
    assert ev["lift"]["absolute"] == pytest.approx(0.03)
    assert ev["lift"]["relative"] == pytest.approx(0.3)
    assert ev["test"]["p"] == pytest.approx(0.035488, abs=1e-5)
    assert ev["test"]["significant"] is True
    assert ev["sampleRatio"]["mismatch"] is False
    staged = conn.evaluate_experiment(control=(45120, 27975), variant=(5030, 3390), rollout=[0.1, 0.5, 1],
                                      stage=0, confidence=0.99)
    assert staged["confidence"] == 0.99
    assert staged["recommendation"]["action"] == "expand"
    assert staged["recommendation"]["nextShare"] == 0.5


@pytest.mark.parametrize("confidence,alpha", [(0.95, "0.05"), (0.9, "0.1"), (0.8, "0.2"), (0.99, "0.01"),
                                              (0.999, "0.001"), (0.975, "0.025")])
def test_alpha_prints_as_the_user_wrote_the_confidence(engine, confidence, alpha):
    # 1 - 0.95 is 0.050000000000000044 in binary floating point; the engine answers the 0.05 meant.
    result = engine.evaluate_experiment(control=(20000, 2000), variant=(20000, 2100), planned_share=0.5,
                                        confidence=confidence)
    assert repr(result["test"]["alpha"]) == alpha and result["confidence"] == confidence
    reply = engine.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "experiment.evaluate", "params": {
        "control": {"users": 20000, "conversions": 2000}, "variant": {"users": 20000, "conversions": 2100},
        "confidence": confidence}}))
    # The JSON text carries the same double (jansson prints a document's reals with the digits its most
    # precise real needs, so it may read 0.050000000000000003; it parses back to 0.05 exactly).
    text = reply.split('"alpha":', 1)[1].split("}", 1)[0]
    assert float(text) == float(alpha) and text.startswith(alpha), reply


def test_evaluate_experiment_asks_for_the_planned_split(conn):
    # A 10%/90% test: with its planned share the split is sound; no share is assumed when none is given.
    ev = conn.evaluate_experiment(control=(9000, 900), variant=(1000, 120), planned_share=0.1)
    assert ev["sampleRatio"]["mismatch"] is False and ev["sampleRatio"]["expectedShare"] == 0.1
    with pytest.raises(ValueError, match="planned_share"):
        conn.evaluate_experiment(control=(9000, 900), variant=(1000, 120))
    staged = conn.evaluate_experiment(control=(9000, 900), variant=(1000, 120), rollout=[0.1, 0.5], stage=0)
    assert staged["sampleRatio"]["mismatch"] is False


def test_evaluate_experiment_of_a_portfolio(loaded):
    ev = loaded.evaluate_experiment("retailer", "lite-checkout")
    assert ev["experiment"] == "lite-checkout"
    assert ev["variant"]["users"] == 5030
    with pytest.raises(twospeed.NotFound) as e:
        loaded.evaluate_experiment("retailer", "nope")
    assert e.value.pointer == "/experiment"


def test_evaluate_experiment_refuses_impossible_counts(conn):
    with pytest.raises(twospeed.InvalidParams) as e:
        conn.evaluate_experiment(control=(10, 20), variant=(5, 1), planned_share=0.5)
    assert e.value.errors == [twospeed.Issue("/control/conversions", "20 conversions exceed 10 users")]
    with pytest.raises(TypeError, match="arm"):
        conn.evaluate_experiment(control=(1, 2, 3), variant=(5, 1), planned_share=0.5)


def test_render_report(loaded):
    text = loaded.render_report("retailer", width=80)
    assert text.startswith("Brightmart Retail")
    assert "Two-speed architecture" in text
    result = loaded.run_assessment("retailer", keep=False)
    assert "Two-speed architecture" in loaded.render_report(result=result)


def test_call_with_named_and_positional_params(loaded):
    assert loaded.call("entity.get", ["retailer", "product", "checkout"])["entity"]["id"] == "checkout"
    assert loaded.call("entity.get", {"portfolio": "retailer", "kind": "product", "id": "checkout"})["kind"] == "product"
    assert loaded.call("portfolio.list")["portfolios"][0]["id"] == "retailer"


def test_call_results_keep_unicode(loaded):
    loaded.upsert_product("retailer", {"id": "kasse", "name": "Kasse – schnell ✓ 日本", "status": "idea"})
    assert loaded.get_entity("retailer", "product", "kasse")["name"] == "Kasse – schnell ✓ 日本"


def test_notify_runs_the_method_and_answers_nothing(loaded):
    assert loaded.notify("metric.observe", {"portfolio": "retailer", "metric": "nps",
                                            "observations": [{"at": "2026-11-30", "value": 1}]}) is None
    assert loaded.notify("no.such.method") is None          # errors of notifications are not answered
    assert loaded.get_portfolio("retailer")["revision"] == 2


def test_send_raw_text(loaded):
    reply = json.loads(loaded.send('{"jsonrpc":"2.0","method":"engine.info","id":"a"}'))
    assert reply["id"] == "a" and reply["result"]["portfolios"] == 1
    assert loaded.send(b'{"jsonrpc":"2.0","method":"engine.info"}') == ""
    batch = json.loads(loaded.send('[{"jsonrpc":"2.0","method":"engine.info","id":1},\n'
                                   ' {"jsonrpc":"2.0","method":"portfolio.get","params":{"id":"x"},"id":2},\n'
                                   ' {"jsonrpc":"2.0","method":"engine.info"}]'))
    assert [r["id"] for r in batch] == [1, 2]
    assert batch[1]["error"]["code"] == twospeed.ErrorCode.NOT_FOUND
    with pytest.raises(ValueError, match="NUL"):
        loaded.send('{"jsonrpc":"2.0","method":"engine.info","id":1}\0')
