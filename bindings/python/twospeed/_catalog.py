"""Backstage catalog files as the documents import.backstage takes, read with PyYAML.

Each YAML document becomes {"file", "line", "entity", "lines"}: `lines` maps the JSON pointer of every
value inside the entity to the line it was written on, so that the engine names the line of any
problem. A file that does not parse becomes {"file", "line", "column", "error"} where parsing stopped
(the documents after it in that file are not read). PyYAML is needed only here, and only when files
are given: documents made in Python need nothing beyond the package.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Iterable, List, Union

__all__ = ["catalog_documents", "catalog_files"]

PathLike = Union[str, "os.PathLike[str]"]


def catalog_files(path: PathLike) -> List[str]:
    """The file itself, or the .yaml and .yml files under a folder, sorted."""
    p = os.fspath(path)
    if not os.path.isdir(p):
        return [p]
    out: List[str] = []
    for root, dirs, files in os.walk(p):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [os.path.join(root, f) for f in files if f.endswith((".yaml", ".yml")) and not f.startswith(".")]
    return sorted(out)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _lines(node: Any, pointer: str, into: Dict[str, int]) -> None:
    import yaml  # type: ignore[import-untyped]  # PyYAML ships no type stubs
    into[pointer] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            _lines(v, pointer + "/" + _escape(str(k.value)), into)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _lines(v, "%s/%d" % (pointer, i), into)


def catalog_documents(paths: Iterable[PathLike]) -> List[Dict[str, Any]]:
    """The documents of every catalog file (or folder of them) in `paths`."""
    try:
        import yaml
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("reading catalog files needs PyYAML (pip install PyYAML); "
                          "or pass documents= already parsed") from e
    docs: List[Dict[str, Any]] = []
    for path in paths:
        for name in catalog_files(path):
            with open(name, "r", encoding="utf-8-sig") as f:
                text = f.read()
            loader = yaml.SafeLoader(text)
            try:
                while loader.check_node():
                    node = loader.get_node()
                    if node is None:
                        continue
                    lines: Dict[str, int] = {}
                    _lines(node, "", lines)
                    docs.append({"file": name, "line": node.start_mark.line + 1,
                                 "entity": loader.construct_document(node), "lines": lines})
            except yaml.YAMLError as e:
                mark = getattr(e, "problem_mark", None)
                doc: Dict[str, Any] = {"file": name, "line": (mark.line + 1) if mark else 1,
                                       "error": "YAML: %s" % (getattr(e, "problem", None) or e)}
                if mark:
                    doc["column"] = mark.column + 1
                docs.append(doc)
            finally:
                loader.dispose()
    return docs
