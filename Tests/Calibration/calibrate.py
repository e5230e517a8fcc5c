#!/usr/bin/env python3
"""The calibration suite: small portfolios written from situations in the articles, each with what a
consultant would conclude, assessed through the real library (libtwospeed over its C ABI).

    calibrate.py [--table] [--library PATH] [CASE ...]

Each case under Tests/Calibration/cases/ is a JSON document:

    {
      "name": "...", "source": "the article passage the situation comes from",
      "portfolio": {...}  or  "portfolioFile": "path relative to the case file",
      "asOf": "YYYY-MM-DD" (optional),
      "expect": {
        "pitfalls": {"fire": [ids], "absent": [ids]},
        "evidence": {"pitfall-id": ["words the evidence must contain", ...]},
        "evidenceAbsent": {"pitfall-id": ["words the evidence must not contain", ...]},
        "dimensions": {"dimension-id": {"min": level, "max": level} | {"none": true}},
        "criteria": {"criterion-id": {"min": score, "max": score}},
        "overall": {"min": level, "max": level} | {"insufficient": true},
        "asOfNotEpoch": true,
        "firstRecommendation": {"pitfall": id} | {"criterion": id},
        "recommendationsAbsent": [{"criterion": id} | {"pitfall": id}],
        "experiments": {"experiment-id": {"action": "expand|iterate|roll-back"}}
      },
      "knownFailure": "why the engine cannot pass this yet" (optional)
    }

Every expectation becomes one check, expected against found. Without --table only failures are
printed. Exit status 1 when a case fails, or when a case marked knownFailure passes (its mark is stale).
"""
import ctypes
import glob
import itertools
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def library_path(arg):
    if arg:
        return arg
    if os.environ.get("TWOSPEED_LIBRARY"):
        return os.environ["TWOSPEED_LIBRARY"]
    found = sorted(glob.glob(os.path.join(ROOT, "build", "lib", "libtwospeed.so.*.*")))
    return found[-1] if found else os.path.join(ROOT, "build", "lib", "libtwospeed.so")


class Engine:
    def __init__(self, path):
        lib = ctypes.CDLL(path)
        lib.twospeed_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
        lib.twospeed_open.restype = ctypes.c_int
        lib.twospeed_call.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.twospeed_call.restype = ctypes.c_void_p
        lib.twospeed_free.argtypes = [ctypes.c_void_p]
        lib.twospeed_close.argtypes = [ctypes.c_void_p]
        self.lib = lib
        self.handle = ctypes.c_void_p()
        rc = lib.twospeed_open(None, ctypes.byref(self.handle))
        if rc != 0:
            raise OSError(rc, "twospeed_open failed")
        self.ids = itertools.count(1)

    def call(self, method, params):
        req = json.dumps({"jsonrpc": "2.0", "id": next(self.ids), "method": method, "params": params})
        ptr = self.lib.twospeed_call(self.handle, req.encode())
        try:
            reply = json.loads(ctypes.string_at(ptr).decode())
        finally:
            self.lib.twospeed_free(ptr)
        if "error" in reply:
            raise RuntimeError("%s: %s %s" % (method, reply["error"].get("message"),
                                              json.dumps(reply["error"].get("data"))[:600]))
        return reply["result"]

    def close(self):
        self.lib.twospeed_close(self.handle)


def load_case(path):
    with open(path) as f:
        case = json.load(f)
    if "portfolioFile" in case:
        with open(os.path.join(os.path.dirname(path), case["portfolioFile"])) as f:
            case["portfolio"] = json.load(f)
    case["file"] = os.path.basename(path)
    return case


def rec_key(r):
    """How a recommendation is named in a case: its pitfall, or else its first criterion."""
    if r is None:
        return "none"
    if r.get("pitfall"):
        return "pitfall " + r["pitfall"]
    return "criterion " + (r.get("criteria") or ["?"])[0]


def matches(r, want):
    if "pitfall" in want:
        return r.get("pitfall") == want["pitfall"]
    if "criterion" in want:
        return not r.get("pitfall") and want["criterion"] in (r.get("criteria") or [])
    return False


def level_text(d):
    if d is None or d.get("level") is None:
        return "no level"
    return "%s %s" % (d["level"], d.get("levelName", ""))


def insufficient(overall):
    return overall.get("level") is None or overall.get("sufficientEvidence") is False


