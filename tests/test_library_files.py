"""Saved queries as files, and the team's library: export and import round-trip, an imported
file is hostile input refused entry by entry with a message naming the file and the entry,
and the team folder is read-only, bounded and never leaves its folder."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from ecc.driver.client import QueryMethod
from ecc.library.entries import MemoryLimits, SavedQuery
from ecc.library.files import (
    MARKER,
    export_edgeql,
    export_json,
    import_file,
    max_import_bytes,
)
from ecc.library.team import MAX_TEAM_FILES, max_file_bytes, read_team_library

LIMITS = MemoryLimits(max_query_chars=500, max_args_chars=100, saved_size=7,
                      saved_chars=50_000)
QUERIES = [
    SavedQuery(id="a", name="Movies since", query="select Movie { title }\nfilter .year >= "
               "<int64>$year;", method=QueryMethod.QUERY_JSON, kwargs_text="{\n year: 2020}",
               when=1_700_000_000.0, description="Line one\nline two", branch="staging"),
    SavedQuery(id="b", name="# not a header: really", query="# a comment in the query\n"
               "select 1", args_text="[1, 'two']", when=1_700_000_100.0),
    SavedQuery(id="c", name="Ünïcødé 🎬 <b>x</b>", query=f"select 1\n{MARKER}\nselect 2",
               method=QueryMethod.QUERY_REQUIRED_SINGLE, when=1_700_000_200.0),
]


def same(a: SavedQuery, b: SavedQuery) -> bool:
    fields = ("name", "query", "method", "args_text", "kwargs_text", "when", "description",
              "branch")
    return all(getattr(a, f) == getattr(b, f) for f in fields)


@pytest.mark.parametrize(("name", "export"), [("saved.json", export_json),
                                              ("saved.edgeql", export_edgeql)])
def test_an_export_imports_back_to_the_same_queries(name: str, export: object) -> None:
    assert callable(export)
    result = import_file(name, export(QUERIES).encode(), LIMITS)
    assert result.problems == ()
    assert len(result.queries) == len(QUERIES)
    for got, want in zip(result.queries, QUERIES, strict=True):
        assert same(got, want), (got, want)
    assert {q.id for q in result.queries}.isdisjoint({"a", "b", "c"})  # new ids


def test_the_edgeql_export_reads_as_edgeql_with_a_small_header() -> None:
    text = export_edgeql(QUERIES[:1])
    assert f"{MARKER}\n# name: Movies since\n# method: query_json\n" in text
    assert "# named_arguments: \"{\\n year: 2020}\"" in text
    assert text.rstrip().endswith("filter .year >= <int64>$year;")


def test_a_plain_edgeql_file_is_one_query_named_after_the_file() -> None:
    text = "# Top ten movies\n# by rating\n\nselect Movie order by .rating limit 10\n"
    [query] = import_file("dir/top ten.edgeql", text.encode(), LIMITS).queries
    assert (query.name, query.description, query.query) == (
        "top ten", "Top ten movies\nby rating", "select Movie order by .rating limit 10")


def test_a_file_without_a_known_extension_is_told_by_its_content() -> None:
    assert len(import_file("download", export_json(QUERIES).encode(), LIMITS).queries) == 3
    assert len(import_file("download", export_edgeql(QUERIES).encode(), LIMITS).queries) == 3


def entries(*items: object) -> bytes:
    return json.dumps({"format": "ecc-saved-queries", "version": 1, "queries": list(items)}
                      ).encode()


def test_each_bad_entry_is_refused_with_the_file_and_the_entry_named() -> None:
    good = {"name": "fine", "query": "select 1"}
    result = import_file("team.json", entries(
        good, {"name": "too long", "query": "x" * 501}, {"name": "", "query": "select 2"},
        {"name": "m", "query": "select 3", "method": "exec"}, "text", {"name": ["x"]},
        {"name": "args", "query": "select 4", "positional_arguments": "1" * 101}), LIMITS)
    assert [q.name for q in result.queries] == ["fine"]
    messages = [p.message for p in result.problems]
    assert messages[0].startswith("team.json, entry 2 (too long): its query is 501 characters")
    assert "entry 3: its name is empty" in messages[1]
    assert "entry 4 (m): its method is not one of the driver's six" in messages[2]
    assert "entry 5: it is not a JSON object" in messages[3]
    assert "entry 6: its name is not text" in messages[4]
    assert "entry 7 (args): its arguments are 101 characters" in messages[5]
    assert all(p.kind == "input" and p.subject for p in result.problems)


@pytest.mark.parametrize(("data", "reason"), [
    (b"\xff\xfe not utf-8", "not UTF-8 text"),
    (b"{not json", "not valid JSON"),
    (b'{"format": "other"}', "not a console export"),
    (b'{"format": "ecc-saved-queries", "version": 9, "queries": []}', "version is not 1"),
    (b"[" * 100_000, "not valid JSON"),
])
def test_a_file_that_is_not_an_export_is_refused_whole(data: bytes, reason: str) -> None:
    result = import_file("x.json", data, LIMITS)
    assert result.queries == ()
    [problem] = result.problems
    assert reason in problem.message and problem.message.startswith("x.json: ")


def test_a_file_past_the_size_bound_is_not_read() -> None:
    data = b" " * (max_import_bytes(LIMITS) + 1)
    [problem] = import_file("big.json", data, LIMITS).problems
    assert "bytes; an import holds at most" in problem.message


def test_a_file_with_more_queries_than_kept_reads_the_first() -> None:
    many = [{"name": f"q{n}", "query": f"select {n}"} for n in range(9)]
    result = import_file("many.json", entries(*many), LIMITS)
    assert [q.name for q in result.queries] == [f"q{n}" for n in range(7)]
    assert "the first 7 were read" in result.problems[-1].message


def test_a_bad_header_value_names_its_entry() -> None:
    text = (f'{MARKER}\n# name: ok\nselect 1\n'
            f'{MARKER}\n# name: bad\n# named_arguments: "x\nselect 2\n')
    result = import_file("two.edgeql", text.encode(), LIMITS)
    assert [q.name for q in result.queries] == ["ok"]
    assert "two.edgeql, entry 2: its named_arguments header is not a valid JSON string" in \
        result.problems[0].message


def test_an_imported_time_in_the_future_is_brought_back_to_now() -> None:
    item = {"name": "n", "query": "select 1", "saved": "2999-01-01T00:00:00Z"}
    [query] = import_file("t.json", entries(item), LIMITS).queries
    assert query.when <= time.time()


# --- the team's library -------------------------------------------------------------------------
def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_the_team_library_lists_edgeql_files_with_their_leading_comment(tmp_path: Path) -> None:
    folder = tmp_path / "queries"
    folder.mkdir()
    write(folder, "b_movies.edgeql", "# Movies by year\n# (for the weekly report)\n"
          "select Movie filter .year = <int64>$year\n")
    write(folder, "a.edgeql", "# name: Named one\n# method: query_json\n# Desc\nselect 1\n")
    write(folder, "notes.txt", "not a query")
    write(folder, ".hidden.edgeql", "select 2")
    (folder / "sub").mkdir()
    write(folder / "sub", "deep.edgeql", "select 3")
    library = read_team_library("queries", tmp_path, LIMITS)
    assert library.problems == ()
    assert [(q.file, q.name, q.description, q.method) for q in library.queries] == [
        ("a.edgeql", "Named one", "Desc", QueryMethod.QUERY_JSON),
        ("b_movies.edgeql", "b_movies", "Movies by year\n(for the weekly report)",
         QueryMethod.QUERY)]
    assert library.queries[1].query == "select Movie filter .year = <int64>$year"


def test_a_symbolic_link_in_the_team_library_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "queries"
    folder.mkdir()
    secret = tmp_path / "secret.edgeql"
    secret.write_text("select 'outside the folder'")
    (folder / "link.edgeql").symlink_to(secret)
    write(folder, "ok.edgeql", "select 1")
    library = read_team_library("queries", tmp_path, LIMITS)
    assert [q.file for q in library.queries] == ["ok.edgeql"]
    [problem] = library.problems
    assert problem.message == "team_library queries: link.edgeql: it is a symbolic link: refused."


def test_a_linked_team_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    write(tmp_path / "real", "q.edgeql", "select 1")
    (tmp_path / "queries").symlink_to(tmp_path / "real")
    library = read_team_library("queries", tmp_path, LIMITS)
    assert library.queries == () and "symbolic link" in library.problems[0].message


def test_a_missing_team_folder_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    library = read_team_library("nowhere", tmp_path, LIMITS)
    assert library.queries == () and "there is no such folder" in library.problems[0].message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_in_the_team_library_does_not_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.edgeql")
    library = read_team_library(str(tmp_path), Path("/"), LIMITS)
    assert "not a regular file" in library.problems[0].message


def test_team_files_are_bounded_in_size_and_checked_like_typed_text(tmp_path: Path) -> None:
    write(tmp_path, "big.edgeql", "x" * (max_file_bytes(LIMITS) + 1))
    write(tmp_path, "long.edgeql", "x" * 501)
    write(tmp_path, "empty.edgeql", "# only a comment\n")
    (tmp_path / "latin1.edgeql").write_bytes(b"select '\xe9'")
    library = read_team_library(str(tmp_path), Path("/unused"), LIMITS)
    assert library.queries == ()
    reasons = {p.subject.rsplit(": ", 1)[1]: p.message for p in library.problems
               if p.subject}
    assert "larger than" in reasons["big.edgeql"]
    assert "max_query_chars" in reasons["long.edgeql"]
    assert "query is empty" in reasons["empty.edgeql"]
    assert "not UTF-8" in reasons["latin1.edgeql"]


def test_the_team_library_lists_at_most_its_bound(tmp_path: Path) -> None:
    for n in range(MAX_TEAM_FILES + 2):
        write(tmp_path, f"q{n:04}.edgeql", f"select {n}")
    library = read_team_library(str(tmp_path), Path("/"), LIMITS)
    assert len(library.queries) == MAX_TEAM_FILES
    assert "the first 500 by name are listed" in library.problems[0].message


def test_an_import_keeps_a_branch_and_refuses_one_that_is_not_a_branch_name() -> None:
    text = (f"{MARKER}\n# name: On dev\n# branch: dev\nselect 1\n"
            f"{MARKER}\n# name: Odd\n# branch: \"a\\nb\"\nselect 2\n")
    result = import_file("two.edgeql", text.encode(), LIMITS)
    assert [(q.name, q.branch) for q in result.queries] == [("On dev", "dev")]
    assert "two.edgeql, entry 2 (Odd): its branch is not a branch name" in \
        result.problems[0].message
    old = import_file("old.json", entries({"name": "Old", "query": "select 3"}), LIMITS)
    assert [(q.name, q.branch) for q in old.queries] == [("Old", "")]
