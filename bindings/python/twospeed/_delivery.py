"""Delivery logs read into Python, as `twospeed import --from deployments|incidents` reads them: JSON Lines
(one event a line, as delivery.record takes it) or CSV (a header naming the columns; deployments: id,
system, time, failed, changes; incidents: id, system, started, resolved, cause). In CSV, `changes` lists
`changeId@commitTime` entries separated by `;`, `failed` is true/false/1/0/yes/no, an empty cell leaves
the member out, and a UTF-8 BOM, CRLF, quoted cells and `,` `;` or tab separators (the most frequent in
the header) are read. The engine's own reader (delivery.import) is the reference; a test holds the two
to the same files.
"""
from __future__ import annotations

import csv
import io
import json
import os
from typing import Any, Dict, List, Literal, Optional, Union

__all__ = ["read_deployments", "read_incidents"]

_COLUMNS = {"deployments": ["id", "system", "time", "failed", "changes"],
            "incidents": ["id", "system", "started", "resolved", "cause"]}
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}
PathLike = Union[str, "os.PathLike[str]"]


def read_deployments(path: PathLike, *, format: Optional[Literal["jsonl", "csv"]] = None) -> List[Dict[str, Any]]:
    """The deployments of a log file, as delivery.record takes them (record_delivery(deployments=...)).
    The format is `format`, else csv for a *.csv file and jsonl otherwise. A bad record raises ValueError
    naming every problem as FILE:LINE (JSON Lines) or FILE:LINE:COLUMN (CSV)."""
    return _read(path, "deployments", format)


def read_incidents(path: PathLike, *, format: Optional[Literal["jsonl", "csv"]] = None) -> List[Dict[str, Any]]:
    """The incidents of a log file, as delivery.record takes them (record_delivery(incidents=...));
    formats and errors as read_deployments."""
    return _read(path, "incidents", format)


def _read(path: PathLike, kind: str, format: Optional[str]) -> List[Dict[str, Any]]:
    name = os.fspath(path)
    fmt = format or ("csv" if name.endswith(".csv") else "jsonl")
    if fmt not in ("csv", "jsonl"):
        raise ValueError("format is jsonl or csv, not %r" % fmt)
    with open(name, "r", encoding="utf-8-sig", newline="") as f:
        text = f.read()
    problems: List[str] = []
    records = _jsonl(text, name, problems) if fmt == "jsonl" else _csv(text, name, kind, problems)
    if problems:
        shown = problems[:20]
        more = len(problems) - len(shown)
        raise ValueError("%d bad record(s) in %s:\n%s%s" % (len(problems), name, "\n".join(shown),
                                                           "\nand %d more" % more if more else ""))
    return records


def _jsonl(text: str, name: str, problems: List[str]) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append("%s:%d: not JSON: %s" % (name, n, e.msg))
            continue
        if not isinstance(value, dict):
            problems.append("%s:%d: an event is a JSON object" % (name, n))
            continue
        out.append(value)
    return out


def _separator(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {sep: 0 for sep in ",;\t"}
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    return max(",;\t", key=lambda s: counts[s])


def _csv(text: str, name: str, kind: str, problems: List[str]) -> List[Dict[str, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text), quotechar='"', strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return []
    allowed = _COLUMNS[kind]
    columns: List[str] = []
    for c, h in enumerate(header, 1):
        key = h.strip().lower()
        if key not in allowed:
            raise ValueError('%s:1:%d: unknown column "%s"; %s take %s' % (name, c, h, kind, ", ".join(allowed)))
        if key in columns:
            raise ValueError('%s:1:%d: column "%s" appears twice' % (name, c, key))
        columns.append(key)
    out: List[Dict[str, Any]] = []
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise ValueError("%s:%d: %s" % (name, line, e)) from None
        if all(not cell.strip() for cell in row):
            continue
        if len(row) > len(columns):
            problems.append("%s:%d:%d: %d cells; the header names %d" % (name, line, len(columns) + 1, len(row), len(columns)))
            continue
        record: Dict[str, Any] = {}
        ok = True
        for c, (key, raw) in enumerate(zip(columns, row), 1):
            cell = raw.strip()
            if not cell:
                continue
            if key == "failed":
                if cell.lower() in _TRUE:
                    record[key] = True
                elif cell.lower() in _FALSE:
                    record[key] = False
                else:
                    problems.append('%s:%d:%d: failed: expected true or false, found "%s"' % (name, line, c, cell))
                    ok = False
            elif key == "changes":
                changes = []
                for entry in (e.strip() for e in cell.split(";")):
                    if not entry:
                        continue
                    change_id, at, committed = entry.partition("@")
                    if not at:
                        problems.append('%s:%d:%d: changes: a change is changeId@commitTime, not "%s"' % (name, line, c, entry))
                        ok = False
                        continue
                    changes.append({"id": change_id, "committed": committed})
                record[key] = changes
            else:
                record[key] = cell
        if ok:
            out.append(record)
    return out
