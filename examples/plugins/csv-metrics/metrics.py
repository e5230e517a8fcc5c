#!/usr/bin/env python3
"""csv-metrics: an out-of-process TwoSpeed plugin that reads metric observations from a CSV file.

Back-office systems export figures as CSV; this plugin serves them to the engine's metrics extension
point. It speaks JSON-RPC 2.0, one message per line, on stdin and stdout, and answers:

  metrics.collect {"portfolio", "metrics": [{"id", "name", "unit"?}], "since"?}
      -> {"observations": [{"metric", "at", "value", "source"}]}
  plugin.ping params -> params

The file is TWOSPEED_METRICS_CSV, or observations.csv beside this script, with the header
metric,at,value[,source]. Rows for metrics that were not asked for, or not after `since`, are left out.
"""
import csv
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f), start=2):
            try:
                yield {"metric": row["metric"].strip(), "at": row["at"].strip(), "value": float(row["value"]),
                       "source": (row.get("source") or "csv").strip()}
            except (KeyError, ValueError, AttributeError) as e:
                raise ValueError(f"{path}, line {n}: {e}") from None


def collect(params):
    wanted = {m["id"] for m in params.get("metrics", [])}
    since = params.get("since")
    path = os.environ.get("TWOSPEED_METRICS_CSV", os.path.join(HERE, "observations.csv"))
    rows = [r for r in read_rows(path) if r["metric"] in wanted and (since is None or r["at"] > since)]
    return {"observations": rows}


def answer(request):
    method, params, rid = request.get("method"), request.get("params") or {}, request.get("id")
    try:
        if method == "metrics.collect":
            result = collect(params)
        elif method == "plugin.ping":
            result = params
        else:
            return {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": rid}
    except (OSError, ValueError) as e:
        return {"jsonrpc": "2.0", "error": {"code": -32000, "message": "Cannot read the CSV file", "data": {"reason": str(e)}}, "id": rid}
    return {"jsonrpc": "2.0", "result": result, "id": rid}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError:
            response = {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}
        else:
            response = answer(request)
        sys.stdout.write(json.dumps(response, separators=(",", ":")) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
