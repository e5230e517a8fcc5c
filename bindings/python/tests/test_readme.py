"""The package README's examples, run as written: every ```py block, from the repository's root (in a
scratch folder that links its examples/, Tests/ and docs/), with $TWOSPEED_SOCKET naming a real daemon for the blocks that
use one. A block followed by a ```text block prints exactly that text. And every helper the README names
(the interface table, the delivery-log readers, the frames) is called by some block, so a helper added to
the table without an example fails here.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Dict, List, Optional, Tuple

import pytest

from conftest import PACKAGE_ROOT, ROOT

README = os.path.join(PACKAGE_ROOT, "README.md")


def readme() -> str:
    with open(README, encoding="utf-8") as f:
        return f.read()


def blocks(text: str) -> List[Tuple[int, str, Optional[str]]]:
    """(line, code, expected output or None) of each ```py block; fences must open and close on lines
    of their own (a closing fence with text after it does not close in CommonMark)."""
    lines = text.split("\n")
    out: List[Tuple[int, str, Optional[str]]] = []
    fenced: List[Tuple[int, str, str]] = []
    i = 0
    while i < len(lines):
        m = re.fullmatch(r"```(\w*)", lines[i])
        if m:
            start = i
            i += 1
            body = []
            while i < len(lines) and lines[i] != "```":
                assert not lines[i].startswith("```"), "README line %d: a fence with text after it" % (i + 1)
                body.append(lines[i])
                i += 1
            assert i < len(lines), "README line %d: a block that never closes" % (start + 1)
            fenced.append((start + 1, m.group(1), "\n".join(body) + "\n"))
        i += 1
    for k, (line, lang, body) in enumerate(fenced):
        if lang != "py":
            continue
        nxt = fenced[k + 1] if k + 1 < len(fenced) else None
        # The output block belongs to this one when only blank lines or one short line lie between them.
        expected = None
        if nxt and nxt[1] == "text":
            between = lines[line + body.count("\n"):nxt[0] - 1]
            if len([b for b in between if b.strip()]) <= 1:
                expected = nxt[2]
        out.append((line, body, expected))
    return out


def helpers(text: str) -> Dict[str, str]:
    """Each helper the README names, with the call a block must make: `.name(` for a connection's
    methods (the interface table), `twospeed.name(` for the package's functions, `tf.name(` for frames."""
    names: Dict[str, str] = {}
    table = text.split("## The interface", 1)[1].split("\n\n", 2)[1]
    for row in table.splitlines():
        if not row.startswith("| `"):
            continue
        for name in re.findall(r"`([\w.]+)\(", row.split(" | ")[0]):
            if name.startswith("twospeed."):
                names[name] = name + "("
            else:
                names[name] = "." + name + "("
    frames = text.split("`twospeed.frames` turns results", 1)[1].split("\n\n", 1)[0]
    # history(assessment_history(...)): the connection's methods named inside are not frames.
    for name in re.findall(r"(?<![\w.])(\w+)\(", frames):
        if name not in ("assessment_history", "delivery_metrics"):
            names["tf." + name] = "tf." + name + "("
    return names


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    # The repository's folders seen from a scratch folder, so that what a block writes stays out of the checkout.
    folder = tmp_path_factory.mktemp("readme")
    for name in ("examples", "Tests", "docs"):
        os.symlink(os.path.join(ROOT, name), folder / name)
    return folder


def run_block(code: str, cwd, socket: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, TWOSPEED_SOCKET=socket, PYTHONPATH=os.pathsep.join([PACKAGE_ROOT] + sys.path))
    return subprocess.run([sys.executable, "-c", code], cwd=str(cwd), capture_output=True, text=True, timeout=180, env=env)


CODE = blocks(readme())


@pytest.mark.parametrize("line,code,expected", CODE, ids=["line %d" % b[0] for b in CODE])
def test_each_readme_block_runs_as_written(line, code, expected, scratch, daemon):
    if "twospeed.frames" in code:
        pytest.importorskip("pandas")
    done = run_block(code, scratch, daemon.socket)
    assert done.returncode == 0, "README line %d:\n%s" % (line, done.stderr[-3000:])
    if expected is not None:
        assert done.stdout == expected, "README line %d printed:\n%s" % (line, done.stdout)


def test_every_helper_has_an_example():
    text = readme()
    names = helpers(text)
    # The table and the frames paragraph are read (a parser that finds nothing would pass anything).
    assert {".record_delivery(", ".delivery_metrics(", ".render_report(", "twospeed.read_deployments(",
            "twospeed.read_incidents(", "tf.four_keys(", "tf.experiments("} <= set(names.values()), names
    assert len(names) >= 45, sorted(names)
    code = "\n".join(b[1] for b in CODE)
    missing = sorted(n for n, call in names.items() if call not in code)
    assert missing == [], "helpers in README.md with no example: %s" % missing


def test_the_block_parser_catches_a_fence_with_text_after_it():
    # The near-miss that hid an example: "``` Dates and ..." does not close the block in CommonMark.
    with pytest.raises(AssertionError, match="a fence with text after it"):
        blocks("```py\nprint(1)\n``` Dates are sent in ISO 8601\n")
    assert blocks("```py\nprint(1)\n```\n\n```text\n1\n```\n") == [(1, "print(1)\n", "1\n")]
