"""The project's own queries against what a real server answered them.

``../shared/gel-transcripts/product_queries.json`` records every constant query the project
sends by itself (module constants of ``ecc`` named ``*_QUERY``, and the entries of the
``PARTS``-style dicts), run on a real EdgeDB 5.8 server whenever main changes. The guard:

- a query whose exact text the recording holds with an error answer fails here, naming the
  query and the server's error (``select Global`` reached users this way);
- a query whose text the recording holds with an ``ok`` answer passes;
- a query the recording does not hold yet (new, or changed since the recording) is reported as
  XFAIL with its name: it waits for the next recording, and is not a reason to block CI;
- a recorded error its module expects (``EXPECTED_ERRORS = {"NAME_QUERY": (error class, why)}``:
  a query for a newer server that the code falls back from, ``sys::Branch`` on 5.8) passes
  only with that very error class.

The same recording checks the fake client: it refuses what the server could not parse, parses
what the server answered, and answers ``analyze`` per method as the server did.
"""

from __future__ import annotations

import ast
import asyncio
import functools
import importlib
import json
import pkgutil
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import gel.errors
import pytest

import ecc
from ecc.fake.client import FakeClient, syntax_error
from tests.transcripts import TRANSCRIPTS_DIR

PRODUCT_QUERIES_PATH = TRANSCRIPTS_DIR / "product_queries.json"
needs_recording = pytest.mark.skipif(
    not PRODUCT_QUERIES_PATH.exists(),
    reason=f"no recording of the project's queries at {PRODUCT_QUERIES_PATH}",
)
WAITS = "a new query waits for the next recording, which happens whenever main changes"
_DICT_NAME = re.compile(r"(?:[A-Z][A-Z0-9_]*_)?(?:PARTS|QUERIES)")


@dataclass(frozen=True)
class ProjectQuery:
    source: str  # as the recording names it: "ecc.schema.introspect.PARTS['globals']"
    text: str


@dataclass(frozen=True)
class Verdict:
    outcome: Literal["ok", "error", "unrecorded"]
    message: str


# --- finding the project's constant queries ---------------------------------------------------


def _assigned_names(module: ModuleType) -> set[str]:
    """Names a module assigns at its top level (what it imports is another module's)."""
    path = getattr(module, "__file__", None)
    if not path or not path.endswith(".py"):
        return set()
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _ecc_modules() -> list[ModuleType]:
    found = pkgutil.walk_packages(ecc.__path__, prefix="ecc.")
    return [importlib.import_module(info.name) for info in sorted(found, key=lambda i: i.name)]


def queries_of(module: ModuleType) -> list[ProjectQuery]:
    """The constant queries ``module`` defines: ``*_QUERY`` strings, and the string values of
    dicts named like ``PARTS`` / ``BASIC_QUERIES`` / ``STANDARD_PARTS``."""
    out = []
    for name in sorted(_assigned_names(module)):
        value = getattr(module, name, None)
        if name.endswith("_QUERY") and isinstance(value, str):
            out.append(ProjectQuery(f"{module.__name__}.{name}", value))
        elif _DICT_NAME.fullmatch(name) and isinstance(value, Mapping):
            out.extend(ProjectQuery(f"{module.__name__}.{name}[{key!r}]", text)
                       for key, text in value.items() if isinstance(text, str))
    return out


@functools.cache
def project_queries() -> tuple[ProjectQuery, ...]:
    return tuple(q for module in _ecc_modules() for q in queries_of(module))


# --- the recording ----------------------------------------------------------------------------


@functools.cache
def recording() -> dict[str, Any]:
    if not PRODUCT_QUERIES_PATH.exists():
        return {"meta": {}, "cases": []}
    data: dict[str, Any] = json.loads(PRODUCT_QUERIES_PATH.read_text(encoding="utf-8"))
    return data


def _words(text: str) -> str:
    return " ".join(text.split())


def verdict(query: ProjectQuery, cases: Iterable[Mapping[str, Any]], recorded: str) -> Verdict:
    """What the recording says about ``query``, matched by its text (whitespace aside): an
    answer to this very text decides; a source recorded with another text is only context."""
    cases = list(cases)
    same_text = [c for c in cases if _words(c["query"]) == _words(query.text)]
    errors = [c for c in same_text if not c.get("ok")]
    if same_text and len(errors) == len(same_text):
        error = errors[0]["error"]
        return Verdict("error", (
            f"{query.source} failed on a real server (recorded {recorded}): "
            f"{error['class']}: {error['message']}. Users meet this error. Fix the query, and "
            "make the fake client (ecc/fake/client.py) refuse the recorded text as the server did, "
            f"so an offline test shows it; the fixed text is unrecorded until then ({WAITS})."))
    if same_text:
        return Verdict("ok", f"{query.source} answered ok on a real server (recorded {recorded})")
    previous = [c for c in cases if c.get("source") == query.source]
    changed = ""
    if previous:
        answer = "ok" if previous[0].get("ok") else "an error"
        changed = (f" Its text changed since the recording of {recorded}, which answered the "
                   f"previous text with {answer}.")
    return Verdict("unrecorded", (
        f"{query.source} has not met a real server yet: product_queries.json (recorded "
        f"{recorded}) does not hold its text.{changed} Keep it a module constant (*_QUERY or a "
        f"PARTS-style dict) so the recording finds it; {WAITS}."))


# --- the guard --------------------------------------------------------------------------------


