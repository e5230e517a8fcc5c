"""The C ABI of libtwospeed driven from Python through plain ctypes."""
import ctypes
import json
import os
import threading

import jsonschema
import pytest

from conftest import Engine, RPCError, retailer

NON_ASCII = "Zahlung – 支払い – 🚀"


def normalized(value):
    """The engine's canonical form of a document: "lists are always present" (Entities.swift), so an
    absent list comes back as []. Dropping empty lists on both sides compares what was said."""
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items() if v != []}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def by_id(items):
    return {item["id"]: item for item in items}


def product(pid, name="A product", **extra):
    doc = {"id": pid, "name": name, "status": "idea"}
    doc.update(extra)
    return doc


# MARK: The library itself


def test_version_abi_and_errstr(lib):
    assert lib.twospeed_version() == b"0.1.0"
    assert lib.twospeed_abi_version() == 1
    assert lib.twospeed_errstr(0) == b"not an error"
    assert lib.twospeed_errstr(2) == b"cannot open or create the store file"
    assert lib.twospeed_errstr(99) == b"unknown error code"


def test_null_arguments_are_tolerated(lib, engine):
    assert lib.twospeed_open(None, None) == 1  # TWOSPEED_EINVAL
    assert lib.twospeed_call(None, b"{}") is None
    assert lib.twospeed_call(engine.handle, None) is None
    lib.twospeed_free(None)
    lib.twospeed_close(None)


def test_open_errors(lib, tmp_path):
    handle = ctypes.c_void_p(1)
    rc = lib.twospeed_open(os.fsencode(tmp_path / "missing" / "dir" / "x.db"), ctypes.byref(handle))
    assert rc == 2  # TWOSPEED_ECANTOPEN
    assert handle.value is None
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all, not even close" * 100)
    rc = lib.twospeed_open(os.fsencode(junk), ctypes.byref(handle))
    assert rc == 3  # TWOSPEED_ENOTSTORE
    assert handle.value is None


# MARK: Engines and portfolios


def test_engine_info_in_memory(engine):
    info = engine.call("engine.info")
    assert info["version"] == "0.1.0"
    assert info["abiVersion"] == 1
    assert info["store"]["inMemory"] is True
    assert info["portfolios"] == 0
    assert set(info["counts"]) == {"departments", "journeys", "products", "managers", "teams", "systems",
                                   "metrics", "okrs", "experiments", "observations"}
    assert all(v == 0 for v in info["counts"].values())


def test_memory_engine_via_explicit_name(lib):
    with Engine(":memory:", lib) as e:
        assert e.call("engine.info")["store"]["inMemory"] is True


def test_put_get_round_trip(engine, retailer_doc):
    put = engine.call("portfolio.put", {"portfolio": retailer_doc})
    assert put["id"] == "retailer" and put["created"] is True and put["revision"] == 1
    assert put["counts"]["products"] == 5 and put["counts"]["observations"] == 11

    got = engine.call("portfolio.get", {"id": "retailer"})
    assert got["revision"] == 1 and got["updated"] == put["updated"]
    doc = got["portfolio"]
    assert normalized(doc) == normalized(retailer_doc)
    # The same, spelled out kind by kind, so that a failure names what differs.
    assert doc["organization"] == normalized(retailer_doc["organization"])
    for kind in ("journeys", "products", "managers", "teams", "systems", "metrics", "okrs", "experiments"):
        assert list(by_id(doc[kind])) == list(by_id(retailer_doc[kind])), kind
        for eid, want in by_id(retailer_doc[kind]).items():
            assert normalized(by_id(doc[kind])[eid]) == normalized(want), (kind, eid)
    for want in retailer_doc["metrics"]:
        assert by_id(doc["metrics"])[want["id"]]["observations"] == want.get("observations", [])

    again = engine.call("portfolio.put", {"portfolio": retailer_doc})
    assert again["created"] is False and again["revision"] == 2


