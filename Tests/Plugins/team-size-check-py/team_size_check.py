#!/usr/bin/env python3
"""team-size-check as a process plugin in Python: the check of examples/plugins/team-size-check, for the
test that compares the findings of the three plugin kinds and for make bench (a check through Python)."""
import json
import sys

LIMIT = 10


def check(portfolio):
    subjects, evidence = [], []
    for team in portfolio.get("teams") or []:
        size = team.get("size")
        size = size if isinstance(size, int) and not isinstance(size, bool) else 0
        if size <= LIMIT:
            continue
        carried = sum(1 for p in portfolio.get("products") or [] if p.get("team") == team["id"])
        subjects.append({"kind": "team", "id": team["id"], "name": team["name"]})
        evidence.append("%s has %d people (limit %d) and carries %d product%s"
                        % (team["name"], size, LIMIT, carried, "" if carried == 1 else "s"))
    if not subjects:
        return {"findings": []}
    return {"findings": [{
        "pitfall": "oversized-teams", "name": "Oversized teams", "severity": "medium",
        "subjects": subjects, "evidence": evidence,
        "recommendation": "Split each oversized team around the experiences it serves, so that product managers "
                          "and engineers can codevelop in small groups.",
        "criteria": ["collaboration.small-teams", "collaboration.codevelop"],
        "source": "McKinsey, 'A two-speed IT architecture for the digital enterprise'"}]}


for line in sys.stdin:
    req = json.loads(line)
    method, params = req.get("method"), req.get("params") or {}
    if method == "check.run" and isinstance(params.get("portfolio"), dict):
        out = {"result": check(params["portfolio"])}
    elif method == "plugin.ping":
        out = {"result": params}
    else:
        out = {"error": {"code": -32601, "message": "Method not found"}}
    out.update({"jsonrpc": "2.0", "id": req.get("id")})
    sys.stdout.write(json.dumps(out, separators=(",", ":")) + "\n")
    sys.stdout.flush()
