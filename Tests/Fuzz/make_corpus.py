#!/usr/bin/env python3
"""Seed corpora and a dictionary for the fuzz harnesses, from examples/.

Usage: make_corpus.py HARNESS OUTDIR
  HARNESS  the built fuzz_methods binary: run with TWOSPEED_FUZZ_DESCRIBE=1, it prints the method table
           in the order its first input byte indexes, and the example portfolio's kept assessment result.
  OUTDIR   gets seeds/fuzz_methods/ (a method byte, then params JSON), seeds/fuzz_call/ (whole requests,
           batches, notifications, the example documents themselves) and twospeed.dict.

Every method gets at least one seed with valid params over the retailer's real ids, so that the fuzzer
starts inside each method rather than at its validation; a few invalid ones start at the error paths.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EX = os.path.join(ROOT, "examples")


def load(*parts):
    with open(os.path.join(EX, *parts), encoding="utf-8") as f:
        return json.load(f)


def params_by_method(retailer, model, assessment):
    pid = retailer["id"]
    criteria = [c["id"] for d in (assessment or {}).get("dimensions", []) for c in d.get("criteria", [])] or ["c1"]
    first = {k: retailer[k][0] for k in ("journeys", "products", "managers", "teams", "systems", "metrics", "okrs",
                                          "experiments") if retailer.get(k)}
    exp = first["experiments"]
    # The first recommendation's key and rule, as a run of the retailer gives them.
    rec = ((assessment or {}).get("recommendations") or [{}])[0]
    key = rec.get("key", "request-takers:%s:000000000000" % first["products"]["id"])
    rule = rec.get("pitfall") or key.split(":")[0]
    p = {
        "rpc.discover": [None, {}],
        "engine.info": [None],
        "portfolio.put": [{"portfolio": retailer}, {"portfolio": load("portfolios", "telco.json")},
                          {"portfolio": {"id": "tiny", "organization": {"name": "Tiny Co"}}, "ifRevision": 0}],
        "portfolio.get": [{"id": pid}, {"id": "no-such-portfolio"}],
        "portfolio.list": [None],
        "portfolio.delete": [{"id": pid}, {"id": pid, "ifRevision": 1}],
        "entity.get": [{"portfolio": pid, "kind": kind[:-1], "id": e["id"]} for kind, e in first.items()],
        "entity.list": [{"portfolio": pid, "kind": kind[:-1]} for kind in first] + [{"portfolio": pid, "kind": "department"}],
        "entity.upsert": [{"portfolio": pid, "kind": kind[:-1], "entity": e} for kind, e in first.items()],
        "entity.remove": [{"portfolio": pid, "kind": kind[:-1], "id": e["id"]} for kind, e in first.items()],
        "metric.observe": [{"portfolio": pid, "metric": first["metrics"]["id"],
                            "observations": [{"at": "2026-12-31", "value": 30.5, "source": "fuzz"},
                                             {"at": "2027-01-31T12:00:00Z", "value": -1e300}]}],
        "assessment.run": [{"portfolio": pid}, {"portfolio": pid, "keep": True, "prioritization": "wsjf",
                                                 "asOf": "2026-10-31", "answers": [{"criterion": criteria[0], "score": 3},
                                                                     {"criterion": criteria[-1], "score": 5,
                                                                      "evidence": "fuzz"}]},
                           {"portfolio": pid, "model": model["id"]}],
        "assessment.get": [{"portfolio": pid, "run": 1}, {"portfolio": pid, "run": 2}],
        "assessment.history": [{"portfolio": pid}, {"portfolio": pid, "compare": [1, 1]}],
        "assessment.model.put": [{"model": model}],
        "assessment.model.list": [None],
        "assessment.model.get": [{"id": "twospeed-default"}, {"id": model["id"]}],
        "assessment.model.delete": [{"id": "twospeed-default"}, {"id": model["id"]}],
        "analysis.coverage": [{"portfolio": pid}],
        "analysis.prioritize": [{"portfolio": pid, "method": m} for m in ("value", "rice", "wsjf")],
        "analysis.speed": [{"portfolio": pid}],
        "analysis.okrs": [{"portfolio": pid}],
        "analysis.accountability": [{"portfolio": pid}],
        "analysis.pitfalls": [{"portfolio": pid}],
        "experiment.evaluate": [{"portfolio": pid, "experiment": exp["id"]},
                                {"control": {"users": 1000, "conversions": 100},
                                 "variant": {"users": 1000, "conversions": 130}, "plannedShare": 0.5,
                                 "rollout": [0.1, 0.5, 1.0], "stage": 1, "confidence": 0.95}],
        "report.render": [{"format": f, "portfolio": pid, "run": 1} for f in ("text", "html", "markdown")]
                         + [{"format": "text", "width": 60, "portfolio": pid}],
        "delivery.record": [{"portfolio": pid, "deployments": [
                                {"id": "d1", "system": first["systems"]["id"], "time": "2026-03-10T12:00:00Z", "failed": False,
                                 "changes": [{"id": "c1", "committed": "2026-03-10T09:00:00+01:00"}]},
                                {"id": "d2", "system": "no-such-system", "time": "2026-03-11"}],
                             "incidents": [{"id": "i1", "system": first["systems"]["id"], "started": "2026-03-10T13:00:00Z",
                                            "resolved": None, "cause": "d1"}]},
                            {"portfolio": pid, "incidents": [{"id": "i2", "system": first["systems"]["id"],
                                                              "started": "2026-03-10"}], "atomic": True}],
        "delivery.metrics": [{"portfolio": pid}, {"portfolio": pid, "system": first["systems"]["id"],
                                                  "until": "2026-04-01T00:00:00Z", "days": 30, "windows": 3}],
        "delivery.import": [{"portfolio": pid, "kind": "deployments", "format": "csv", "file": "d.csv",
                             "text": "\ufeffid;system;time;failed;changes\r\nd9;%s;2026-03-10;no;\"c1@2026-03-09;c2@2026-03-08\"\r\n"
                                     "d10;%s;soon;maybe;x\r\n\"open" % (first["systems"]["id"], first["systems"]["id"])},
                            {"portfolio": pid, "kind": "incidents", "format": "jsonl", "atomic": True,
                             "text": '{"id":"i9","system":"%s","started":"2026-03-10"}\n[1]\n{' % first["systems"]["id"]},
                            {"portfolio": pid, "format": "fourkeys", "system": first["systems"]["id"], "tables": [
                                {"file": "changes.csv", "text": "change_id,time_created\nc1,2026-03-09 10:00:00 UTC\n"},
                                {"file": "deployments.json", "text": '{"deploy_id":"d1","time_created":"2026-03-10 12:00:00 UTC","changes":["c1"]}\n'},
                                {"file": "incidents.json", "text": '{"incident_id":"1","time_created":"2026-03-10 13:00:00 UTC",'
                                                                   '"time_resolved":null,"changes":["c1"]}\n'}]}],
        "import.backstage": [{"portfolio": pid, "documents": [
                                  {"file": "catalog-info.yaml", "line": 1, "entity": {
                                      "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                                      "metadata": {"name": "web-shop"},
                                      "spec": {"type": "website", "lifecycle": "production", "owner": "group:shop",
                                               "consumesApis": ["payments"], "dependsOn": ["resource:db"]}}},
                                  {"entity": {"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
                                              "metadata": {"name": "shop"}, "spec": {"type": "team", "children": []}}},
                                  {"entity": {"apiVersion": "backstage.io/v1alpha1", "kind": "Location",
                                              "metadata": {"name": "x"}, "spec": {}}}],
                              "rules": [{"kind": "component", "type": ["service"], "layer": "platform"}]},
                             {"portfolio": "new-one", "documents": [], "prune": True, "atomic": True}],
        "import.csv": [{"portfolio": pid, "kind": "product",
                        "text": "\ufeffid;name;status;stages;rice.reach\r\nnew-p;New product;idea;;1000\r\n"},
                       {"portfolio": pid, "kind": "team", "text": "id,name,size\nt1,\"Team, one\",3\nt2,bad,-1\n",
                        "atomic": True}],
        "recommendation.history": [{"portfolio": pid}, {"portfolio": "no-such-portfolio"}],
        "recommendation.dismiss": [{"portfolio": pid, "key": key, "reason": "fuzz: not for us"},
                                   {"portfolio": pid, "key": "no-such:key:000000000000", "reason": ""}],
        "recommendation.reopen": [{"portfolio": pid, "key": key}, {"portfolio": pid, "key": "\u0000"}],
        "recommendation.outcomes": [{"portfolio": pid}],
        "campaign.put": [{"portfolio": pid, "campaign": {
                             "id": "integrate", "name": "Integrate what we bought", "owner": first["managers"]["id"],
                             "scope": {"products": [first["products"]["id"]], "layers": ["front-end"]},
                             "advice": {"pitfalls": [rule], "keys": [key]},
                             "start": "2026-01-01", "target": "2026-06-30"}},
                         {"portfolio": pid, "ifRevision": 0, "campaign": {
                             "id": "empty", "name": "", "owner": "nobody", "advice": {},
                             "start": "2026-06-30", "target": "2026-01-01"}}],
        "campaign.get": [{"portfolio": pid, "id": "integrate"}, {"portfolio": pid, "id": "no-such-campaign"}],
        "campaign.list": [{"portfolio": pid}],
        "campaign.delete": [{"portfolio": pid, "id": "integrate"}, {"portfolio": pid, "id": "integrate", "ifRevision": 1}],
        # No plugins are loaded (and none should be: a manifest can start a process): these start at the
        # methods' validation and not-found paths. Relative paths resolve in the fuzzer's empty work folder.
        "plugin.list": [None],
        "plugin.load": [{"manifest": "plugin.json"}],
        "plugin.unload": [{"name": "team-size-check"}],
        "plugin.call": [{"plugin": "team-size-check", "method": "check", "params": {"portfolio": pid}}],
        "plugin.check": [{"plugin": "team-size-check", "portfolio": pid}],
        "plugin.collect": [{"plugin": "csv-metrics", "portfolio": pid, "metrics": [first["metrics"]["id"]],
                            "since": "2026-01-01"}],
    }
    if assessment:
        p["report.render"] += [{"format": "markdown", "result": assessment},
                               {"format": "html", "result": assessment, "previous": assessment}]
    return p


def words(value, out):
    """Object keys and short strings of a document: the dictionary's tokens."""
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            words(v, out)
    elif isinstance(value, list):
        for v in value:
            words(v, out)
    elif isinstance(value, str) and len(value) <= 40:
        out.add(value)


