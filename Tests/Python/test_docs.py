"""docs/*.md run as written: every `file=NAME` block is saved into a scratch copy of the checkout's top
(include/, build/, examples/ and bindings/ linked in), every `sh run` and `python run` block runs there
in order, and a `text output` block after one must appear in its output, line for line. Each page's
field tables are held to the engine's own schemas, so a field cannot be added or dropped unnoticed."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Dict, List, Set, Tuple

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "docs")
# The build tree the pages speak of (build/lib, build/bin): the checkout's, or $TWOSPEED_BUILD's (make
# check's debug build under the same names).
BUILD = os.environ.get("TWOSPEED_BUILD") or os.path.join(ROOT, "build")
PAGES = ["portfolio-model.md", "assessment-model.md", "plugins.md", "c-api.md", "fourkeys.md"]
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))

import twospeed  # noqa: E402

BLOCK = re.compile(r"^```([^\n]*)\n(.*?)^```$", re.S | re.M)


def read(page: str) -> str:
    with open(os.path.join(DOCS, page), encoding="utf-8") as f:
        return f.read()


def blocks(page: str) -> List[Tuple[str, str]]:
    return [(m.group(1).strip(), m.group(2)) for m in BLOCK.finditer(read(page))]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    ws = tmp_path_factory.mktemp("docs")
    for d in ("include", "examples", "bindings"):
        os.symlink(os.path.join(ROOT, d), ws / d)
    os.symlink(BUILD, ws / "build")
    for page in PAGES:
        for info, body in blocks(page):
            m = re.search(r"\bfile=(\S+)", info)
            if m:
                path = ws / m.group(1)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(body, encoding="utf-8")
    return ws


def env(ws) -> Dict[str, str]:
    # As a reader's shell would be: the built programs on PATH, the package from the checkout (it finds
    # the library in build/lib by itself), nothing pointing elsewhere.
    e = {k: v for k, v in os.environ.items() if k not in ("TWOSPEED_LIBRARY", "LD_LIBRARY_PATH", "PYTHONPATH")}
    e["PATH"] = os.path.join(BUILD, "bin") + os.pathsep + e.get("PATH", "")
    e["PYTHONPATH"] = str(ws / "bindings" / "python")
    if os.path.realpath(BUILD) != os.path.realpath(os.path.join(ROOT, "build")):
        # The package looks in its own checkout's build/lib, which is not this build tree.
        e["TWOSPEED_LIBRARY"] = os.path.join(BUILD, "lib", "libtwospeed.so.0")
    return e


def run_page(page: str, ws) -> int:
    """Runs the page's run blocks in order; returns how many ran."""
    ran = 0
    items = blocks(page)
    for i, (info, body) in enumerate(items):
        words = info.split()
        if "run" not in words:
            continue
        if words[0] == "sh":
            cmd = ["bash", "-e", "-o", "pipefail", "-c", body]
        elif words[0] == "python":
            cmd = [sys.executable, "-c", body]
        else:
            raise AssertionError("%s: cannot run a %s block" % (page, words[0]))
        r = subprocess.run(cmd, cwd=str(ws), env=env(ws), capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, "%s, block %d:\n%s\n--- stdout\n%s\n--- stderr\n%s" % (page, i, body, r.stdout, r.stderr)
        ran += 1
        if i + 1 < len(items) and items[i + 1][0].split()[:2] == ["text", "output"]:
            got = r.stdout.splitlines()
            at = 0
            for want in [line for line in items[i + 1][1].splitlines() if line.strip()]:
                assert want in got[at:], "%s, block %d: %r not in the output (in order):\n%s" % (page, i, want, r.stdout)
                at = got.index(want, at) + 1
    return ran


def tables(page: str) -> Dict[str, Set[str]]:
    """Per `## Title` or `### Title` heading, the backticked names in the first column of its first table."""
    out: Dict[str, Set[str]] = {}
    title = None
    for line in read(page).splitlines():
        if line.startswith("#"):
            h = re.match(r"#{2,3} (\w+)\s*$", line)
            title = h.group(1) if h else None
            continue
        m = re.match(r"\| `([^`]+)` \|", line)
        if m and title is not None:
            out.setdefault(title, set()).add(m.group(1))
    return out


def object_schemas(schema, found=None) -> Dict[str, Set[str]]:
    """Every titled object schema reachable from `schema`: its title and its properties."""
    found = {} if found is None else found
    if isinstance(schema, dict):
        if schema.get("title") and schema.get("properties"):
            found.setdefault(schema["title"], set()).update(schema["properties"])
        for k in ("properties",):
            for v in schema.get(k, {}).values():
                object_schemas(v, found)
        for k in ("items", "additionalProperties"):
            object_schemas(schema.get(k), found)
        for v in schema.get("anyOf", []):
            object_schemas(v, found)
    return found


@pytest.fixture(scope="module")
def discover():
    with twospeed.Engine() as eng:
        return eng.discover()


def param_schema(doc, method: str) -> dict:
    return next(m for m in doc["methods"] if m["name"] == method)["params"][0]["schema"]


def test_portfolio_model_names_every_field_of_every_entity(discover):
    schemas = object_schemas(param_schema(discover, "portfolio.put"))
    documented = tables("portfolio-model.md")
    assert set(schemas) <= set(documented), "entities without a section: %s" % (set(schemas) - set(documented))
    for title, fields in schemas.items():
        assert documented[title] == fields, "%s: documented %s, schema %s" % (title, documented[title], fields)


def test_portfolio_model_example_is_stored_and_assessed(workspace):
    with open(workspace / "shop.json", encoding="utf-8") as f:
        shop = json.load(f)
    with twospeed.Engine() as eng:
        put = eng.put_portfolio(shop)
        assert put["counts"]["products"] == 1 and put["counts"]["observations"] == 2
        result = eng.run_assessment("shop")
        assert result["overall"]["sufficientEvidence"] and "level" in result["overall"]
    assert run_page("portfolio-model.md", workspace) == 1


def test_assessment_model_names_every_field_and_every_fact(discover, workspace):
    schema = param_schema(discover, "assessment.model.put")
    schemas = object_schemas(schema)
    documented = tables("assessment-model.md")
    for title in ("AssessmentModel", "Level", "LevelCap", "Dimension", "Criterion"):
        assert documented.get(title) == schemas[title], title
    facts = schema["properties"]["dimensions"]["items"]["properties"]["criteria"]["items"]["properties"]["fact"]["enum"]
    catalog = re.search(r"## The fact catalog\n(.*?)(?:\n## |\Z)", read("assessment-model.md"), re.S).group(1)
    assert set(re.findall(r"^\| `(\w+)` \|", catalog, re.M)) == set(facts)
    assert run_page("assessment-model.md", workspace) == 1


def test_plugin_guide_names_every_manifest_field_and_its_check_runs(workspace):
    # The engine names the manifest's fields when one is unknown: the table must list exactly those.
    bogus = workspace / "bogus-plugin"
    bogus.mkdir(exist_ok=True)
    (bogus / "plugin.json").write_text(json.dumps({"name": "b", "version": "1", "kind": "process", "path": "x",
                                                    "extensionPoints": ["check"], "zzz": 1}))
    with twospeed.Engine() as eng:
        with pytest.raises(twospeed.InvalidParams) as e:
            eng.call("plugin.load", {"manifest": str(bogus / "plugin.json")})
    fields = set(e.value.data["reason"].split("expected one of: ", 1)[1].split(", "))
    manifest = re.search(r"## The manifest\n(.*?)\n## ", read("plugins.md"), re.S).group(1)
    assert set(re.findall(r"^\| `(\w+)` \|", manifest, re.M)) == fields
    assert run_page("plugins.md", workspace) == 1


def test_c_api_guide_builds_and_runs(workspace):
    assert run_page("c-api.md", workspace) == 2


def test_fourkeys_guide_imports_the_exported_tables_and_gives_the_figures(workspace):
    assert run_page("fourkeys.md", workspace) == 1


def test_the_readme_points_at_docs_not_at_a_missing_domain_md():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    assert "DOMAIN.md" not in readme
    for page in PAGES:
        assert "docs/%s" % page in readme, page
    for link in re.findall(r"\]\(([^)#:]+)\)", readme):
        assert os.path.exists(os.path.join(ROOT, link)), link
