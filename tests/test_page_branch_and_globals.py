"""The branch picker and the globals panel on the page (AppTest, fake server with branches):
what the sidebar offers and shows read-only, where a run runs and what it applies, the
status line and history saying so, and shared links' ``&branch=``."""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest

from ecc.fake.branches import FakeBranchClients, FakeBranchServer, use_fake_branches
from ecc.running.runs import RunBook, RunRecord
from ecc.settings.config import load_settings
from tests.apptest_support import console, run_query, texts
from tests.conftest import PAGE_BRANCHES

BRANCHES = PAGE_BRANCHES



def last_record(at: AppTest) -> RunRecord:
    book = at.session_state["run_book"]
    assert isinstance(book, RunBook)
    for record in book.newest_first():
        if not record.active:
            return record
    raise AssertionError("no finished run")


def ran(at: AppTest, text: str) -> RunRecord:
    run_query(at, text)
    assert not at.exception, at.exception
    record = last_record(at)
    assert record.request.query == text
    return record


def titles(record: RunRecord) -> list[str]:
    assert record.status == "done", record.error
    assert record.result is not None and isinstance(record.result.value, list)
    return [str(row.title) for row in record.result.value]


def branch_picker(at: AppTest) -> Any:
    found = [s for s in at.selectbox if s.key == "ecc_branch"]
    return found[0] if found else None


def test_by_default_the_branch_is_shown_not_offered_and_no_list_is_read(page_branches) -> None:
    with console() as at:
        at.run()
        assert branch_picker(at) is None
        assert "Branch: **the connection's default** (the only branch allowed)" in texts(at)
        assert titles(ran(at, "select Movie {title}"))[0] == "Alien"
        read = [c for c in page_branches.built for call in c.stats.calls if "sys::" in call[1]]
        assert read == []  # a console without a picker never asks for the branch list


def test_a_picked_branch_runs_there_and_the_status_line_and_history_say_so(page_branches) -> None:
    with console(allowed_branches=["*"]) as at:
        at.run()
        picker = branch_picker(at)
        assert picker is not None and picker.options == ["main", "dev", "staging"]
        picker.select("staging").run()
        record = ran(at, "select Movie {title}")
        assert titles(record) == ["Alien [staging]", "Blade Runner [staging]",
                                  "The Matrix [staging]"]
        assert record.request.branch == "staging"
        assert "· branch staging" in texts(at)
        branch_picker(at).select("main").run()
        back = ran(at, "select Movie {title}")
        assert len(titles(back)) == 10 and back.request.branch is None
        assert back.request.branch_shown == "main"
        at.toggle(key="show_history").set_value(True).run()
        history = at.dataframe[-1].value
        assert list(history["branch"])[:2] == ["main", "staging"]  # newest first


def test_the_schema_and_completions_follow_the_branch(page_branches) -> None:
    import st_utils
    from st_page.branch_and_globals import with_branch

    with console(allowed_branches=["staging"]) as at:
        at.run()
        branch_picker(at).select("staging").run()
        settings = load_settings({"fake_client": True, "allowed_branches": ["staging"]}, {})
        staging_key = st_utils.schema_key(with_branch(settings, "staging"))
        assert st_utils.schema_store().current(staging_key) is not None
        staging_reads = [call for c in page_branches.on_branch("staging") for call in c.stats.calls
                         if call[1].lstrip().startswith("with module schema")]
        assert staging_reads, "the staging branch's schema was read on its own client"


def test_a_pinned_branch_is_shown_and_runs_there(page_branches) -> None:
    with console(pinned_branch="staging") as at:
        at.run()
        assert branch_picker(at) is None
        assert "Branch: **staging** (pinned by the operator)" in texts(at)
        assert titles(ran(at, "select Movie {title}"))[0] == "Alien [staging]"