def test_file_backed_engine_persists(lib, tmp_path, retailer_doc):
    path = tmp_path / "store.db"
    with Engine(path, lib) as e:
        info = e.call("engine.info")
        assert info["store"]["inMemory"] is False
        assert info["store"]["path"].endswith("store.db")
        e.call("portfolio.put", {"portfolio": retailer_doc})
        e.call("metric.observe", {"portfolio": "retailer", "metric": "nps",
                                  "observations": [{"at": "2026-12-31", "value": 26}]})
        before = e.call("portfolio.get", {"id": "retailer"})
    assert path.exists()
    with Engine(path, lib) as e:
        after = e.call("portfolio.get", {"id": "retailer"})
        assert after == before
        assert e.call("engine.info")["portfolios"] == 1
        assert len(by_id(after["portfolio"]["metrics"])["nps"]["observations"]) == 2


def test_portfolio_list_and_delete(loaded, retailer_doc):
    other = {"id": "bank", "organization": {"name": "Small bank", "industry": "banking"}}
    loaded.call("portfolio.put", {"portfolio": other})
    listed = loaded.call("portfolio.list")["portfolios"]
    assert [p["id"] for p in listed] == ["bank", "retailer"]
    r = by_id(listed)["retailer"]
    assert r["name"] == "Brightmart Retail" and r["industry"] == "retail" and r["revision"] == 1
    assert r["counts"]["systems"] == 10
    assert loaded.call("portfolio.delete", {"id": "bank"}) == {"id": "bank", "deleted": True}
    assert [p["id"] for p in loaded.call("portfolio.list")["portfolios"]] == ["retailer"]
    assert loaded.call("engine.info")["portfolios"] == 1


# MARK: Entities and metrics


def test_entity_upsert_replace_get_remove(loaded):
    new = product("loyalty", "Loyalty programme", owner="pm-front", systems=["cms"])
    r = loaded.call("entity.upsert", {"portfolio": "retailer", "kind": "product", "entity": new})
    assert r == {"kind": "product", "id": "loyalty", "created": True, "revision": 2}

    got = loaded.call("entity.get", {"portfolio": "retailer", "kind": "product", "id": "loyalty"})
    assert got["kind"] == "product"
    assert normalized(got["entity"]) == new

    replaced = dict(new, name="Loyalty app", status="mvp")
    r = loaded.call("entity.upsert", {"portfolio": "retailer", "kind": "product", "entity": replaced})
    assert r["created"] is False and r["revision"] == 3
    got = loaded.call("entity.get", {"portfolio": "retailer", "kind": "product", "id": "loyalty"})
    assert got["entity"]["name"] == "Loyalty app" and got["entity"]["status"] == "mvp"

    listed = loaded.call("entity.list", {"portfolio": "retailer", "kind": "product"})
    assert [p["id"] for p in listed["entities"]][-1] == "loyalty"
    assert len(listed["entities"]) == 6

    r = loaded.call("entity.remove", {"portfolio": "retailer", "kind": "product", "id": "loyalty"})
    assert r["kind"] == "product" and r["id"] == "loyalty" and r["revision"] == 4
    with pytest.raises(RPCError) as e:
        loaded.call("entity.get", {"portfolio": "retailer", "kind": "product", "id": "loyalty"})
    assert e.value.code == -32000 and e.value.data["pointer"] == "/id"


def test_metric_observe_appends(loaded):
    obs = [{"at": "2026-11-30", "value": 27.4, "source": "web analytics"}, {"at": "2026-12-31", "value": 26.0}]
    r = loaded.call("metric.observe", {"portfolio": "retailer", "metric": "checkout-drop-off", "observations": obs})
    assert r == {"metric": "checkout-drop-off", "appended": 2, "total": 7, "revision": 2}
    metric = loaded.call("entity.get", {"portfolio": "retailer", "kind": "metric", "id": "checkout-drop-off"})["entity"]
    assert len(metric["observations"]) == 7
    assert metric["observations"][-2:] == obs
    assert metric["observations"][0] == {"at": "2026-06-30", "value": 37.5, "source": "web analytics"}
    assert loaded.call("engine.info")["counts"]["observations"] == 13