def test_the_guard_finds_the_projects_constant_queries() -> None:
    from ecc.schema import introspect

    sources = {q.source: q.text for q in project_queries()}
    assert sources["ecc.schema.introspect.GLOBALS_QUERY"] == introspect.GLOBALS_QUERY
    assert sources["ecc.schema.introspect.PARTS['globals']"] == introspect.GLOBALS_QUERY
    assert sources["ecc.schema.introspect.BASIC_QUERIES['standard functions']"] == \
        introspect.BASIC_QUERIES["standard functions"]
    assert "ecc.schema.view.QUERY_LIMIT" not in sources  # not a query
    # a query imported from another module counts once, where it is defined
    assert not [s for s in sources if s.startswith("ecc.fake.schema.")]


def test_the_guards_rule() -> None:
    query = ProjectQuery("ecc.m.X_QUERY", "select  1")
    ok = {"source": "ecc.m.X_QUERY", "query": "select 1", "ok": True}
    error = {"source": "ecc.m.X_QUERY", "query": "select 1", "ok": False,
             "error": {"class": "EdgeQLSyntaxError", "message": "Unexpected '1'"}}
    old_text = {**error, "query": "select 2"}
    assert verdict(query, [ok], "today").outcome == "ok"
    failed = verdict(query, [error], "today")
    assert failed.outcome == "error"
    assert "ecc.m.X_QUERY" in failed.message and "EdgeQLSyntaxError: Unexpected '1'" in \
        failed.message
    assert verdict(query, [error, {**ok, "source": "fact"}], "today").outcome == "ok"
    new = verdict(query, [], "today")
    assert new.outcome == "unrecorded" and WAITS in new.message
    changed = verdict(query, [old_text], "today")
    assert changed.outcome == "unrecorded" and "previous text with an error" in changed.message


def expected_error(query: ProjectQuery) -> str | None:
    """The error class ``query``'s module says a recorded server answers it with, on purpose."""
    module_name, _, name = query.source.rpartition(".")
    expected = getattr(importlib.import_module(module_name), "EXPECTED_ERRORS", {}) \
        if module_name.startswith("ecc.") and "[" not in name else {}
    entry = expected.get(name)
    return entry[0] if entry else None


def recorded_error_class(query: ProjectQuery, cases: Iterable[Mapping[str, Any]]) -> str | None:
    for case in cases:
        if _words(case["query"]) == _words(query.text) and not case.get("ok"):
            return str(case["error"]["class"])
    return None


def test_an_expected_error_is_named_by_its_module() -> None:
    from ecc.branches import catalog

    query = ProjectQuery("ecc.branches.catalog.BRANCHES_QUERY", catalog.BRANCHES_QUERY)
    assert expected_error(query) == "InvalidReferenceError"
    assert expected_error(ProjectQuery("ecc.branches.catalog.DATABASES_QUERY", "x")) is None


@needs_recording
@pytest.mark.parametrize("query", project_queries(), ids=lambda q: q.source)
def test_every_constant_query_met_a_real_server(query: ProjectQuery) -> None:
    data = recording()
    found = verdict(query, data["cases"], str(data["meta"].get("recorded", "?")))
    if found.outcome == "error":
        expected = expected_error(query)
        if expected is not None and expected == recorded_error_class(query, data["cases"]):
            return  # the answer the code falls back from, as its module says
        pytest.fail(found.message, pytrace=False)
    if found.outcome == "unrecorded":
        pytest.xfail(found.message)


# --- the fake client against the recording ----------------------------------------------------


def _cases(*, ok: bool | None = None, source: str | None = None) -> list[dict[str, Any]]:
    return [c for c in recording()["cases"]
            if (ok is None or bool(c.get("ok")) == ok)
            and (source is None or c.get("source") == source)]


@needs_recording
def test_the_fake_refuses_what_the_server_could_not_parse() -> None:
    refused = [c for c in _cases(ok=False) if c["error"]["class"] == "EdgeQLSyntaxError"]
    assert refused, "the recording holds no syntax error to compare with"
    for case in refused:
        with pytest.raises(gel.errors.EdgeQLSyntaxError) as caught:
            asyncio.run(FakeClient().query(case["query"]))
        assert caught.value.args[0] == case["error"]["message"], case["source"]


@needs_recording
def test_the_fake_parses_every_query_the_server_answered() -> None:
    answered = _cases(ok=True)
    assert len(answered) > 20
    assert [c["query"] for c in answered if syntax_error(c["query"]) is not None] == []


ANALYZE_SOURCE = "analyze via the driver"


@needs_recording
@pytest.mark.parametrize("case", _cases(ok=True, source=ANALYZE_SOURCE),
                         ids=lambda c: c["method"])
def test_the_fake_answers_analyze_as_the_server_did(case: dict[str, Any]) -> None:
    answer = asyncio.run(getattr(FakeClient(), case["method"])(case["query"]))
    if "rows" in case:  # a set of rows: the plan's text per row
        assert isinstance(answer, list) and len(answer) == case["rows"]
        assert all(repr(row)[0] == head[0] for row, head in zip(answer, case["head"],
                                                                 strict=False))
        assert all(isinstance(json.loads(row), dict) for row in answer)
    else:  # one str holding JSON of the recorded top-level type
        assert case["type"] == "str (json)" and isinstance(answer, str)
        assert type(json.loads(answer)).__name__ == case["json_top_level"]


@needs_recording
def test_the_recording_has_analyze_through_the_json_methods() -> None:
    methods = {c["method"] for c in _cases(ok=True, source=ANALYZE_SOURCE)}
    assert {"query", "query_single", "query_json", "query_single_json"} <= methods
