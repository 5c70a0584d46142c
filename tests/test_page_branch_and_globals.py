"""The sidebar's branch picker and globals panel (``st_page/branch_and_globals.py``) in AppTest,
on a small page of their own (the console's page wires them in): what is offered, what is
read-only, and what a run takes from them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from ecc.fake.branches import FakeBranchClients, FakeBranchServer, use_fake_branches


def page(section):  # (AppTest runs this source alone: no annotations from the module)
    import json

    import streamlit as st

    from ecc.driver.errors import ConsoleInputError
    from ecc.fake.branches import active_fake_branches
    from ecc.fake.schema import demo_schema
    from ecc.running.sessions import RuntimeLimits, SessionRuntime
    from ecc.schema.model import Global, SchemaModel
    from ecc.settings.config import load_settings
    from st_page import branch_and_globals as bg

    settings = load_settings({"fake_client": True, **section}, {})
    clients = active_fake_branches()
    assert clients is not None
    runtime = SessionRuntime("apptest", clients.default_factory(), RuntimeLimits(),
                             branch_client_factory=bg.branch_client_factory(settings))
    try:
        catalog = bg.branch_catalog(runtime, settings)
        link = st.query_params.get("branch")
        if link and not st.session_state.get("link_done"):
            st.session_state["link_done"] = True
            problem = bg.branch_from_link(settings, link, catalog)
            if problem:
                st.warning(problem)
        model = SchemaModel(globals=(*demo_schema().globals,
                                     Global("default::level", "std::int64"),
                                     Global("default::tenant", "std::str")))
        with st.sidebar:
            bg.draw_branch_picker(settings, catalog)
            bg.draw_globals(settings, model)
        try:
            context = bg.run_context(settings, catalog, model)
        except ConsoleInputError as exc:
            st.error(exc.view.message)
        else:
            fields = context.request_fields()
            st.code(json.dumps({"branch": fields["branch"], "globals": fields["globals"],
                                "text": fields["globals_text"]}, default=str))
    finally:
        runtime.close()


@pytest.fixture(autouse=True)
def fake_branches() -> Iterator[FakeBranchClients]:
    clients = FakeBranchClients(FakeBranchServer(("main", "staging", "dev")))
    use_fake_branches(clients)
    yield clients
    use_fake_branches(None)


def app(**section: Any) -> AppTest:
    at = AppTest.from_function(page, args=(section,), default_timeout=20)
    return at


def context_of(at: AppTest) -> dict[str, Any]:
    import json

    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    value: dict[str, Any] = json.loads(at.code[0].value)
    return value


def test_without_allowed_branches_the_branch_is_shown_not_offered() -> None:
    at = app().run()
    assert not at.selectbox
    assert "Branch: **main** (the only branch allowed)" in [c.value for c in at.caption]
    assert context_of(at) == {"branch": None, "globals": {}, "text": ""}


def test_a_pinned_branch_is_shown_and_runs_there() -> None:
    at = app(pinned_branch="staging").run()
    assert not at.selectbox
    assert any("staging" in c.value and "pinned" in c.value for c in at.caption)
    assert context_of(at)["branch"] is None  # the connection's branch is the pinned one


def test_the_picker_offers_the_allowed_branches_and_a_pick_is_the_runs_branch() -> None:
    at = app(allowed_branches=["staging", "gone"]).run()
    assert at.selectbox[0].options == ["main", "staging"]
    at.selectbox[0].select("staging").run()
    assert context_of(at)["branch"] == "staging"


def test_a_link_to_an_allowed_branch_picks_it() -> None:
    at = app(allowed_branches=["*"])
    at.query_params["branch"] = "dev"
    at.run()
    assert at.selectbox[0].value == "dev" and context_of(at)["branch"] == "dev"


def test_a_link_to_a_branch_the_operator_does_not_allow_says_so() -> None:
    at = app(allowed_branches=["staging"])
    at.query_params["branch"] = "dev"
    at.run()
    assert "not one of the branches this console allows" in at.warning[0].value
    assert context_of(at)["branch"] is None


def test_a_fixed_global_is_shown_disabled_and_always_applied() -> None:
    at = app(fixed_globals={"default::current_user": "ana"}, user_globals=["level"]).run()
    fixed = [t for t in at.text_input if t.key == "ecc_global::fixed::default::current_user"]
    assert fixed and fixed[0].disabled and fixed[0].value == "ana"
    # even a value planted for it in the session state is never read
    at.session_state["ecc_global::default::current_user"] = "mallory"
    at.text_input(key="ecc_global::default::level").input("5").run()
    assert context_of(at) == {"branch": None,
                              "globals": {"default::current_user": "ana", "default::level": 5},
                              "text": "default::current_user = ana (fixed), default::level = 5"}


def test_a_bad_global_value_is_refused_with_its_name() -> None:
    at = app(user_globals=["level"]).run()
    at.text_input(key="ecc_global::default::level").input("five").run()
    assert "default::level" in at.error[0].value and "whole number" in at.error[0].value


def test_without_a_globals_policy_no_global_is_offered() -> None:
    at = app().run()
    assert not [t for t in at.text_input if t.key and t.key.startswith("ecc_global::")]