def test_metric_upsert_without_observations_keeps_them(loaded):
    before = loaded.call("entity.get", {"portfolio": "retailer", "kind": "metric", "id": "online-sales"})["entity"]
    assert len(before["observations"]) == 3
    changed = {k: v for k, v in before.items() if k != "observations"}
    changed["target"] = 11000000
    r = loaded.call("entity.upsert", {"portfolio": "retailer", "kind": "metric", "entity": changed})
    assert r["created"] is False
    after = loaded.call("entity.get", {"portfolio": "retailer", "kind": "metric", "id": "online-sales"})["entity"]
    assert after["target"] == 11000000
    assert after["observations"] == before["observations"]

    # Given explicitly, observations replace the old ones.
    changed["observations"] = [{"at": "2026-11-30", "value": 9300000}]
    loaded.call("entity.upsert", {"portfolio": "retailer", "kind": "metric", "entity": changed})
    after = loaded.call("entity.get", {"portfolio": "retailer", "kind": "metric", "id": "online-sales"})["entity"]
    assert after["observations"] == [{"at": "2026-11-30", "value": 9300000}]


def test_metric_upsert_without_observations_keeps_them_on_disk(lib, tmp_path, retailer_doc):
    path = tmp_path / "m.db"
    with Engine(path, lib) as e:
        e.call("portfolio.put", {"portfolio": retailer_doc})
        m = e.call("entity.get", {"portfolio": "retailer", "kind": "metric", "id": "nps"})["entity"]
        del m["observations"]
        m["target"] = 40
        e.call("entity.upsert", {"portfolio": "retailer", "kind": "metric", "entity": m})
    with Engine(path, lib) as e:
        m = e.call("entity.get", {"portfolio": "retailer", "kind": "metric", "id": "nps"})["entity"]
        assert m["target"] == 40
        assert m["observations"] == [{"at": "2026-09-30", "value": 24, "source": "quarterly survey"}]


# MARK: Errors


def test_if_revision_mismatch(loaded):
    for method, params in [
        ("entity.upsert", {"portfolio": "retailer", "kind": "product", "entity": product("x")}),
        ("metric.observe", {"portfolio": "retailer", "metric": "nps", "observations": [{"at": "2026-12-01", "value": 1}]}),
        ("portfolio.put", {"portfolio": retailer()}),
        ("portfolio.delete", {"id": "retailer"}),
    ]:
        resp = loaded.response(method, dict(params, ifRevision=7))
        err = resp["error"]
        assert err["code"] == -32005, method
        assert err["data"]["revision"] == 1
        assert err["data"]["pointer"] == "/ifRevision"
    # Nothing changed, and the right revision is accepted.
    assert loaded.call("portfolio.get", {"id": "retailer"})["revision"] == 1
    r = loaded.call("entity.upsert", {"portfolio": "retailer", "kind": "product", "entity": product("x"), "ifRevision": 1})
    assert r["revision"] == 2


def test_remove_referenced_manager_conflicts(loaded):
    resp = loaded.response("entity.remove", {"portfolio": "retailer", "kind": "manager", "id": "pm-front"})
    err = resp["error"]
    assert err["code"] == -32001
    assert err["data"]["pointer"] == "/id"
    pointers = {e["pointer"] for e in err["data"]["errors"]}
    assert {"/products/1/owner", "/managers/0/mentor", "/teams/1/manager", "/systems/1/owner"} <= pointers
    # Still there, revision unchanged.
    assert loaded.call("entity.get", {"portfolio": "retailer", "kind": "manager", "id": "pm-front"})["entity"]["name"] == "Aisha Rahman"
    assert loaded.call("portfolio.get", {"id": "retailer"})["revision"] == 1


