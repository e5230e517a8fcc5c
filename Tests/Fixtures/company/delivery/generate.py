#!/usr/bin/env python3
"""Writes a year of deployments and incidents for the real-data fixture's systems, svc-001 .. svc-200
(issue 21, item 5), beside this script. Deterministic: the same files every run (a fixed seed, no clock).

Part of it is in DORA Four Keys' shape, as a team running Four Keys exports its BigQuery tables
(docs/fourkeys.md): svc-001 .. svc-040 in fourkeys/changes.csv, fourkeys/deployments.json and
fourkeys/incidents.json, with a `service` column such an export adds (Four Keys' own tables name no
system). The rest is in TwoSpeed's own logs: deployments.jsonl (one deployment a line, changes in the
compact id -> commit time form) and incidents.csv.

Systems have one of three cadences, by their number: fast (several deployments a week, leads of hours),
medium (a few a month, leads of days) and slow (quarterly releases, leads of weeks, more failures and
slower recovery), so the fixture holds a two-speed company.

    python3 Tests/Fixtures/company/delivery/generate.py [OUT_DIR]
"""
from __future__ import annotations

import csv
import datetime
import json
import os
import random
import sys

START = datetime.datetime(2025, 12, 1, tzinfo=datetime.timezone.utc)
DAYS = 365
FOURKEYS_SYSTEMS = 40

# per cadence: deployments a year, lead hours (low, high), failure share, recovery hours (low, high)
PROFILES = {
    "fast": (52, (2, 30), 0.05, (0.5, 3)),
    "medium": (18, (48, 240), 0.12, (2, 24)),
    "slow": (4, (480, 1440), 0.25, (24, 200)),
}


def profile(n: int) -> str:
    return "fast" if n % 10 < 3 else "medium" if n % 10 < 7 else "slow"


def rfc3339(t: datetime.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def bigquery(t: datetime.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S UTC")


def main(out: str) -> None:
    rng = random.Random(2126)
    deployments, incidents = [], []
    for n in range(1, 201):
        system = "svc-%03d" % n
        per_year, lead, fail, recovery = PROFILES[profile(n)]
        count = max(1, int(rng.gauss(per_year, per_year / 6)))
        times = sorted(START + datetime.timedelta(minutes=rng.randrange(DAYS * 24 * 60)) for _ in range(count))
        for k, at in enumerate(times):
            dep_id = "%s-d%04d" % (system, k + 1)
            changes = []
            for c in range(rng.randint(1, 2)):
                committed = at - datetime.timedelta(hours=rng.uniform(*lead))
                changes.append(("%s-c%04d-%d" % (system, k + 1, c), committed.replace(microsecond=0)))
            failed = rng.random() < fail
            deployments.append({"system": system, "id": dep_id, "time": at, "changes": changes, "failed": failed})
            if failed:
                started = at + datetime.timedelta(minutes=rng.randint(5, 120))
                resolved = started + datetime.timedelta(hours=rng.uniform(*recovery))
                incidents.append({"system": system, "id": "%s-i%04d" % (system, len(incidents) + 1), "started": started,
                                  "resolved": resolved.replace(microsecond=0), "cause": dep_id, "root": changes[0][0]})
        # Now and then an incident no deployment caused; the newest slow systems' last one is still open.
        for _ in range(rng.randint(0, 2)):
            started = START + datetime.timedelta(minutes=rng.randrange(DAYS * 24 * 60))
            resolved = started + datetime.timedelta(hours=rng.uniform(*recovery))
            open_ = profile(n) == "slow" and n > 190
            incidents.append({"system": system, "id": "%s-i%04d" % (system, len(incidents) + 1), "started": started,
                              "resolved": None if open_ else resolved.replace(microsecond=0), "cause": None, "root": None})

    def fourkeys(system: str) -> bool:
        return int(system[4:]) <= FOURKEYS_SYSTEMS

    os.makedirs(os.path.join(out, "fourkeys"), exist_ok=True)
    with open(os.path.join(out, "fourkeys", "changes.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["source", "event_type", "change_id", "time_created"])
        for d in deployments:
            if fourkeys(d["system"]):
                for cid, committed in d["changes"]:
                    w.writerow(["github", "push", cid, bigquery(committed)])
    with open(os.path.join(out, "fourkeys", "deployments.json"), "w", encoding="utf-8") as f:
        for d in deployments:
            # Four Keys keeps successful deployments only; a failure shows as an incident naming its change.
            if fourkeys(d["system"]):
                f.write(json.dumps({"source": "github", "deploy_id": d["id"], "time_created": bigquery(d["time"]),
                                    "main_commit": d["changes"][-1][0], "changes": [c for c, _ in d["changes"]],
                                    "service": d["system"]}, separators=(",", ":")) + "\n")
    with open(os.path.join(out, "fourkeys", "incidents.json"), "w", encoding="utf-8") as f:
        for i in incidents:
            if fourkeys(i["system"]):
                f.write(json.dumps({"source": "pagerduty", "incident_id": i["id"], "time_created": bigquery(i["started"]),
                                    "time_resolved": bigquery(i["resolved"]) if i["resolved"] else None,
                                    "changes": [i["root"]] if i["root"] else [], "service": i["system"]},
                                   separators=(",", ":")) + "\n")
    with open(os.path.join(out, "deployments.jsonl"), "w", encoding="utf-8") as f:
        for d in deployments:
            if not fourkeys(d["system"]):
                f.write(json.dumps({"id": d["id"], "system": d["system"], "time": rfc3339(d["time"]), "failed": d["failed"],
                                    "changes": {c: rfc3339(t) for c, t in d["changes"]}}, separators=(",", ":")) + "\n")
    with open(os.path.join(out, "incidents.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "system", "started", "resolved", "cause"])
        for i in incidents:
            if not fourkeys(i["system"]):
                w.writerow([i["id"], i["system"], rfc3339(i["started"]), rfc3339(i["resolved"]) if i["resolved"] else "",
                            i["cause"] or ""])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
