"""The analyst's memory in the engine: stored entries are checked as hostile input, bounded
by entries and characters (oldest dropped), searchable, and kept in step with the browser by
one-shot commands that stop once acknowledged."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

import pytest

from ecc.arguments.drafts import DraftLimits, build_request
from ecc.driver.client import QueryMethod
from ecc.driver.errors import ConsoleInputError
from ecc.library.browser import (
    ANONYMOUS,
    LOAD_ASKS,
    LOAD_RETRY_S,
    MAX_PENDING,
    BrowserMemory,
    user_identity,
    user_namespace,
)
from ecc.library.entries import (
    HistoryEntry,
    MemoryLimits,
    SavedQuery,
    StoredValueError,
    bounded,
    draft_of,
    history_from_wire,
    saved_from_wire,
    search,
    shared_link,
    stored_chars,
)
from ecc.settings.config import ConsoleSettings, SettingsError, load_settings

LIMITS = MemoryLimits(max_query_chars=1_000, max_args_chars=200, history_size=5,
                      history_chars=10_000, saved_size=3, saved_chars=10_000)


def entry(n: int, query: str | None = None, **fields: Any) -> HistoryEntry:
    return HistoryEntry(id=f"h{n}", query=query or f"select {n}", when=1_700_000_000.0 + n,
                        **fields)


def wire(**fields: Any) -> str:
    base = {"v": 1, "q": "select 1", "a": "", "k": "", "m": "query", "s": "done", "e": 0.5,
            "r": 1, "t": 1_700_000_000.0}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


# --- stored entries are input ------------------------------------------------------------------
def test_a_history_entry_round_trips_through_its_stored_form() -> None:
    original = HistoryEntry(id="abc_-1", query="select <str>$x", method=QueryMethod.QUERY_JSON,
                            kwargs_text='{x: "é"}', status="failed", elapsed_s=0.25, rows=None,
                            when=1_700_000_123.5)
    assert history_from_wire(original.id, original.wire(), LIMITS) == original


def test_a_saved_query_round_trips_through_its_stored_form() -> None:
    original = SavedQuery(id="s1", name="Movies 🎬", query="select Movie", args_text="[1]",
                          method=QueryMethod.QUERY_SINGLE, when=1_700_000_000.0,
                          description="for the weekly report")
    assert saved_from_wire(original.id, original.wire(), LIMITS) == original


@pytest.mark.parametrize(("raw", "reason"), [
    (wire(q=""), "query is empty"),
    (wire(q="x" * 1_001), "limit is 1,000 (max_query_chars)"),
    (wire(q="select 1\x00"), "NUL"),
    ('{"v": 1, "q": "select \'\\ud800\'", "m": "query", "s": "done", "t": 1}', "surrogate"),
    (wire(k="{x: \ud83d}"), "arguments holds a lone surrogate"),
    (wire(a="1" * 150, k="2" * 51), "arguments are 201 characters; the limit is 200"),
    (wire(q=["select 1"]), "not text"),
    (wire(m="eval"), "method"),
    (wire(s="<b>done</b>"), "status"),
    (wire(r=-1), "row count"),
    (wire(r=1.5), "row count"),
    (wire(e=True), "elapsed time"),
    (wire(t=None), "time"),
    (wire(t=1e300), "time"),
    (wire(v=3), "format version"),
    ("[1, 2]", "not a JSON object"),
    ("{" * 10_000, "not valid JSON"),
    ("[" * 10_000 + "]" * 10_000, "not valid JSON|not a JSON object"),
    ('{"v": 1, "q": "' + "x" * 2_000_000 + '"}', "more than any entry needs"),
    (42, "not text"),
], ids=lambda value: repr(value)[:40])
def test_a_hostile_history_value_is_refused_with_its_reason(raw: Any, reason: str) -> None:
    pattern = reason if "|" in reason else re.escape(reason)
    with pytest.raises(StoredValueError, match=pattern):
        history_from_wire("id1", raw, LIMITS)


@pytest.mark.parametrize("entry_id", ["", "a" * 33, "../x", "a.b", None, 7])
def test_an_entry_id_the_console_never_writes_is_refused(entry_id: Any) -> None:
    with pytest.raises(StoredValueError, match="id"):
        history_from_wire(entry_id, wire(), LIMITS)


@pytest.mark.parametrize(("name", "reason"), [
    ("", "empty"), ("   ", "empty"), ("a\nb", "line break"), ("x" * 201, "201 characters"),
    (None, "not text"),
])
def test_a_saved_query_name_must_be_one_short_line(name: Any, reason: str) -> None:
    raw = json.dumps({"v": 1, "n": name, "q": "select 1", "m": "query", "t": 1.0})
    with pytest.raises(StoredValueError, match=reason):
        saved_from_wire("s1", raw, LIMITS)


def test_a_markdown_payload_is_kept_as_the_text_it_is() -> None:
    """Checks do not rewrite text: escaping belongs to the page, when it draws."""
    payload = "select '<img src=x onerror=alert(1)> [link](http://evil) # head'"
    assert history_from_wire("x1", wire(q=payload), LIMITS).query == payload


# --- bounds and search ------------------------------------------------------------------------
def test_bounds_keep_the_newest_entries_by_count() -> None:
    entries = [entry(n) for n in range(10, 0, -1)]
    kept, dropped = bounded(entries, 3, 1_000_000)
    assert [e.id for e in kept] == ["h10", "h9", "h8"]
    assert [e.id for e in dropped] == [f"h{n}" for n in range(7, 0, -1)]


def test_bounds_keep_the_newest_entries_by_characters() -> None:
    entries = [entry(3, "x" * 500), entry(2, "y" * 500), entry(1, "z")]
    budget = stored_chars(entries[0]) + stored_chars(entries[1]) - 1
    kept, dropped = bounded(entries, 100, budget)
    assert [e.id for e in kept] == ["h3"]
    assert [e.id for e in dropped] == ["h2", "h1"]  # older than the first that does not fit


def test_stored_characters_count_utf16_units_as_browsers_do() -> None:
    plain, emoji = entry(1, "select 'a'"), entry(1, "select '😀'")
    assert stored_chars(emoji) - stored_chars(plain) == 1


def test_search_needs_every_word_in_any_field() -> None:
    entries = [entry(1, "select Movie { title }", kwargs_text="{year: 2020}"),
               entry(2, "select Person"), entry(3, "select movie filter .year = 2020")]
    assert [e.id for e in search(entries, "MOVIE 2020")] == ["h1", "h3"]
    assert [e.id for e in search(entries, "person")] == ["h2"]
    assert len(search(entries, "  ")) == 3


def test_search_finds_saved_queries_by_name_and_description() -> None:
    saved = [SavedQuery(id="a", name="Weekly report", query="select 1"),
             SavedQuery(id="b", name="Other", query="select 2", description="weekly too")]
    assert [q.id for q in search(saved, "weekly")] == ["a", "b"]
    assert [q.id for q in search(saved, "report")] == ["a"]


# --- namespaces -------------------------------------------------------------------------------
def test_a_signed_in_user_gets_a_keyed_hash_namespace() -> None:
    a = user_namespace(user_identity({"iss": "https://id", "sub": "alice"}), "secret-1")
    b = user_namespace(user_identity({"iss": "https://id", "sub": "bob"}), "secret-1")
    other_deployment = user_namespace(user_identity({"iss": "https://id", "sub": "alice"}),
                                      "secret-2")
    assert len({a, b, other_deployment, ANONYMOUS}) == 4
    assert "alice" not in a and a.isalnum()


def test_without_sign_in_the_namespace_is_anonymous() -> None:
    assert user_namespace(user_identity({}), None) == ANONYMOUS


def test_the_email_is_the_identity_when_there_is_no_subject() -> None:
    assert user_identity({"email": " Ana@Example.com "}) == user_identity(
        {"email": "ana@example.com"})


def test_a_signed_in_namespace_needs_the_deployment_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        user_namespace("someone", "")


# --- the browser's copy: commands until acknowledged --------------------------------------------
def loaded_memory(history: dict[str, Any] | None = None, saved: dict[str, Any] | None = None,
                  limits: MemoryLimits = LIMITS) -> BrowserMemory:
    memory = BrowserMemory("ns1", limits)
    report = memory.adopt_loaded({"load": memory.load_token, "h": history or {},
                                  "s": saved or {}})
    assert report is not None
    return memory


def ops(memory: BrowserMemory) -> list[tuple[Any, ...]]:
    return [(c["op"], c["kind"], c.get("id") or tuple(c.get("ids", ()))) for c in
            memory.component_data()["cmds"]]


def test_a_load_takes_valid_entries_and_removes_hostile_ones() -> None:
    memory = loaded_memory({"h1": wire(t=1.0), "h2": wire(q=""), "h3": wire(t=3.0)},
                           {"s1": json.dumps({"v": 1, "n": "A", "q": "select 1", "m": "query",
                                              "t": 1.0}), "s2": "not json"})
    assert [e.id for e in memory.history] == ["h3", "h1"]
    assert [q.name for q in memory.saved] == ["A"]
    assert ops(memory) == [("del", "h", ("h2",)), ("del", "s", ("s2",))]
    notice = memory.report.notice()
    assert notice is not None and "2 stored entries could not be read" in notice
    assert "query is empty" in notice


def test_a_load_for_another_token_or_shape_is_ignored() -> None:
    memory = BrowserMemory("ns1", LIMITS)
    assert memory.adopt_loaded({"load": "stale", "h": {"h1": wire()}}) is None
    assert memory.adopt_loaded(["not", "a", "dict"]) is None
    assert not memory.loaded and memory.history == []


def test_a_load_past_the_history_bound_removes_the_oldest_from_the_browser() -> None:
    memory = loaded_memory({f"h{n}": wire(t=float(n)) for n in range(1, 9)})
    assert [e.id for e in memory.history] == ["h8", "h7", "h6", "h5", "h4"]
    assert ops(memory) == [("del", "h", ("h3", "h2", "h1"))]


def test_two_saved_queries_of_one_name_keep_the_newer() -> None:
    def saved(t: float) -> str:
        return json.dumps({"v": 1, "n": "Same", "q": f"select {t}", "m": "query", "t": t})
    memory = loaded_memory(saved={"old": saved(1.0), "new": saved(2.0)})
    assert [q.id for q in memory.saved] == ["new"]
    assert ops(memory) == [("del", "s", ("old",))]


def test_a_recorded_run_is_put_once_and_the_oldest_dropped() -> None:
    memory = loaded_memory({f"h{n}": wire(t=float(n)) for n in range(1, 6)})
    assert memory.record(entry(100), run_key="run-1")
    assert not memory.record(entry(101), run_key="run-1")  # the same run again
    assert [e.id for e in memory.history][:2] == ["h100", "h5"]
    assert ops(memory) == [("put", "h", "h100"), ("del", "h", ("h1",))]


def test_commands_are_sent_until_acknowledged_then_the_data_stays_the_same() -> None:
    memory = loaded_memory()
    memory.record(entry(1))
    memory.record(entry(2))
    first = memory.component_data()
    assert first == memory.component_data()  # a rerun without change sends the same data
    assert [c["seq"] for c in first["cmds"]] == [1, 2]
    memory.acknowledge(f"{memory.load_token}:1")
    assert [c["seq"] for c in memory.component_data()["cmds"]] == [2]
    memory.acknowledge(f"{memory.load_token}:2")
    assert memory.component_data() == {"ns": "ns1", "load": memory.load_token, "cmds": []}


@pytest.mark.parametrize("acked", [2, "2", "other-load:2", None, True, "x:-1"])
def test_an_acknowledgement_for_another_load_changes_nothing(acked: object) -> None:
    memory = loaded_memory()
    memory.record(entry(1))
    memory.acknowledge(acked)
    assert len(memory.component_data()["cmds"]) == 1


def test_a_load_awaited_past_the_retry_time_is_asked_again_under_a_new_token() -> None:
    memory = BrowserMemory("ns1", LIMITS)
    first = memory.load_token
    assert not memory.load_due(1e9)  # the wait starts when the component is first drawn
    memory.load_drawn(100.0)
    memory.load_drawn(101.0)  # redrawn: the wait still counts from the first draw
    assert not memory.load_due(100.0 + LOAD_RETRY_S - 0.01)
    assert memory.load_due(100.0 + LOAD_RETRY_S)
    memory.ask_again()
    assert memory.load_token != first
    assert memory.component_data()["load"] == memory.load_token
    assert not memory.load_due(1e9)  # until the new token is drawn
    memory.load_drawn(200.0)
    assert memory.load_due(200.0 + LOAD_RETRY_S)


def test_a_load_that_arrives_under_an_earlier_token_is_taken() -> None:
    """The first ask's answer, delayed past the moment the page asked again: what the browser
    held is as good under either token, and the page never waits for a second answer."""
    memory = BrowserMemory("ns1", LIMITS)
    first = memory.load_token
    memory.ask_again()
    report = memory.adopt_loaded({"load": first, "h": {"h1": wire(q="select 'kept'")}})
    assert report is not None and memory.loaded
    assert [e.query for e in memory.history] == ["select 'kept'"]
    assert not memory.load_due(1e9)
    assert memory.adopt_loaded({"load": memory.load_token, "h": {}}) is None  # taken once


def test_a_load_under_a_token_this_memory_never_drew_is_refused() -> None:
    memory = BrowserMemory("ns1", LIMITS)
    other = BrowserMemory("ns1", LIMITS)  # another server session's memory in this browser
    assert memory.adopt_loaded({"load": other.load_token, "h": {}}) is None
    assert not memory.loaded


def test_the_page_stops_asking_after_load_asks_and_a_late_answer_is_still_taken() -> None:
    memory = BrowserMemory("ns1", LIMITS)
    tokens = [memory.load_token]
    for ask in range(LOAD_ASKS - 1):
        memory.load_drawn(10.0 * ask)
        assert memory.load_due(10.0 * ask + LOAD_RETRY_S)
        memory.ask_again()
        tokens.append(memory.load_token)
    assert len(set(tokens)) == LOAD_ASKS and not memory.gave_up
    memory.load_drawn(1000.0)
    assert memory.load_due(1000.0 + LOAD_RETRY_S)
    memory.ask_again()
    assert memory.gave_up and memory.load_token == tokens[-1]  # no further token drawn
    assert not memory.load_due(1e9)
    assert memory.adopt_loaded({"load": tokens[1], "h": {}}) is not None
    assert memory.loaded and not memory.gave_up


def test_runs_marked_recorded_are_never_recorded() -> None:
    memory = loaded_memory()
    memory.mark_recorded(["7"])
    assert not memory.record(entry(7), run_key="7")
    assert memory.record(entry(8), run_key="8")


def test_a_browser_that_never_acknowledges_stops_the_pile_up() -> None:
    memory = loaded_memory(limits=MemoryLimits(history_size=10_000, history_chars=4_000_000))
    for n in range(MAX_PENDING + 10):
        memory.record(entry(n))
    assert len(memory.component_data()["cmds"]) == MAX_PENDING
    assert not memory.syncing
    memory.acknowledge(f"{memory.load_token}:{MAX_PENDING}")
    assert memory.syncing and memory.component_data()["cmds"] == []


def test_forget_clears_the_history_here_and_in_the_browser() -> None:
    memory = loaded_memory({"h1": wire()})
    memory.forget_history()
    assert memory.history == []
    assert ops(memory)[-1] == ("clear", "h", ())


def test_save_replaces_a_query_of_the_same_name() -> None:
    memory = loaded_memory()
    first = memory.save("Movies", "select Movie", QueryMethod.QUERY)
    second = memory.save(" movies ", "select Movie { title }", QueryMethod.QUERY_JSON,
                         kwargs_text="{}")
    assert not first.replaced and second.replaced
    assert second.query.id == first.query.id
    assert [(q.name, q.query) for q in memory.saved] == [("movies", "select Movie { title }")]


@pytest.mark.parametrize(("name", "query", "message"), [
    ("", "select 1", "name is empty"),
    ("ok", "", "query is empty"),
    ("ok", "x" * 1_001, "max_query_chars"),
    ("a\u0007b", "select 1", "control character"),
])
def test_save_refuses_what_typed_text_refuses(name: str, query: str, message: str) -> None:
    memory = loaded_memory()
    with pytest.raises(ConsoleInputError, match=message) as caught:
        memory.save(name, query, QueryMethod.QUERY)
    assert caught.value.view.kind == "input"
    assert memory.saved == [] and memory.component_data()["cmds"] == []


def test_save_past_the_bound_is_refused_not_made_room_for() -> None:
    memory = loaded_memory()
    for n in range(3):
        memory.save(f"q{n}", "select 1", QueryMethod.QUERY)
    with pytest.raises(ConsoleInputError, match="saved_queries_size"):
        memory.save("one more", "select 1", QueryMethod.QUERY)
    assert [q.name for q in memory.saved] == ["q0", "q1", "q2"]
    memory.save("q1", "select 2", QueryMethod.QUERY)  # replacing needs no room


def test_save_past_the_character_bound_is_refused() -> None:
    memory = loaded_memory(limits=MemoryLimits(saved_chars=1_500))
    memory.save("big", "x" * 1_000, QueryMethod.QUERY)
    with pytest.raises(ConsoleInputError, match="saved_queries_chars"):
        memory.save("bigger", "y" * 1_000, QueryMethod.QUERY)


def test_rename_and_delete() -> None:
    memory = loaded_memory()
    a = memory.save("A", "select 1", QueryMethod.QUERY).query
    memory.save("B", "select 2", QueryMethod.QUERY)
    with pytest.raises(ConsoleInputError, match="exists already"):
        memory.rename(a.id, "b")
    renamed = memory.rename(a.id, "C")
    assert [q.name for q in memory.saved] == ["B", "C"] and renamed.id == a.id
    assert memory.delete(a.id) and not memory.delete(a.id)
    assert [q.name for q in memory.saved] == ["B"]
    assert ops(memory)[-1] == ("del", "s", (a.id,))
    with pytest.raises(ConsoleInputError, match="gone"):
        memory.rename(a.id, "D")


def test_import_leaves_equal_queries_and_numbers_taken_names() -> None:
    memory = loaded_memory(limits=MemoryLimits(saved_size=3))
    memory.save("A", "select 1", QueryMethod.QUERY)
    incoming = [SavedQuery(id="x", name="A", query="select 1"),
                SavedQuery(id="y", name="A", query="select 2"),
                SavedQuery(id="z", name="B", query="select 3"),
                SavedQuery(id="w", name="C", query="select 4")]
    summary = memory.import_saved(incoming)
    assert (summary.added, summary.unchanged, summary.renamed, summary.refused) == (2, 1, 1, 1)
    assert [q.name for q in memory.saved] == ["A", "A (2)", "B"]


# --- settings ---------------------------------------------------------------------------------
def test_memory_settings_have_defaults_and_limits() -> None:
    settings = load_settings({"browser_history_size": 50, "team_library": "queries"}, {})
    limits = MemoryLimits.from_settings(settings)
    assert limits.history_size == 50 and limits.saved_size == ConsoleSettings.saved_queries_size
    assert settings.team_library == "queries" and settings.browser_memory
    with pytest.raises(SettingsError, match="together"):
        load_settings({"browser_history_chars": 3_000_000, "saved_queries_chars": 2_000_000}, {})
    with pytest.raises(SettingsError, match="team_library"):
        load_settings({"team_library": 3}, {})
    with pytest.raises(SettingsError, match="browser_memory"):
        load_settings({"browser_memory": "yes"}, {})


# --- using a kept query -------------------------------------------------------------------------
def test_a_kept_query_runs_through_the_same_checks_as_typed_text() -> None:
    kept = SavedQuery(id="s", name="n", query="select <int64>$0 + <int64>$1",
                      method=QueryMethod.QUERY_REQUIRED_SINGLE_JSON, args_text="1, 2")
    request = build_request(draft_of(kept, "Query 1"), DraftLimits())
    assert (request.method, request.args, request.args_text) == (
        QueryMethod.QUERY_REQUIRED_SINGLE_JSON, (1, 2), "1, 2")
    broken = replace(kept, args_text="1, [")
    with pytest.raises(ConsoleInputError, match="cannot read the positional arguments"):
        build_request(draft_of(broken, "Query 1"), DraftLimits())


def test_a_saved_query_s_link_is_the_link_a_run_writes() -> None:
    kept = SavedQuery(id="s", name="n", query="select <str>$t", kwargs_text='{t: "a&b"}')
    link, problem = shared_link(kept, DraftLimits())
    assert problem is None and link is not None
    assert parse_qs(link[1:]) == {"q": ["select <str>$t"], "mode": ["text"],
                                  "kwargs": ['{t: "a&b"}']}
    too_long, why = shared_link(replace(kept, query="select '" + "é" * 3_000 + "'"),
                                DraftLimits())
    assert too_long is None and why is not None and "bytes" in why
