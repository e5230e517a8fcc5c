#!/usr/bin/env python3
"""Appends metric observations exported by a back-office system as CSV, runs an assessment and prints
the dimension scores.

    examples/python/observe_csv.py --db store.sqlite --portfolio retailer export.csv
    examples/python/observe_csv.py --socket /run/twospeed/twospeed.sock --portfolio retailer export.csv
    examples/python/observe_csv.py --load examples/portfolios/retailer.json examples/python/backoffice-export.csv

The CSV has a header row naming its columns: the metric (metric, metric_id or kpi), when (at, date,
period_end or period: a date or an RFC 3339 date-time), the value (value or amount), and optionally
where the figure came from (source). The delimiter is sniffed (comma, semicolon or tab). Values use a
decimal point, or with --decimal comma (the default for semicolon files) a decimal comma with dots
between thousands, as European ERP exports do.

Each metric's rows are appended in one write (metric.observe). Exit status: 0 done, 1 the file or the
engine refused the data (the message names the CSV line), 2 wrong usage.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

try:
    import twospeed
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python"))
    import twospeed

COLUMNS = {
    "metric": ("metric", "metric_id", "kpi"),
    "at": ("at", "date", "period_end", "period", "timestamp"),
    "value": ("value", "amount"),
    "source": ("source",),
}


Obs = Dict[str, Any]


class DataError(Exception):
    """Something wrong in the CSV file, with its line number."""


def parse_number(text: str, decimal: str, line: int) -> float:
    s = text.strip().replace(" ", "").replace("\u00a0", "")
    if decimal == "comma":
        s = s.replace(".", "").replace(",", ".")
    else:
        s = s.replace(",", "")
    try:
        value = float(s)
    except ValueError:
        raise DataError("line %d: value %r is not a number" % (line, text)) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise DataError("line %d: value %r is not a finite number" % (line, text))
    return value


def read_rows(path: str, decimal: Optional[str], default_source: Optional[str]
              ) -> Dict[str, List[Tuple[int, Obs]]]:
    """Observations by metric, in the file's order, each with its CSV line number."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        sample = f.read(8192)
        f.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        if decimal is None:
            decimal = "comma" if dialect.delimiter == ";" else "point"
        reader = csv.reader(f, dialect)
        header = next(reader, None)
        if header is None:
            raise DataError("line 1: the file is empty; it needs a header row")
        names = [h.strip().lower() for h in header]
        index = {}
        for col, aliases in COLUMNS.items():
            found = [i for i, n in enumerate(names) if n in aliases]
            if found:
                index[col] = found[0]
            elif col != "source":
                raise DataError("line 1: no %s column (one of: %s); the header is %s"
                                % (col, ", ".join(aliases), ", ".join(header)))
        by_metric: Dict[str, List[Tuple[int, Obs]]] = {}
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < len(header):
                raise DataError("line %d: %d fields, the header has %d" % (line, len(row), len(header)))
            obs: Obs = {"at": row[index["at"]].strip(), "value": parse_number(row[index["value"]], decimal, line)}
            source = row[index["source"]].strip() if "source" in index else ""
            if source or default_source:
                obs["source"] = source or default_source
            by_metric.setdefault(row[index["metric"]].strip(), []).append((line, obs))
    return by_metric


def complain(path: str, pointer: Optional[str], rows: List[Tuple[int, Obs]], reason: Optional[str]) -> None:
    """Prints an engine's complaint, naming the CSV line its pointer into metric.observe's params
    (/observations/N/..., or /metric) stands for."""
    parts = (pointer or "").split("/")
    where = ""
    if len(parts) >= 3 and parts[1] == "observations" and parts[2].isdigit() and int(parts[2]) < len(rows):
        field = "/".join(parts[3:])
        where = "line %d%s: " % (rows[int(parts[2])][0], " (%s)" % field if field else "")
    elif pointer == "/metric":
        where = "line %d: " % rows[0][0]
    print("%s: %s%s" % (path, where, reason), file=sys.stderr)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", help="the CSV file exported by the back-office system")
    to = ap.add_mutually_exclusive_group()
    to.add_argument("--db", metavar="PATH", help="an engine in this process on this store (default :memory:)")
    to.add_argument("--socket", metavar="PATH", help="the daemon on this socket instead")
    ap.add_argument("--portfolio", metavar="ID", help="the portfolio (default: the one --load stores)")
    ap.add_argument("--load", metavar="FILE", help="store this portfolio document first")
    ap.add_argument("--source", metavar="NAME", help="the source of rows that name none")
    ap.add_argument("--decimal", choices=("point", "comma"), help="the decimal mark (default: by the delimiter)")
    ap.add_argument("--no-keep", action="store_true", help="do not keep the assessment in the history")
    args = ap.parse_args(argv)

    doc = None
    if args.load:
        with open(args.load, encoding="utf-8") as f:
            doc = json.load(f)
    portfolio = args.portfolio or (doc or {}).get("id")
    if not portfolio:
        ap.error("give --portfolio, or --load a portfolio document")

    try:
        by_metric = read_rows(args.csv, args.decimal, args.source)
    except (OSError, DataError) as e:
        print("%s: %s" % (args.csv, e), file=sys.stderr)
        return 1
    if not by_metric:
        print("%s: no observations" % args.csv, file=sys.stderr)
        return 1

    conn: twospeed.Connection
    try:
        conn = twospeed.Client(args.socket) if args.socket else twospeed.Engine(args.db or ":memory:")
    except twospeed.Error as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    try:
        with conn:
            return report(conn, args, doc, portfolio, by_metric)
    except twospeed.Error as e:
        print("error: %s" % e, file=sys.stderr)
        return 1


def report(conn: twospeed.Connection, args: argparse.Namespace, doc: Optional[Dict[str, Any]], portfolio: str,
           by_metric: Dict[str, List[Tuple[int, Obs]]]) -> int:
    """Stores the document if any, appends each metric's observations, assesses and prints the scores."""
    if doc is not None:
        put = conn.put_portfolio(doc)
        print('loaded portfolio "%s" (revision %d)' % (put["id"], put["revision"]))
    for metric, rows in by_metric.items():
        try:
            r = conn.append_observations(portfolio, metric, [obs for _, obs in rows])
        except twospeed.NotFound as e:
            complain(args.csv, e.pointer, rows, e.reason)
            return 1
        except twospeed.InvalidParams as e:
            for issue in e.errors:
                complain(args.csv, issue.pointer, rows, issue.reason)
            return 1
        n = r["appended"]
        print("%-28s +%d observation%s (%d in all)" % (metric, n, "" if n == 1 else "s", r["total"]))

    result = conn.run_assessment(portfolio, keep=False if args.no_keep else None)
    overall = result["overall"]
    run = " run %d," % result["run"] if "run" in result else ""
    print("\nassessment of %s,%s as of %s: %.2f of 5, level %d (%s)\n"
          % (result["organization"], run, result["asOf"][:10], overall["score"], overall["level"],
             overall["levelName"]))
    print("%-32s %5s  %s" % ("Dimension", "Score", "Level"))
    for d in result["dimensions"]:
        score = "%5.2f" % d["score"] if "score" in d else "    -"
        level = "%d %s" % (d["level"], d.get("levelName", "")) if "level" in d else "-"
        print("%-32s %s  %s" % (d["name"], score, level))
    return 0


if __name__ == "__main__":
    sys.exit(main())