def checks(case, result):
    """Yields (check, expected, found, ok) for every expectation of a case."""
    exp = case.get("expect", {})
    # Every result opens with an executive summary of three to five sentences (issue 11).
    n = len(result.get("summary") or [])
    yield ("executive summary", "3..5 sentences", "%d sentences" % n, 3 <= n <= 5)
    # Its most severe finding quotes the fault, not a context line, and agrees with the first
    # recommendation or says why the first step is another (issue 21).
    summary = result.get("summary") or []
    severe = next((s for s in summary if s.startswith("The most severe finding is")), None)
    recs = result.get("recommendations") or []
    first = recs[0] if recs else None
    if severe and first and first.get("pitfall"):
        named = next((f["name"] for f in result["pitfalls"] if f["pitfall"] == first["pitfall"]), first["pitfall"])
        agrees = named[:1].lower() + named[1:] in severe or named in severe
        explained = any("the first step is another" in s or "The first step is another" in s for s in summary)
        yield ("summary agrees with the first step", "names \u201c%s\u201d or says why not" % named,
               "agrees" if agrees else ("explains" if explained else severe[:120]), agrees or explained)
    if severe:
        yield ("summary quotes the fault", "no context line", severe[:120], "Modern platforms are in place" not in severe)
    found_pitfalls = {f["pitfall"]: f for f in result["pitfalls"]}
    for p in exp.get("pitfalls", {}).get("fire", []):
        yield ("pitfall " + p, "fires", "fires" if p in found_pitfalls else "absent", p in found_pitfalls)
    for p in exp.get("pitfalls", {}).get("absent", []):
        yield ("pitfall " + p, "absent", "fires" if p in found_pitfalls else "absent", p not in found_pitfalls)
    for p, words in exp.get("evidence", {}).items():
        text = " ".join(found_pitfalls[p]["evidence"]) if p in found_pitfalls else ""
        for w in words:
            ok = w.lower() in text.lower()
            yield ("evidence of " + p, "names \"%s\"" % w, "yes" if ok else (text[:160] or "no finding"), ok)
    for p, words in exp.get("evidenceAbsent", {}).items():
        text = " ".join(found_pitfalls[p]["evidence"]) if p in found_pitfalls else ""
        for w in words:
            ok = w.lower() not in text.lower()
            yield ("evidence of " + p, "does not say \"%s\"" % w, "no" if ok else text[:160], ok)
    dims = {d["id"]: d for d in result["dimensions"]}
    for did, bounds in exp.get("dimensions", {}).items():
        d = dims.get(did)
        level = d.get("level") if d else None
        if bounds.get("none"):
            yield ("level of " + did, "no level", level_text(d), level is None)
            continue
        lo, hi = bounds.get("min", 1), bounds.get("max", 5)
        ok = level is not None and lo <= level <= hi
        yield ("level of " + did, "%d..%d" % (lo, hi), level_text(d), ok)
    crits = {c["id"]: c for d in result["dimensions"] for c in d["criteria"]}
    for cid, bounds in exp.get("criteria", {}).items():
        score = (crits.get(cid) or {}).get("score")
        lo, hi = bounds.get("min", 1), bounds.get("max", 5)
        yield ("score of " + cid, "%g..%g" % (lo, hi), "no evidence" if score is None else "%g" % score,
               score is not None and lo <= score <= hi)
    if "overall" in exp:
        o, bounds = result["overall"], exp["overall"]
        if bounds.get("insufficient"):
            yield ("overall", "insufficient evidence", "insufficient evidence" if insufficient(o) else level_text(o), insufficient(o))
        else:
            lo, hi = bounds.get("min", 1), bounds.get("max", 5)
            ok = not insufficient(o) and lo <= o["level"] <= hi
            yield ("overall", "%d..%d" % (lo, hi), "insufficient evidence" if insufficient(o) else level_text(o), ok)
    if exp.get("asOfNotEpoch"):
        yield ("as of", "not 1970", result["asOf"], not result["asOf"].startswith("1970"))
    if "firstRecommendation" in exp:
        want = exp["firstRecommendation"]
        first = result["recommendations"][0] if result["recommendations"] else None
        label = ("pitfall " + want["pitfall"]) if "pitfall" in want else ("criterion " + want.get("criterion", "?"))
        yield ("first recommendation", label, rec_key(first), first is not None and matches(first, want))
    for want in exp.get("recommendationsAbsent", []):
        hit = [r for r in result["recommendations"] if matches(r, want)]
        label = ("pitfall " + want["pitfall"]) if "pitfall" in want else ("criterion " + want.get("criterion", "?"))
        yield ("not recommended", label, "ranked %d" % hit[0]["rank"] if hit else "not recommended", not hit)
    evals = {e.get("experiment"): e for e in result["analyses"]["experiments"]}
    for eid, want in exp.get("experiments", {}).items():
        e = evals.get(eid)
        got = e["recommendation"]["action"] if e else "not evaluated"
        yield ("experiment " + eid, want["action"], got, got == want["action"])


def run_case(engine, case):
    p = case["portfolio"]
    engine.call("portfolio.put", {"portfolio": p})
    params = {"portfolio": p["id"], "keep": False}
    if case.get("asOf"):
        params["asOf"] = case["asOf"]
    result = engine.call("assessment.run", params)
    engine.call("portfolio.delete", {"id": p["id"]})
    return list(checks(case, result)), result


def main(argv):
    table = "--table" in argv
    argv = [a for a in argv if a != "--table"]
    lib = None
    if "--library" in argv:
        i = argv.index("--library")
        lib = argv[i + 1]
        del argv[i:i + 2]
    paths = argv or sorted(glob.glob(os.path.join(HERE, "cases", "*.json")))
    engine = Engine(library_path(lib))
    passed = known = 0
    failures = []
    rows = []
    for path in paths:
        case = load_case(path)
        try:
            results, _ = run_case(engine, case)
        except Exception as e:  # a case the engine refuses is a failing case, with the reason
            results = [("assessment", "runs", str(e)[:200], False)]
        ok = all(r[3] for r in results)
        reason = case.get("knownFailure")
        refused = any(r[0] == "assessment" for r in results)
        if refused:
            status = "FAIL"  # a refused portfolio is a broken case, never an expected failure
            failures.append(case["file"])
        elif reason and ok:
            status = "STALE: passes, remove knownFailure"
            failures.append(case["file"])
        elif reason:
            status = "expected to fail: " + reason
            known += 1
        elif ok:
            status = "pass"
            passed += 1
        else:
            status = "FAIL"
            failures.append(case["file"])
        rows.append((case, results, status))
    engine.close()

    for case, results, status in rows:
        if table or status.startswith(("FAIL", "STALE")):
            print("%s  %s  [%s]" % (case["file"], case.get("name", ""), status))
            print("    source: %s" % case.get("source", "?"))
            for check, expected, found, ok in results:
                if table or not ok:
                    print("    %-4s %-34s expected %-28s found %s" % ("ok" if ok else "MISS", check, expected, found))
    print("calibration: %d cases, %d pass, %d expected to fail, %d failing" % (len(rows), passed, known, len(failures)))
    if failures:
        print("failing: " + ", ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