def test_a_link_to_an_allowed_branch_opens_it(page_branches) -> None:
    with console(allowed_branches=["*"]) as at:
        at.query_params["branch"] = "dev"
        at.query_params["q"] = "select Movie {title}"
        at.run()
        assert branch_picker(at).value == "dev"
        assert titles(ran(at, "select Movie {title}"))[0] == "Alien [dev]"
        assert at.query_params["branch"] == ["dev"] or at.query_params["branch"] == "dev"


def test_a_link_to_a_branch_the_operator_does_not_allow_says_so_and_stays(page_branches) -> None:
    with console(allowed_branches=["staging"]) as at:
        at.query_params["branch"] = "dev"
        at.run()
        assert "The link's branch was not opened" in texts(at)
        assert "not one of the branches this console allows: staging" in texts(at)
        assert branch_picker(at).value == "main"
        assert len(titles(ran(at, "select Movie {title}"))) == 10


def test_a_link_with_a_hostile_branch_name_is_shown_as_text(page_branches) -> None:
    with console(allowed_branches=["staging"]) as at:
        at.query_params["branch"] = "[x](https://evil.example)"
        at.run()
        warning = [w.value for w in at.warning if "branch" in w.value]
        assert warning and "](https" not in warning[0]  # escaped: no link


def test_a_fixed_global_is_read_only_and_always_applied(page_branches) -> None:
    with console(fixed_globals={"current_user": "ana"}) as at:
        at.run()
        fixed = [t for t in at.text_input if t.key == "ecc_global::fixed::default::current_user"]
        assert fixed and fixed[0].disabled and fixed[0].value == "ana"
        at.session_state["ecc_global::default::current_user"] = "mallory"  # never read
        record = ran(at, "select global default::current_user")
        assert record.result is not None and record.result.value == ["ana"]
        assert "· globals default::current_user = ana (fixed)" in texts(at)


def test_a_user_global_the_operator_allows_is_typed_and_applied(page_branches) -> None:
    with console(user_globals=["default::current_user"]) as at:
        at.run()
        at.text_input(key="ecc_global::default::current_user").input("bob").run()
        record = ran(at, "select global default::current_user")
        assert record.result is not None and record.result.value == ["bob"]
        assert record.request.globals == {"default::current_user": "bob"}


def test_without_a_globals_policy_no_global_is_offered_or_applied(page_branches) -> None:
    with console() as at:
        at.run()
        assert not [t for t in at.text_input if t.key and t.key.startswith("ecc_global::")]
        at.session_state["ecc_global::default::current_user"] = "mallory"
        record = ran(at, "select global default::current_user")
        assert record.result is not None and record.result.value == []


def test_the_read_only_guard_applies_on_a_picked_branch(page_branches) -> None:
    with console(allowed_branches=["staging"]) as at:
        at.run()
        branch_picker(at).select("staging").run()
        record = ran(at, "insert Movie {title := 'x'}")
        assert record.status == "failed" and record.error is not None
        assert record.error.title == "Refused: read-only mode"
        assert record.request.branch == "staging"
        staging = page_branches.on_branch("staging")
        assert staging and not [c for c in staging for call in c.stats.calls
                                if call[1].startswith("insert")]


def test_a_global_value_its_type_refuses_queues_nothing_and_names_the_global() -> None:
    import dataclasses

    from ecc.fake.client import schema_responder
    from ecc.fake.schema import demo_schema
    from ecc.schema.model import Global

    model = demo_schema()
    model = dataclasses.replace(model, globals=(*model.globals,
                                                Global("default::level", "std::int64")))
    fake = FakeBranchClients(FakeBranchServer(BRANCHES), base=schema_responder(model))
    use_fake_branches(fake)
    try:
        with console(user_globals=["level"]) as at:
            at.run()
            at.text_input(key="ecc_global::default::level").input("ten").run()
            run_query(at, "select global default::level")
            assert "default::level" in texts(at) and "whole number" in texts(at)
            assert len(at.session_state["run_book"]) == 0  # nothing was queued
            at.text_input(key="ecc_global::default::level").input("10").run()
            record = ran(at, "select global default::level")
            assert record.result is not None and record.result.value == [10]
    finally:
        use_fake_branches(None)
