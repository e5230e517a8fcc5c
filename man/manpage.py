#!/usr/bin/env python3
"""Man pages from the programs' own help, so that the help stays their one source.

    manpage.py dump SECTION VERSION < `PROGRAM --experimental-dump-help`   (swift-argument-parser's JSON)
    manpage.py usage NAME SECTION VERSION < `PROGRAM --help`               (twospeed-rpc's usage text)

The page goes to standard output, in man(7) macros. Why not swift-argument-parser's generate-manual
plugin: it builds the commands again in debug mode (minutes on two cores) and wants a package plugin
run; the JSON it reads is the same --experimental-dump-help prints.
"""
from __future__ import annotations

import json
import re
import sys
from typing import Any, Dict, List

TITLE = {"1": "TwoSpeed Manual", "8": "TwoSpeed Administration"}


def esc(text: str) -> str:
    """Roff-safe text: backslashes, hyphens of options, and a leading dot or quote."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(("\\&" + line) if line[:1] in (".", "'") else line for line in text.split("\n"))


def paragraphs(text: str) -> List[str]:
    """Blank-line separated blocks, their indentation kept (it marks examples and option lists)."""
    return [p.strip("\n").rstrip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]


def para(block: str) -> List[str]:
    """A paragraph; lines indented under it (examples) are kept as they are, not filled."""
    rows = block.splitlines()
    if not any(r.startswith("  ") for r in rows):
        return [".PP", esc(" ".join(r.strip() for r in rows))]
    out = [".PP"]
    for r in rows:
        if r.startswith("  "):
            out += [".nf", ".RS 4", esc(r.strip()), ".RE", ".fi"]
        else:
            out.append(esc(r.strip()))
    return out


def flag_names(arg: Dict[str, Any]) -> str:
    names = []
    for n in arg.get("names", []):
        names.append(("-" if n["kind"] == "short" else "--") + n["name"])
    return ", ".join(names)


def option_line(arg: Dict[str, Any]) -> str:
    if arg["kind"] == "positional":
        return "\\fI%s\\fR" % esc(arg.get("valueName", "arg"))
    names = "\\fB%s\\fR" % esc(flag_names(arg))
    if arg["kind"] == "option":
        names += " \\fI%s\\fR" % esc(arg.get("valueName", "value"))
    return names


def synopsis(path: str, cmd: Dict[str, Any]) -> str:
    parts = ["\\fB%s\\fR" % esc(path)]
    for a in cmd.get("arguments", []):
        if not a.get("shouldDisplay", True) or (a["kind"] == "flag" and a.get("valueName") in ("help", "version")):
            continue
        word = option_line(a) + (" ..." if a.get("isRepeating") else "")
        parts.append("[%s]" % word if a.get("isOptional") else word)
    if cmd.get("subcommands"):
        parts.append("\\fIcommand\\fR")
    return " ".join(parts)


def options(cmd: Dict[str, Any]) -> List[str]:
    out = []
    for a in cmd.get("arguments", []):
        if not a.get("shouldDisplay", True):
            continue
        out.append(".TP")
        out.append(option_line(a))
        text = a.get("abstract", "")
        if a.get("defaultValue") not in (None, ""):
            text += " (default: %s)" % a["defaultValue"]
        out.append(esc(text))
        if a.get("discussion"):
            out.append(esc(a["discussion"] if isinstance(a["discussion"], str) else ""))
    return out


def dump(section: str, version: str) -> str:
    cmd = json.load(sys.stdin)["command"]
    name = cmd["commandName"]
    lines = ['.TH %s %s "" "TwoSpeed %s" "%s"' % (name.upper(), section, version, TITLE.get(section, "TwoSpeed")),
             ".SH NAME", "%s \\- %s" % (esc(name), esc(cmd.get("abstract", ""))),
             ".SH SYNOPSIS", synopsis(name, cmd)]
    subs = [s for s in cmd.get("subcommands", []) if s.get("shouldDisplay", True) and s["commandName"] != "help"]
    for s in subs:
        lines += [".br", synopsis("%s %s" % (name, s["commandName"]), s)]
    lines.append(".SH DESCRIPTION")
    for p in [cmd.get("abstract", "")] + paragraphs(cmd.get("discussion", "")):
        lines += para(p)
    lines += [".SH OPTIONS"] + options(cmd)
    if subs:
        lines.append(".SH COMMANDS")
        for s in subs:
            lines += [".SS %s" % esc("%s %s" % (name, s["commandName"])), synopsis("%s %s" % (name, s["commandName"]), s)]
            for p in [s.get("abstract", "")] + paragraphs(s.get("discussion", "")):
                lines += para(p)
            lines += options(s)
    lines += see_also(name, section)
    return "\n".join(lines) + "\n"


def usage(name: str, section: str, version: str) -> str:
    """A page from a usage text: the Usage lines, its paragraphs, and its indented option lines."""
    text = sys.stdin.read()
    blocks = paragraphs(text)
    head = blocks[0].splitlines()
    lines = ['.TH %s %s "" "TwoSpeed %s" "%s"' % (name.upper(), section, version, TITLE.get(section, "TwoSpeed"))]
    summary = blocks[1].splitlines()[0] if len(blocks) > 1 else ""
    lines += [".SH NAME", "%s \\- %s" % (esc(name), esc(summary.rstrip(".")))]
    lines.append(".SH SYNOPSIS")
    for i, u in enumerate(head):
        if i:
            lines.append(".br")
        lines.append(esc(re.sub(r"^(Usage:)?\s*", "", u)))
    lines.append(".SH DESCRIPTION")
    for block in blocks[1:]:
        rows = block.splitlines()
        if all(r.startswith("  ") for r in rows):
            if not any(r.strip().startswith("-") for r in rows):
                lines += [".PP", esc(" ".join(r.strip() for r in rows))]
                continue
            lines.append(".SH OPTIONS")
            for r in rows:
                m = re.match(r"\s+(\S.*?)\s{2,}(\S.*)$", r)
                if m:
                    lines += [".TP", "\\fB%s\\fR" % esc(m.group(1)), esc(m.group(2))]
                else:
                    lines.append(esc(r.strip()))
        else:
            m = re.match(r"(Environment|Exit status): *", rows[0])
            if m:   # its own section, as man-pages(7) orders them
                lines += [".SH %s" % m.group(1).upper()]
                rows[0] = rows[0][m.end():]
            lines += [".PP", esc(" ".join(r.strip() for r in rows))]
    lines += see_also(name, section)
    return "\n".join(lines) + "\n"


def see_also(name: str, section: str) -> List[str]:
    pages = [p for p in ("twospeed(1)", "twospeedd(8)", "twospeed-rpc(1)", "twospeed(3)") if p != "%s(%s)" % (name, section)]
    return [".SH SEE ALSO", ", ".join("\\fB%s\\fR(%s)" % tuple(p[:-1].split("(")) for p in pages)]


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "dump":
        sys.stdout.write(dump(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "usage":
        sys.stdout.write(usage(sys.argv[2], sys.argv[3], sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
