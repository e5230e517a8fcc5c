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


#: The limits of one catalog file, as the command line has them (README.md, "Bringing in what your
#: tools hold"): each passed ends the file's reading in an error document with its line.
MAX_FILE_BYTES = 64 << 20
MAX_DEPTH = 256
MAX_ALIAS_VALUES = 100_000


def catalog_files(path: PathLike) -> List[str]:
    """The file itself, or the .yaml and .yml files under a folder, sorted. Folders symlinked in are
    not entered (os.walk's default), and a file symlinked from outside the folder is left out."""
    p = os.fspath(path)
    if not os.path.isdir(p):
        return [p]
    root_real = os.path.realpath(p)
    out: List[str] = []
    for root, dirs, files in os.walk(p):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in files:
            full = os.path.join(root, f)
            if not f.endswith((".yaml", ".yml")) or f.startswith("."):
                continue
            real = os.path.realpath(full)
            if real != root_real and not real.startswith(root_real.rstrip("/") + "/"):
                continue
            out.append(full)
    return sorted(out)


def _read_regular(name: str) -> str:
    """The file's text, opened without blocking and checked with fstat: a FIFO or device is refused
    (OSError), never waited on; a file over MAX_FILE_BYTES too."""
    import stat
    fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError("not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            raise OSError("the file is %d bytes, over the limit of %d bytes a catalog file may have" % (st.st_size, MAX_FILE_BYTES))
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read()
    finally:
        os.close(fd)
    return data.decode("utf-8-sig")


def _limit_passed(yaml: Any, text: str) -> Any:
    """(index of the document, line, column, reason) of the first limit the text passes, read event by
    event (iteratively, building nothing): nesting past MAX_DEPTH, or aliases that would expand a
    document past MAX_ALIAS_VALUES values (a "billion laughs" file). None when within the limits or
    when the YAML is broken first (the loader reports that in its words)."""
    stack: List[List[Any]] = []
    anchors: Dict[str, int] = {}
    document, expanded = -1, 0
    try:
        # libyaml's parser when PyYAML has it: the pure-Python one takes a second to reach the limit.
        for ev in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            where = (document, ev.start_mark.line + 1, ev.start_mark.column + 1)
            if isinstance(ev, yaml.DocumentStartEvent):
                document += 1
                anchors, expanded, stack = {}, 0, []
            elif isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(stack) >= MAX_DEPTH:
                    return where + ("nesting deeper than %d levels" % MAX_DEPTH,)
                stack.append([1, ev.anchor])
            elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                values, anchor = stack.pop()
                if anchor:
                    anchors[anchor] = values
                if stack:
                    stack[-1][0] += values
            elif isinstance(ev, yaml.ScalarEvent):
                if ev.anchor:
                    anchors[ev.anchor] = 1
                if stack:
                    stack[-1][0] += 1
            elif isinstance(ev, yaml.AliasEvent):
                n = anchors.get(ev.anchor, 1)
                expanded += n
                if expanded > MAX_ALIAS_VALUES:
                    return where + ("aliases expand this document past %d values (an alias bomb?); "
                                    "nothing after this line is read" % MAX_ALIAS_VALUES,)
                if stack:
                    stack[-1][0] += n
    except yaml.YAMLError:
        return None
    return None


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
            try:
                text = _read_regular(name)
            except (OSError, UnicodeDecodeError) as e:
                docs.append({"file": name, "line": 1, "error": "cannot read: %s" % (e.strerror or e if isinstance(e, OSError) else e)})
                continue
            limit = _limit_passed(yaml, text)
            loader = yaml.SafeLoader(text)
            read = 0
            try:
                while (limit is None or read < limit[0]) and loader.check_node():
                    node = loader.get_node()
                    read += 1
                    if node is None:
                        continue
                    lines: Dict[str, int] = {}
                    _lines(node, "", lines)
                    docs.append({"file": name, "line": node.start_mark.line + 1,
                                 "entity": loader.construct_document(node), "lines": lines})
                if limit is not None:
                    docs.append({"file": name, "line": limit[1], "column": limit[2], "error": "YAML: " + limit[3]})
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