def test_upsert_with_dangling_reference_is_invalid_params(loaded):
    # The new entity's own reference to nothing is the caller's mistake: -32602, pointer into params.
    resp = loaded.response("entity.upsert", {"portfolio": "retailer", "kind": "product",
                                             "entity": product("p1", team="no-such-team")})
    assert resp["error"]["code"] == -32602
    assert [e["pointer"] for e in resp["error"]["data"]["errors"]] == ["/entity/team"]


def test_upsert_breaking_stored_references_conflicts(loaded):
    # Replacing the journey without the stages that products use would leave those dangling: -32001,
    # listing every place in the stored portfolio.
    journey = {"id": "online-shopping", "name": "Online shopping", "stages": [{"id": "browse", "name": "Browse"}]}
    resp = loaded.response("entity.upsert", {"portfolio": "retailer", "kind": "journey", "entity": journey})
    err = resp["error"]
    assert err["code"] == -32001
    assert sorted(e["pointer"] for e in err["data"]["errors"]) == [
        "/products/0/stages/0", "/products/1/stages/0", "/products/3/stages/0", "/products/4/stages/0"]
    assert loaded.call("portfolio.get", {"id": "retailer"})["revision"] == 1
    stages = loaded.call("entity.get", ["retailer", "journey", "online-shopping"])["entity"]["stages"]
    assert len(stages) == 6


def test_unknown_portfolio_is_not_found(engine):
    resp = engine.response("portfolio.get", {"id": "nope"})
    assert resp["error"]["code"] == -32000
    assert resp["error"]["data"]["pointer"] == "/id"
    resp = engine.response("entity.list", {"portfolio": "nope", "kind": "product"})
    assert resp["error"]["code"] == -32000 and resp["error"]["data"]["pointer"] == "/portfolio"
    resp = engine.response("metric.observe", {"portfolio": "nope", "metric": "m", "observations": [{"at": "2026-01-01", "value": 1}]})
    assert resp["error"]["code"] == -32000 and resp["error"]["data"]["pointer"] == "/portfolio"


def test_invalid_params_lists_every_failure(engine):
    bad = {
        "id": "Not an id!",                          # 1: identifier pattern
        "organization": {"name": "Acme", "industry": "retail"},
        "products": [{"id": "p", "name": "P", "status": "wat"}],   # 2: enum
        "teams": [{"id": "t", "name": "T", "size": 0}],            # 3: minimum
    }
    resp = engine.response("portfolio.put", {"portfolio": bad})
    err = resp["error"]
    assert err["code"] == -32602
    pointers = [e["pointer"] for e in err["data"]["errors"]]
    assert sorted(pointers) == sorted(["/portfolio/id", "/portfolio/products/0/status", "/portfolio/teams/0/size"])
    assert all(e["reason"] for e in err["data"]["errors"])
    assert err["data"]["pointer"] in pointers
    assert engine.call("engine.info")["portfolios"] == 0


def test_invalid_params_unknown_and_missing(engine):
    resp = engine.response("portfolio.get", {"ID": "x"})
    pointers = sorted(e["pointer"] for e in resp["error"]["data"]["errors"])
    assert resp["error"]["code"] == -32602
    assert pointers == ["/ID", "/id"]


def test_envelope_errors(engine):
    assert json.loads(engine.call_text("{not json"))["error"]["code"] == -32700
    assert engine.response("no.such.method")["error"]["code"] == -32601
    resp = json.loads(engine.call_text('{"jsonrpc":"1.0","method":"engine.info","id":1}'))
    assert resp["error"]["code"] == -32600 and resp["error"]["data"]["pointer"] == "/jsonrpc"
    assert json.loads(engine.call_text("[]"))["error"]["code"] == -32600


# MARK: Params, batches, notifications


