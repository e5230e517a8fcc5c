"""Reads `swift package dump-package` on stdin; fails when TwoSpeedClient reaches, through its targets'
dependencies, a module of the engine. A client of the daemon links the contract only."""
import json
import sys

# TwoSpeedAssessment is not among them: it holds the result types every typed call decodes
# (AssessmentResult, AdviceHistory, CampaignReport, ...) and the pure functions beside them, and reads
# no store, plugin or file. What a client must not link is the engine: SQLite, reports, the plugin host.
ENGINE = {"TwoSpeedEngine", "TwoSpeedStore", "TwoSpeedReport", "TwoSpeedPlugins", "CSQLite", "TwoSpeedYAML"}
targets = {t["name"]: t for t in json.load(sys.stdin)["targets"]}


def names(target):
    for d in target.get("dependencies", []):
        for kind in ("byName", "target"):
            if kind in d:
                yield d[kind][0]


seen, todo = set(), ["TwoSpeedClient"]
while todo:
    name = todo.pop()
    if name in seen or name not in targets:
        continue
    seen.add(name)
    todo.extend(names(targets[name]))
assert "TwoSpeedContract" in seen, sorted(seen)
bad = seen & ENGINE
if bad:
    sys.exit("TwoSpeedClient depends on %s" % ", ".join(sorted(bad)))
print("TwoSpeedClient depends on", ", ".join(sorted(seen - {"TwoSpeedClient"})))
