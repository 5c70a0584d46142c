"""The branch picker and the globals panel (sidebar), and what a run takes from them: the
branch (checked against the operator's policy) and the globals it applies.

Where things live: the picked branch is ``st.session_state[BRANCH_KEY]`` (a shared link's
``&branch=`` sets it once); a user global's text is ``st.session_state[GLOBAL_PREFIX + name]``.
Nothing a user picks or types is trusted here: ``run_context`` checks both with the engine's
policy (``ecc.branches``) before a run is queued, and fixed globals always take the
operator's value.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import streamlit as st

from ecc.arguments.param_values import RawValue
from ecc.branches.catalog import BranchCatalog, read_catalog
from ecc.branches.globals_input import AppliedGlobals, global_inputs, resolve_globals
from ecc.branches.policy import BranchPolicy, GlobalsPolicy
from ecc.display.safe_text import escape_markdown, label_markdown
from ecc.driver.client import ClientOptions, QueryClient, create_gel_client
from ecc.driver.errors import ConsoleInputError
from ecc.running.sessions import SessionRuntime
from ecc.schema.model import SchemaModel
from ecc.settings.config import ConsoleSettings

BRANCH_KEY = "ecc_branch"
GLOBAL_PREFIX = "ecc_global::"
CATALOG_KEY = "ecc_branch_catalog"  # (connection identity, read at, catalog) of this session
CATALOG_TTL_S = 60.0  # a session reads the branch list again after this (branches come and go)


class RunContext(NamedTuple):
    """What a submission takes from the sidebar: its branch (None: the connection's own)
    and the globals it applies."""

    branch: str | None
    globals: AppliedGlobals

    def request_fields(self) -> dict[str, Any]:
        """The ``QueryRequest`` fields for this context."""
        return {"branch": self.branch, "globals": self.globals.as_dict(),
                "globals_text": self.globals.text()}


def on_branch(settings: ConsoleSettings, branch: str | None) -> ConsoleSettings:
    """``settings`` connecting to ``branch``: every process-wide cache keyed by the connection
    (descriptions, the schema model) follows the branch through ``identity()``."""
    if branch is None:
        return settings
    return dataclasses.replace(settings,
                               connection=dataclasses.replace(settings.connection, branch=branch))


def branch_client_factory(settings: ConsoleSettings) -> Callable[[str], QueryClient]:
    """Called on the session's loop with a branch name: a client on that branch, a pool as
    bounded as the connection's own (``max_running + 1``)."""
    if settings.fake_client:
        from ecc.fake.branches import FakeBranchClients, active_fake_branches

        clients = active_fake_branches() or FakeBranchClients()
        return clients
    options = ClientOptions(settings.connect_wait_s, settings.connect_timeout_s,
                            max_concurrency=settings.max_running + 1)

    def make(branch: str) -> QueryClient:
        return create_gel_client(on_branch(settings, branch).connection, options)

    return make


def branch_catalog(runtime: SessionRuntime, settings: ConsoleSettings,
                   timeout_s: float = 3.0) -> BranchCatalog | None:
    """The server's branch list for this session, read at most once per ``CATALOG_TTL_S``;
    None while it cannot be read (the connection's error shows with the first query)."""
    state = st.session_state
    identity = settings.connection.identity()
    cached = state.get(CATALOG_KEY)
    now = time.monotonic()
    if cached is not None and cached[0] == identity and now - cached[1] < CATALOG_TTL_S:
        found: BranchCatalog = cached[2]
        return found
    try:
        catalog = runtime.call(lambda c: asyncio.wait_for(read_catalog(c), timeout_s),
                               timeout=timeout_s + 1)
    except Exception:
        return None if cached is None else cached[2]
    assert isinstance(catalog, BranchCatalog)
    state[CATALOG_KEY] = (identity, now, catalog)
    return catalog


def chosen_branch(settings: ConsoleSettings, catalog: BranchCatalog | None) -> str | None:
    """The session's branch, as the policy allows it (None: the connection's own). A picked
    branch the policy refuses raises ``ConsoleInputError`` saying why."""
    picked = st.session_state.get(BRANCH_KEY)
    return BranchPolicy.from_settings(settings).check(
        picked if isinstance(picked, str) and picked else None, catalog)


def branch_from_link(settings: ConsoleSettings, value: str | None,
                     catalog: BranchCatalog | None) -> str | None:
    """A shared link's ``branch``: picked when the policy allows it; else the message saying
    why (the session stays where it is)."""
    if not value:
        return None
    try:
        allowed = BranchPolicy.from_settings(settings).check(value, catalog)
    except ConsoleInputError as exc:
        return f"The link's branch was not opened: {exc.view.message}"
    st.session_state[BRANCH_KEY] = allowed or ""
    return None


def draw_branch_picker(settings: ConsoleSettings, catalog: BranchCatalog | None) -> None:
    """The sidebar's branch: a select box over the allowed branches, or the branch shown
    read-only when the operator pinned it (or allows no other)."""
    policy = BranchPolicy.from_settings(settings)
    choices = policy.choices(catalog)
    current = policy.default_name(catalog) or "(the server's default)"
    if not policy.changeable or len(choices) < 2:
        why = "pinned by the operator" if policy.pinned else (
            "the only branch allowed" if not policy.changeable else "the only branch listed")
        st.caption(f"Branch: **{escape_markdown(current)}** ({why})")
        if catalog is not None and catalog.problem and policy.changeable:
            st.caption(escape_markdown(catalog.problem))
        return
    picked = st.session_state.get(BRANCH_KEY)
    if picked not in choices:
        st.session_state[BRANCH_KEY] = choices[0]
    st.selectbox("Branch", choices, key=BRANCH_KEY,
                 help="Queries, the schema explorer and completions use this branch.")
    if catalog is not None and catalog.problem:
        st.caption(escape_markdown(catalog.problem))


def draw_globals(settings: ConsoleSettings, model: SchemaModel | None) -> None:
    """The globals the operator fixed (read-only) and those users may set (typed inputs,
    read by the parameters' parsers when a run is queued). Nothing without a globals policy."""
    policy = GlobalsPolicy.from_settings(settings)
    if not policy.active:
        return
    st.markdown("**Globals**")
    if model is None:
        for name, value in policy.fixed:
            st.text_input(label_markdown(name), value=str(value), disabled=True,
                          key=f"{GLOBAL_PREFIX}fixed::{name}", help="Fixed by the operator.")
        if policy.user_settable:
            st.caption("The schema has not been read yet: settable globals appear once it is.")
        return
    for each in global_inputs(model, policy):
        label = label_markdown(f"{each.name} ({each.parameter.type.label()})")
        if not each.editable:
            st.text_input(label, value=each.fixed_text or "", disabled=True,
                          key=f"{GLOBAL_PREFIX}fixed::{each.name}",
                          help="Fixed by the operator: applied to every query, not editable.")
            continue
        key = GLOBAL_PREFIX + each.name
        if each.parameter.type.name == "std::bool":
            st.checkbox(label, key=key)
        else:
            st.text_input(label, key=key, placeholder=(f"default: {each.default}"
                                                       if each.default else "not set"))


def user_global_values(settings: ConsoleSettings) -> dict[str, RawValue]:
    """What the user typed for the globals they may set (only those keys are read)."""
    state = st.session_state
    out: dict[str, RawValue] = {}
    for name in GlobalsPolicy.from_settings(settings).user_settable:
        value = state.get(GLOBAL_PREFIX + name)
        if isinstance(value, bool | str) and value != "":
            out[name] = value
    return out


def run_context(settings: ConsoleSettings, catalog: BranchCatalog | None,
                model: SchemaModel | None) -> RunContext:
    """The branch and globals a submission runs with. Raises ``ConsoleInputError`` (nothing
    is queued) for a branch or a global the operator does not allow, or a global value its
    type refuses."""
    branch = chosen_branch(settings, catalog)
    applied = resolve_globals(GlobalsPolicy.from_settings(settings), model,
                              user_global_values(settings))
    return RunContext(branch, applied)