def dict_entry(text):
    """A libFuzzer dictionary line: quoted; backslash, double quote and bytes outside ASCII escaped."""
    out = []
    for b in text.encode("utf-8"):
        c = chr(b)
        out.append("\\" + c if c in '"\\' else c if 32 <= b < 127 else "\\x%02x" % b)
    return '"' + "".join(out) + '"'


def main():
    harness, outdir = sys.argv[1], sys.argv[2]
    env = dict(os.environ, TWOSPEED_FUZZ_DESCRIBE="1")
    desc = json.loads(subprocess.run([harness], env=env, check=True, stdout=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL).stdout.decode().strip().splitlines()[-1])
    methods = desc["methods"]
    retailer = load("portfolios", "retailer.json")
    model = load("models", "dora-2024.json")
    table = params_by_method(retailer, model, desc.get("assessment"))
    missing = [m for m in methods if m not in table]
    if missing:
        # A new method: name it in table above, so that fuzzing starts inside it.
        sys.exit("make_corpus.py: no seed params for %s" % ", ".join(missing))

    by_method = os.path.join(outdir, "seeds", "fuzz_methods")
    whole = os.path.join(outdir, "seeds", "fuzz_call")
    for d in (by_method, whole):
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
    count = 0
    requests = []
    for index, method in enumerate(methods):
        for n, params in enumerate(table[method]):
            body = b"" if params is None else json.dumps(params, separators=(",", ":")).encode()
            with open(os.path.join(by_method, "%s-%d" % (method, n)), "wb") as f:
                f.write(bytes([index]) + body)
            req = {"jsonrpc": "2.0", "method": method, "id": count}
            if params is not None:
                req["params"] = params
            requests.append(req)
            with open(os.path.join(whole, "%s-%d.json" % (method, n)), "w") as f:
                f.write(json.dumps(req, separators=(",", ":")))
            count += 1
    extras = {
        "batch.json": requests[:3] + [{"jsonrpc": "2.0", "method": "engine.info"}],
        "notification.json": {"jsonrpc": "2.0", "method": "portfolio.list"},
        "by-position.json": {"jsonrpc": "2.0", "method": "portfolio.get", "params": [retailer["id"]], "id": "a"},
        "custom-model.json": [{"jsonrpc": "2.0", "method": "assessment.model.put", "params": {"model": model}, "id": 1},
                              {"jsonrpc": "2.0", "method": "assessment.run",
                               "params": {"portfolio": retailer["id"], "model": model["id"], "keep": True}, "id": 2},
                              {"jsonrpc": "2.0", "method": "assessment.history", "params": {"portfolio": retailer["id"]},
                               "id": 3}],
        "run-then-get.json": [{"jsonrpc": "2.0", "method": "assessment.run", "params": {"portfolio": retailer["id"],
                                                                                         "keep": True}, "id": 1},
                              {"jsonrpc": "2.0", "method": "assessment.get", "params": {"portfolio": retailer["id"],
                                                                                         "run": 2}, "id": 2}],
    }
    for name, doc in extras.items():
        with open(os.path.join(whole, name), "w") as f:
            f.write(json.dumps(doc, separators=(",", ":")))
    # The example documents as they are: not requests, but JSON that the parser must take apart.
    for name in sorted(os.listdir(os.path.join(EX, "portfolios"))):
        with open(os.path.join(EX, "portfolios", name), "rb") as f, open(os.path.join(whole, "doc-" + name), "wb") as g:
            g.write(f.read())

    tokens = set(methods)
    for params in table.values():
        words(params, tokens)
    tokens.update(["jsonrpc", "2.0", "method", "params", "id", "result", "error", "null", "true", "false",
                   "\\u0000", "\\ud800", "1e999", "-0", "[]", "{}"])
    literals = {"null", "true", "false", "[]", "{}", "1e999", "-0"}
    with open(os.path.join(outdir, "twospeed.dict"), "w") as f:
        for t in sorted(tokens):
            f.write(dict_entry(t if t in literals else json.dumps(t, ensure_ascii=False)) + "\n")
    print("seeds: %d for fuzz_methods, %d for fuzz_call; %d dictionary words" %
          (len(os.listdir(by_method)), len(os.listdir(whole)), len(tokens)))


if __name__ == "__main__":
    main()