def test_positional_params(loaded):
    got = loaded.call("portfolio.get", ["retailer"])
    assert got["portfolio"]["id"] == "retailer"
    ent = loaded.call("entity.get", ["retailer", "system", "erp"])
    assert ent["entity"]["name"] == "ERP"
    r = loaded.call("entity.upsert", ["retailer", "product", product("pos"), 1])
    assert r["created"] is True and r["revision"] == 2
    r = loaded.call("metric.observe", ["retailer", "nps", [{"at": "2026-12-31", "value": 30}]])
    assert r["total"] == 2
    # Pointers keep the caller's positions.
    resp = loaded.response("entity.get", ["retailer", "no-kind", "erp"])
    assert resp["error"]["code"] == -32602
    assert [e["pointer"] for e in resp["error"]["data"]["errors"]] == ["/1"]
    resp = loaded.response("portfolio.get", ["retailer", "extra"])
    assert resp["error"]["code"] == -32602


def test_batch(loaded):
    batch = [
        {"jsonrpc": "2.0", "method": "engine.info", "id": "a"},
        {"jsonrpc": "2.0", "method": "portfolio.get", "params": {"id": "nope"}, "id": "b"},
        {"jsonrpc": "2.0", "method": "metric.observe", "params": {"portfolio": "retailer", "metric": "nps",
                                                                  "observations": [{"at": "2026-12-31", "value": 30}]}},
        {"jsonrpc": "2.0", "method": "entity.get", "params": ["retailer", "metric", "nps"], "id": 3},
    ]
    resp = loaded.request(batch)
    assert isinstance(resp, list) and len(resp) == 3
    by = {r["id"]: r for r in resp}
    assert by["a"]["result"]["portfolios"] == 1
    assert by["b"]["error"]["code"] == -32000
    # The notification ran before the request that follows it.
    assert len(by[3]["result"]["entity"]["observations"]) == 2


def test_notifications_return_empty_string(loaded):
    note = {"jsonrpc": "2.0", "method": "metric.observe",
            "params": {"portfolio": "retailer", "metric": "nps", "observations": [{"at": "2026-12-31", "value": 30}]}}
    assert loaded.call_text(json.dumps(note)) == ""
    assert loaded.call_text(json.dumps([note, note])) == ""
    # Even a failing notification is silent.
    assert loaded.call_text('{"jsonrpc":"2.0","method":"no.such.method"}') == ""
    m = loaded.call("entity.get", ["retailer", "metric", "nps"])["entity"]
    assert len(m["observations"]) == 4


# MARK: rpc.discover


def test_rpc_discover_is_complete_openrpc(engine):
    doc = engine.call("rpc.discover")
    assert doc["openrpc"].startswith("1.")
    assert doc["info"]["title"] == "TwoSpeed" and doc["info"]["version"] == "0.1.0"
    names = [m["name"] for m in doc["methods"]]
    for name in ["rpc.discover", "engine.info", "portfolio.put", "portfolio.get", "portfolio.list", "portfolio.delete",
                 "entity.get", "entity.list", "entity.upsert", "entity.remove", "metric.observe"]:
        assert name in names
    validator = jsonschema.Draft202012Validator
    for m in doc["methods"]:
        for p in m["params"]:
            assert isinstance(p.get("name"), str) and p["name"], m["name"]
            assert isinstance(p.get("schema"), dict) and p["schema"], (m["name"], p["name"])
            validator.check_schema(p["schema"])
        assert isinstance(m["result"].get("schema"), dict), m["name"]
        validator.check_schema(m["result"]["schema"])
    # rpc.discover's own result schema accepts the document.
    discover = next(m for m in doc["methods"] if m["name"] == "rpc.discover")
    jsonschema.validate(doc, discover["result"]["schema"])


