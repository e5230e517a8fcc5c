"""Engine.import_backstage and Engine.import_csv, through both transports (in-process and the daemon)."""
from __future__ import annotations

import os

import pytest

import twospeed
from conftest import ROOT, retailer

EXAMPLE = os.path.join(ROOT, "examples", "backstage")
BROKEN = os.path.join(ROOT, "Tests", "Fixtures", "backstage-broken")


def test_import_backstage_from_a_folder(conn):
    import yaml  # noqa: F401  (make deps installs PyYAML; the helper needs it for files)
    r = conn.import_backstage("shop", EXAMPLE, organization="Shop")
    assert r["portfolioCreated"] is True
    assert r["created"] == {"departments": 3, "managers": 3, "teams": 3, "systems": 7}
    assert r["skipped"] == 0 and r["unmapped"] == 1
    # The Location's problem names its file and line, read with PyYAML.
    (loc,) = [p for p in r["problems"] if p.get("unmapped")]
    assert loc["file"].endswith("systems.yaml") and loc["line"] == 148
    web = conn.get_entity("shop", "system", "web-shop")
    assert web["layer"] == "front-end" and web["status"] == "production"
    assert {(i["to"], i["kind"]) for i in web["interfaces"]} == {("payment-service", "api"), ("shop-bff", "api")}
    # Again: nothing changes, the revision stays.
    again = conn.import_backstage("shop", [EXAMPLE])
    assert again["unchanged"]["systems"] == 7 and again["revision"] == r["revision"]


def test_import_backstage_reports_broken_records_by_file_and_line(conn):
    import yaml  # noqa: F401  (make deps installs PyYAML; the helper needs it for files)
    r = conn.import_backstage("b", BROKEN)
    by_reason = {p["reason"]: p for p in r["problems"]}
    owner = next(p for reason, p in by_reason.items() if "spec.owner is required" in reason)
    assert owner["file"].endswith("catalog.yaml") and owner["line"] == 23
    assert owner["pointer"].endswith("/entity/spec/owner")
    bad_yaml = next(p for reason, p in by_reason.items() if reason.startswith("YAML"))
    assert bad_yaml["file"].endswith("bad.yaml") and bad_yaml["line"] == 15
    # The YAML error and the component without an owner; the ones naming what the catalog lacks are kept.
    assert r["skipped"] == 2 and r["unresolved"] == 2
    assert any(p["reason"].startswith("unresolved reference: resource:default/missing-db") and not p["skipped"]
               for p in r["problems"])
    with pytest.raises(twospeed.InvalidParams) as e:
        conn.import_backstage("b2", BROKEN, atomic=True)
    assert any(i.pointer.endswith("/entity/spec/owner") for i in e.value.errors)
    with pytest.raises(twospeed.NotFound):
        conn.get_portfolio("b2")


def test_import_backstage_takes_documents_made_in_python(conn):
    docs = [
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": "core"},
         "spec": {"type": "team", "children": []}},
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "api"},
         "spec": {"type": "service", "lifecycle": "production", "owner": "core", "tags": []}},
    ]
    rules = [{"type": "service", "layer": "platform"}]
    r = conn.import_backstage("py", documents=docs, rules=rules)
    assert r["created"] == {"teams": 1, "systems": 1}
    assert conn.get_entity("py", "system", "api")["layer"] == "platform"


def test_import_csv_from_a_file_and_from_text(conn, tmp_path):
    conn.put_portfolio(retailer())
    path = tmp_path / "teams.csv"
    # As Excel writes it: a BOM, semicolons, CRLF, a quoted field.
    path.write_bytes("\ufeffid;name;size;roles\r\nsquad-x;\"Squad; X\";7;\"engineer;designer\"\r\nsquad-y;Y;0;\r\n"
                     .encode("utf-8"))
    r = conn.import_csv("retailer", "team", path)
    assert r["created"] == {"teams": 1} and r["skipped"] == 1
    (p,) = r["problems"]
    assert (p["row"], p["column"], p["field"]) == (3, 3, "size")
    team = conn.get_entity("retailer", "team", "squad-x")
    assert team["name"] == "Squad; X" and team["size"] == 7
    r2 = conn.import_csv("retailer", "team", text="id,size\nsquad-x,9\n")
    assert r2["updated"] == {"teams": 1}
    assert conn.get_entity("retailer", "team", "squad-x")["name"] == "Squad; X"
    with pytest.raises(twospeed.InvalidParams):
        conn.import_csv("retailer", "team", text="id,colour\nx,red\n")
    with pytest.raises(TypeError):
        conn.import_csv("retailer", "team")


def _bomb(entity: str) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append("a%d: &a%d [%s]" % (i, i, ",".join(["*a%d" % (i - 1)] * 9)))
    return entity + "---\n" + "\n".join(lines) + "\n"


ENTITY = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec: {type: service, lifecycle: production, owner: x}\n"


def test_hostile_catalog_files_end_in_an_error_with_their_line_quickly_and_small(tmp_path):
    """The alias bomb, a 100,000-deep document, a FIFO and symlinks out of the folder: each an error or
    left out, within a second and under 100 MB, the documents before it kept."""
    import resource
    import time
    pytest.importorskip("yaml")
    from twospeed._catalog import catalog_documents
    (tmp_path / "bomb.yaml").write_text(_bomb(ENTITY % "before-bomb"))
    (tmp_path / "deep.yaml").write_text(ENTITY % "before-deep" + "---\na: " + "[" * 100000 + "]" * 100000 + "\n")
    (tmp_path / "near.yaml").write_text("a: " + "[" * 200 + "]" * 200 + "\n")
    os.mkfifo(tmp_path / "p.yaml")
    outside = tmp_path.parent / (tmp_path.name + "-outside.yaml")
    outside.write_text(ENTITY % "outside")
    os.symlink(outside, tmp_path / "out.yaml")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    docs = catalog_documents([tmp_path])
    elapsed = time.monotonic() - t0
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    by_file = {}
    for d in docs:
        by_file.setdefault(os.path.basename(d["file"]), []).append(d)
    assert [d["entity"]["metadata"]["name"] for d in by_file["bomb.yaml"][:1]] == ["before-bomb"]
    assert by_file["bomb.yaml"][1]["line"] == 12 and "aliases expand this document past 100000 values" in by_file["bomb.yaml"][1]["error"]
    assert by_file["deep.yaml"][1] == {"file": str(tmp_path / "deep.yaml"), "line": 7, "column": 259,
                                       "error": "YAML: nesting deeper than 256 levels"}
    assert "error" not in by_file["near.yaml"][0], "200 levels are read"
    assert by_file["p.yaml"] == [{"file": str(tmp_path / "p.yaml"), "line": 1, "error": "cannot read: not a regular file"}]
    assert "out.yaml" not in by_file, "a symlink out of the folder is left out"
    assert elapsed < 1 and grew_mb < 100, (elapsed, grew_mb)
