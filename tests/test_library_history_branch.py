"""The branch (and globals' text) a history entry or saved query keeps: stored form version 2,
checked as hostile input on the way back, version 1 entries still read; the policy that
decides whether a recorded branch may be used again."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecc.arguments.drafts import DraftLimits
from ecc.branches.catalog import BranchCatalog
from ecc.branches.policy import BranchPolicy
from ecc.driver.client import QueryMethod
from ecc.driver.errors import ConsoleInputError
from ecc.library.browser import BrowserMemory
from ecc.library.entries import (
    MAX_GLOBALS_CHARS,
    WIRE_VERSION,
    HistoryEntry,
    MemoryLimits,
    SavedQuery,
    StoredValueError,
    history_from_wire,
    recorded_globals,
    saved_from_wire,
    shared_link,
)

LIMITS = MemoryLimits(max_query_chars=1_000, max_args_chars=200)


def stored(version: int = 2, **fields: Any) -> str:
    base: dict[str, Any] = {"v": version, "q": "select 1", "a": "", "k": "", "m": "query",
                            "s": "done", "e": 0.5, "r": 1, "t": 1_700_000_000.0}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


def test_a_history_entry_keeps_its_branch_and_globals_through_its_stored_form() -> None:
    original = HistoryEntry(id="h1", query="select Movie", when=1_700_000_000.0,
                            branch="staging", globals_text="default::tenant = acme (fixed)")
    assert json.loads(original.wire())["v"] == WIRE_VERSION == 2
    assert history_from_wire("h1", original.wire(), LIMITS) == original


def test_a_version_1_history_entry_still_loads_without_a_branch() -> None:
    entry = history_from_wire("h1", stored(version=1), LIMITS)
    assert (entry.query, entry.branch, entry.globals_text) == ("select 1", "", "")


def test_a_version_1_saved_query_still_loads_without_a_branch() -> None:
    raw = json.dumps({"v": 1, "n": "Old", "q": "select 2", "m": "query", "t": 1.0})
    assert saved_from_wire("s1", raw, LIMITS).branch == ""


def test_a_saved_query_keeps_the_branch_it_was_saved_on() -> None:
    original = SavedQuery(id="s1", name="On dev", query="select 3", when=1.0, branch="dev")
    assert saved_from_wire("s1", original.wire(), LIMITS) == original


@pytest.mark.parametrize(("fields", "reason"), [
    ({"b": 7}, "branch is not text"),
    ({"b": ["main"]}, "branch is not text"),
    ({"b": "x" * 64}, "not a branch name"),
    ({"b": "main\nadmin"}, "not a branch name"),
    ({"b": "bad\x00"}, "not a branch name"),
    ({"b": " main"}, "not a branch name"),
    ({"b": "\ud800"}, "lone surrogate"),
    ({"g": 1}, "globals is not text"),
    ({"g": "x" * (MAX_GLOBALS_CHARS + 1)}, "globals is 1,001 characters"),
    ({"g": "a = 1\n# heading"}, "globals hold a line break"),
], ids=lambda value: repr(value)[:40])
def test_a_hostile_stored_branch_or_globals_is_refused(fields: dict[str, Any],
                                                       reason: str) -> None:
    with pytest.raises(StoredValueError, match=reason):
        history_from_wire("h1", stored(**fields), LIMITS)


def test_a_hostile_branch_in_a_saved_query_is_refused() -> None:
    raw = json.dumps({"v": 2, "n": "x", "q": "select 1", "m": "query", "t": 1.0,
                      "b": "[x](https://evil.example)" * 3})
    with pytest.raises(StoredValueError, match="not a branch name"):
        saved_from_wire("s1", raw, LIMITS)


def test_a_version_1_value_naming_a_branch_is_not_one_the_console_wrote() -> None:
    with pytest.raises(StoredValueError, match="format version 1"):
        history_from_wire("h1", stored(version=1, b="staging"), LIMITS)


def test_a_markdown_branch_name_of_a_valid_shape_is_kept_verbatim() -> None:
    """Escaping is the page's job when it draws; the check keeps the name as it is."""
    assert history_from_wire("h1", stored(b="[x](y)"), LIMITS).branch == "[x](y)"


def test_a_load_reads_version_1_and_2_entries_side_by_side_and_removes_hostile_ones() -> None:
    memory = BrowserMemory("anon", LIMITS)
    memory.adopt_loaded({"load": memory.load_token, "h": {
        "old": stored(version=1, t=1_700_000_001.0),
        "new": stored(b="staging", g="default::tenant = acme (fixed)", t=1_700_000_002.0),
        "bad": stored(b="x" * 100),
    }, "s": {}})
    assert [(e.id, e.branch) for e in memory.history] == [("new", "staging"), ("old", "")]
    assert memory.report.removed == 1
    assert {"seq": 1, "op": "del", "kind": "h", "ids": ["bad"]} in \
        memory.component_data()["cmds"]


def test_recorded_globals_are_one_bounded_line() -> None:
    assert recorded_globals("a = 1\nb = 2") == "a = 1 b = 2"
    long = recorded_globals("x" * 5_000)
    assert len(long) == MAX_GLOBALS_CHARS and long.endswith("…")
    entry = HistoryEntry(id="h1", query="select 1", when=1.0, globals_text=long)
    assert history_from_wire("h1", entry.wire(), LIMITS).globals_text == long


def test_save_refuses_a_branch_name_of_the_wrong_shape() -> None:
    memory = BrowserMemory("anon", LIMITS)
    with pytest.raises(ConsoleInputError, match="not a branch name"):
        memory.save("q", "select 1", QueryMethod.QUERY, branch="a\nb")
    assert memory.save("q", "select 1", QueryMethod.QUERY, branch="dev").query.branch == "dev"


def test_a_saved_query_s_link_carries_its_branch_as_a_run_s_link_does() -> None:
    query = SavedQuery(id="s1", name="n", query="select 1", when=1.0, branch="dev")
    link, problem = shared_link(query, DraftLimits(), branch="dev")
    assert problem is None and link is not None and link.endswith("&branch=dev")
    plain, _ = shared_link(query, DraftLimits())
    assert plain is not None and "branch=" not in plain


# --- may a recorded branch be used again ----------------------------------------------------
CATALOG = BranchCatalog(names=("main", "staging", "dev"), current="main", source="sys::Branch")


def test_a_recorded_branch_the_policy_allows_is_used() -> None:
    policy = BranchPolicy(default=None, allowed=("*",))
    assert policy.recorded("staging", CATALOG) == "staging"
    assert policy.recorded("main", CATALOG) is None  # the connection's own
    assert policy.recorded("", CATALOG) is None


def test_a_recorded_branch_no_longer_allowed_is_refused_naming_it_and_why() -> None:
    with pytest.raises(ConsoleInputError) as pinned:
        BranchPolicy(default="prod", pinned=True).recorded("staging", CATALOG)
    assert "pinned to branch 'prod'; branch 'staging' cannot be used" in pinned.value.view.message
    with pytest.raises(ConsoleInputError) as unlisted:
        BranchPolicy(default="main", allowed=("dev",)).recorded("staging", CATALOG)
    assert "'staging' is not one of the branches this console allows: dev" in \
        unlisted.value.view.message
    with pytest.raises(ConsoleInputError, match="no branch 'gone'"):
        BranchPolicy(default="main", allowed=("*",)).recorded("gone", CATALOG)