def test_discover_schemas_validate_real_documents(loaded, retailer_doc):
    doc = loaded.call("rpc.discover")
    methods = {m["name"]: m for m in doc["methods"]}
    put_schema = next(p["schema"] for p in methods["portfolio.put"]["params"] if p["name"] == "portfolio")
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    jsonschema.validate(retailer_doc, put_schema, cls=jsonschema.Draft202012Validator, format_checker=checker)
    # And rejects a broken one, as the engine does.
    broken = dict(retailer_doc, id="Not an id!")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, put_schema, cls=jsonschema.Draft202012Validator)

    info = loaded.call("engine.info")
    jsonschema.validate(info, methods["engine.info"]["result"]["schema"], cls=jsonschema.Draft202012Validator,
                        format_checker=checker)
    for name, params in [("portfolio.get", {"id": "retailer"}), ("portfolio.list", None),
                         ("entity.get", {"portfolio": "retailer", "kind": "experiment", "id": "lite-checkout"}),
                         ("entity.list", {"portfolio": "retailer", "kind": "system"})]:
        jsonschema.validate(loaded.call(name, params), methods[name]["result"]["schema"],
                            cls=jsonschema.Draft202012Validator, format_checker=checker)


def _put_schema_validator(engine):
    methods = {m["name"]: m for m in engine.call("rpc.discover")["methods"]}
    schema = next(p["schema"] for p in methods["portfolio.put"]["params"] if p["name"] == "portfolio")
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _mutated(path, value):
    doc = retailer()
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


# (path into the retailer document, value, valid?) -- the published schema and the engine must agree.
AGREEMENT_CASES = [
    (("products", 0, "launched"), "2024-02-29", True),
    (("products", 0, "launched"), "2023-02-29", False),
    (("products", 0, "launched"), "2026-02-30", False),
    (("metrics", 0, "observations", 0, "at"), "2026-11-01T10:00:00+01:00", True),
    (("metrics", 0, "observations", 0, "at"), "2026-11-01T10:00:00.123456Z", True),
    (("metrics", 0, "observations", 0, "at"), "2026-11-01T10:00:00", False),
    (("metrics", 0, "observations", 0, "at"), "2026-13-01", False),
    (("products", 0, "zzz"), 1, False),
    (("products", 0, "systems"), ["cms", "cms"], False),
    (("products", 0, "problem"), None, False),
    (("products", 0, "name"), "", False),
    (("products", 0, "name"), "x" * 501, False),
    (("products", 0, "name"), "🚀" * 500, True),
    (("products", 0, "name"), "🚀" * 501, False),
    (("products", 0, "rice", "effort"), 0, False),
    (("products", 0, "rice", "confidence"), 1.5, False),
    (("products", 0, "value"), 1e308, True),
    (("teams", 0, "size"), 7.5, False),
    (("teams", 0, "size"), True, False),
    (("id",), "a" * 128, True),
    (("id",), "a" * 129, False),
    (("experiments", 0, "rollout"), [], False),
    (("experiments", 0, "rollout"), [0], False),
]


@pytest.mark.parametrize("path,value,valid", AGREEMENT_CASES,
                         ids=["/".join(map(str, c[0])) + "=" + repr(c[1])[:20] for c in AGREEMENT_CASES])
def test_published_schema_agrees_with_engine(engine, path, value, valid):
    doc = _mutated(path, value)
    by_schema = not list(_put_schema_validator(engine).iter_errors(doc))
    resp = engine.response("portfolio.put", {"portfolio": doc})
    assert by_schema == valid
    assert ("result" in resp) == valid, resp
    if not valid:
        assert resp["error"]["code"] == -32602
        pointer = "/portfolio/" + "/".join(map(str, path))
        parent = pointer.rsplit("/", 1)[0]
        assert any(e["pointer"] in (pointer, parent) or e["pointer"].startswith(pointer + "/")
                   for e in resp["error"]["data"]["errors"]), resp["error"]["data"]["errors"]


def test_integer_valued_real_is_an_integer(engine):
    doc = _mutated(("teams", 0, "size"), 7.0)
    assert not list(_put_schema_validator(engine).iter_errors(doc))
    assert "result" in engine.response("portfolio.put", {"portfolio": doc})


# MARK: Text and threads


def test_non_ascii_round_trips(engine):
    doc = {"id": "intl", "organization": {"name": NON_ASCII, "industry": "other"},
           "products": [product("pay", NON_ASCII, problem="Überweisung, 送金, ✓ \u00e9\u0301")],
           "metrics": [{"id": "m", "name": "Ümsatz 売上", "category": "delivery",
                        "observations": [{"at": "2026-01-01", "value": 1, "source": NON_ASCII}]}]}
    engine.call("portfolio.put", {"portfolio": doc})
    got = engine.call("portfolio.get", {"id": "intl"})["portfolio"]
    assert got["organization"]["name"] == NON_ASCII
    assert got["products"][0]["name"] == NON_ASCII
    assert got["products"][0]["problem"] == "Überweisung, 送金, ✓ \u00e9\u0301"
    assert got["metrics"][0]["observations"][0]["source"] == NON_ASCII
    assert engine.call("portfolio.list")["portfolios"][0]["name"] == NON_ASCII
    # Escaped on the way in (\uXXXX, surrogate pairs) reads the same.
    text = json.dumps({"jsonrpc": "2.0", "method": "entity.upsert", "id": 1,
                       "params": {"portfolio": "intl", "kind": "product", "entity": product("esc", NON_ASCII)}},
                      ensure_ascii=True)
    assert "\\ud83d\\ude80" in text
    assert "result" in json.loads(engine.call_text(text))
    assert engine.call("entity.get", ["intl", "product", "esc"])["entity"]["name"] == NON_ASCII


def test_invalid_utf8_is_a_parse_error(engine):
    resp = json.loads(engine.call_text(b'{"jsonrpc":"2.0","method":"engine.info","id":"\xff\xfe"}'))
    assert resp["error"]["code"] == -32700


def test_threads_share_one_engine(lib, tmp_path, retailer_doc):
    threads_n, per_thread = 8, 40
    with Engine(tmp_path / "threads.db", lib) as e:
        e.call("portfolio.put", {"portfolio": retailer_doc})
        failures = []
        start = threading.Barrier(threads_n)

        def work(t):
            try:
                start.wait()
                for i in range(per_thread):
                    pid = "t%d-p%d" % (t, i)
                    r = e.call("entity.upsert", {"portfolio": "retailer", "kind": "product",
                                                 "entity": product(pid, "Thread %d product %d %s" % (t, i, NON_ASCII))})
                    assert r["created"] is True
                    e.call("metric.observe", {"portfolio": "retailer", "metric": "nps",
                                              "observations": [{"at": "2026-12-01", "value": t * 1000 + i}]})
                    # Reads in between, in parallel with other threads' writes.
                    got = e.call("entity.get", {"portfolio": "retailer", "kind": "product", "id": pid})
                    assert got["entity"]["id"] == pid
                    e.call("engine.info")
            except Exception as exc:  # reported in the main thread
                failures.append((t, repr(exc)))

        threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert failures == []

        def check(engine):
            doc = engine.call("portfolio.get", {"id": "retailer"})
            products = by_id(doc["portfolio"]["products"])
            for t in range(threads_n):
                for i in range(per_thread):
                    assert products["t%d-p%d" % (t, i)]["name"] == "Thread %d product %d %s" % (t, i, NON_ASCII)
            values = sorted(o["value"] for o in by_id(doc["portfolio"]["metrics"])["nps"]["observations"])
            assert values == sorted([24] + [t * 1000 + i for t in range(threads_n) for i in range(per_thread)])
            assert doc["revision"] == 1 + 2 * threads_n * per_thread

        check(e)
    with Engine(tmp_path / "threads.db", lib) as e:
        check(e)
