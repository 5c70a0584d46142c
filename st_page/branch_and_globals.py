"""The branch picker and the globals panel (sidebar), and what a run takes from them: the
branch (checked against the operator's policy) and the globals it applies.

Where things live: the picked branch is ``st.session_state[BRANCH_KEY]`` (a shared link's
``&branch=`` sets it in the page's first run); a user global's text is
``st.session_state[GLOBAL_PREFIX + name]``. The page's settings for a run carry the branch as
``ConsoleSettings.session_branch`` (``with_branch``), so the caches keyed by the connection
(descriptions, the schema model, completions, the explorer) follow it.
Nothing a user picks or types is trusted: ``stamp_requests`` checks both with the engine's
policy (``ecc.branches``) on every path that queues runs, and fixed globals always take the
operator's value.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any, NamedTuple

import streamlit as st

from ecc.arguments.param_values import RawValue
from ecc.branches.catalog import BranchCatalog, read_catalog
from ecc.branches.globals_input import AppliedGlobals, global_inputs, resolve_globals
from ecc.branches.policy import BranchPolicy, GlobalsPolicy
from ecc.display.safe_text import escape_markdown, label_markdown
from ecc.driver.errors import ConsoleInputError, ErrorView
from ecc.driver.execute import QueryRequest
from ecc.running.sessions import SessionRuntime
from ecc.schema.model import SchemaModel
from ecc.settings.config import ConsoleSettings
from st_page.links import LINK_PENDING_KEY
from st_page.schema_explorer import SCHEMA_PENDING_KEY, schema_for_completion
from st_utils import schema_key, schema_store

BRANCH_KEY = "ecc_branch"
GLOBAL_PREFIX = "ecc_global::"
CATALOG_KEY = "ecc_branch_catalog"  # (connection identity, read at, catalog or None)
ACTIVE_KEY = "ecc_branch_active"  # the branch the page ran on last (None: the connection's)
LINK_BRANCH_PARAM = "branch"
CATALOG_TTL_S = 60.0  # a session reads the branch list again after this (branches come and go)
CATALOG_WAIT_S = 2.0  # a page run waits at most this long for the branch list


class RunContext(NamedTuple):
    """What a submission takes from the sidebar: its branch (None: the connection's own),
    the branch's name as shown, and the globals it applies."""

    branch: str | None
    shown: str
    globals: AppliedGlobals

    def request_fields(self) -> dict[str, Any]:
        """The ``QueryRequest`` fields for this context."""
        return {"branch": self.branch, "branch_shown": self.shown,
                "globals": self.globals.as_dict(), "globals_text": self.globals.text()}


def with_branch(settings: ConsoleSettings, branch: str | None) -> ConsoleSettings:
    """``settings`` for a page run on ``branch`` (None: the connection's own)."""
    if settings.session_branch == branch:
        return settings
    return dataclasses.replace(settings, session_branch=branch)


def branch_catalog(runtime: SessionRuntime | None, settings: ConsoleSettings
                   ) -> BranchCatalog | None:
    """The server's branch list for this session, read (on the connection's branch) at most
    once per ``CATALOG_TTL_S``, failures included; None while it cannot be read (the
    connection's error shows with the first query). ``runtime`` None: the cached one only."""
    state = st.session_state
    identity = settings.connection.identity()
    cached = state.get(CATALOG_KEY)
    now = time.monotonic()
    fresh = cached is not None and cached[0] == identity and now - cached[1] < CATALOG_TTL_S
    if fresh or runtime is None:
        found: BranchCatalog | None = cached[2] if cached is not None else None
        return found
    catalog: BranchCatalog | None = None
    try:
        read = runtime.call(lambda c: asyncio.wait_for(read_catalog(c), CATALOG_WAIT_S),
                            timeout=CATALOG_WAIT_S + 1, branch=None)
        catalog = read if isinstance(read, BranchCatalog) else None
    except Exception:
        catalog = cached[2] if cached is not None else None
    state[CATALOG_KEY] = (identity, now, catalog)
    return catalog


def _needs_catalog(policy: BranchPolicy) -> bool:
    """Only a console where users may pick a branch reads the server's list."""
    return policy.changeable


def session_settings(runtime: SessionRuntime, settings: ConsoleSettings
                     ) -> tuple[ConsoleSettings, str | None]:
    """Before the sidebar is drawn: this run's settings on the session's branch, and why a
    link's or the picker's branch was refused (plain text; the page escapes it). A link's
    ``&branch=`` is taken in the page's first run; a refused branch leaves the session on
    the connection's. A branch change drops the schema read under way for the old one."""
    state = st.session_state
    policy = BranchPolicy.from_settings(settings)
    catalog = branch_catalog(runtime, settings) if _needs_catalog(policy) else None
    problem = None
    link_branch = st.query_params.get(LINK_BRANCH_PARAM) if state.get(LINK_PENDING_KEY) \
        else None
    if link_branch:
        try:
            state[BRANCH_KEY] = policy.check(link_branch, catalog) or ""
        except ConsoleInputError as refused:
            problem = f"The link's branch was not opened: {refused.view.message}"
    picked = state.get(BRANCH_KEY)
    try:
        branch = policy.check(picked if isinstance(picked, str) and picked else None, catalog)
    except ConsoleInputError as refused:
        branch, problem = None, problem or refused.view.message
        state.pop(BRANCH_KEY, None)  # before the picker is drawn: it starts at the default
    if state.get(ACTIVE_KEY, None) != branch:
        state[ACTIVE_KEY] = branch
        # The old branch's schema read (or its failure) is not this branch's.
        state.pop(SCHEMA_PENDING_KEY, None)
        state.pop("schema_error", None)
    return with_branch(settings, branch), problem


def draw_branch_and_globals(runtime: SessionRuntime, settings: ConsoleSettings) -> None:
    """The sidebar's branch picker and globals panel, for the run's settings (``with_branch``)."""
    policy = BranchPolicy.from_settings(settings)
    catalog = branch_catalog(None, settings)
    draw_branch_picker(policy, catalog)
    if not GlobalsPolicy.from_settings(settings).active:
        return
    # The globals' types come from the branch's schema: start (or join) its read, waiting
    # as briefly as the editor's completions do; a slower read shows in a later run.
    schema_for_completion(runtime, settings)
    entry = schema_store().current(schema_key(settings))
    draw_globals(settings, entry.model if entry is not None else None)


def draw_branch_picker(policy: BranchPolicy, catalog: BranchCatalog | None) -> None:
    """A select box over the allowed branches, or the branch shown read-only when the
    operator pinned it (or allows no other)."""
    choices = policy.choices(catalog)
    current = policy.default_name(catalog) or "the connection's default"
    if not policy.changeable or len(choices) < 2:
        why = "pinned by the operator" if policy.pinned else (
            "the only branch allowed" if not policy.changeable else "the only branch listed")
        st.caption(f"Branch: **{escape_markdown(current)}** ({why})")
        if catalog is not None and catalog.problem and policy.changeable:
            st.caption(escape_markdown(catalog.problem))
        return
    state = st.session_state
    if state.get(BRANCH_KEY) not in choices:
        state[BRANCH_KEY] = choices[0]
    st.selectbox("Branch", choices, key=BRANCH_KEY,
                 help="Queries, typed inputs, the schema explorer and completions use this "
                 "branch.")
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
            st.text_input(label_markdown(f"{name} · fixed"), value=str(value), disabled=True,
                          key=f"{GLOBAL_PREFIX}fixed::{name}", help="Fixed by the operator.")
        if policy.user_settable:
            st.caption("The schema has not been read yet: settable globals appear once it is.")
        return
    for each in global_inputs(model, policy):
        label = label_markdown(f"{each.name} · {each.parameter.type.label()}")
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


def run_context(settings: ConsoleSettings, branch: str | None,
                catalog: BranchCatalog | None, model: SchemaModel | None) -> RunContext:
    """The branch (already checked by the policy) and the globals a submission runs with,
    from the globals inputs. Raises ``ConsoleInputError`` (nothing is queued) for a global
    the operator does not allow, or a value its type refuses."""
    applied = resolve_globals(GlobalsPolicy.from_settings(settings), model,
                              user_global_values(settings))
    shown = branch or BranchPolicy.from_settings(settings).default_name(catalog) or ""
    return RunContext(branch, shown, applied)


def stamp_requests(requests: list[QueryRequest], settings: ConsoleSettings
                   ) -> tuple[list[QueryRequest], ConsoleSettings]:
    """Every path that queues runs (the form, "Run again") passes here: the requests on the
    session's branch with its globals, checked now, and the settings of that branch (its
    descriptions). Raises ``ConsoleInputError``: nothing may be queued."""
    catalog = branch_catalog(None, settings)
    policy = BranchPolicy.from_settings(settings)
    picked = st.session_state.get(BRANCH_KEY)
    branch = policy.check(picked if isinstance(picked, str) and picked else None, catalog)
    here = with_branch(settings, branch)
    entry = schema_store().current(schema_key(here))
    context = run_context(settings, branch, catalog,
                          entry.model if entry is not None else None)
    fields = context.request_fields()
    return [dataclasses.replace(r, **fields) for r in requests], here


def shown_branch(settings: ConsoleSettings) -> str:
    """The session's branch by name as the page shows it ("": the connection's branch when
    neither the settings nor the server's list name it): what a saved query keeps."""
    active = st.session_state.get(ACTIVE_KEY)
    if isinstance(active, str) and active:
        return active
    return BranchPolicy.from_settings(settings).default_name(branch_catalog(None, settings)) \
        or ""


def link_branch(shown: str, settings: ConsoleSettings) -> str | None:
    """The ``&branch=`` a link of a query recorded on branch ``shown`` carries: None for the
    connection's own branch, as a run's link (``st_page.links.share_link``)."""
    default = BranchPolicy.from_settings(settings).default_name(branch_catalog(None, settings))
    return shown if shown and shown != default else None


def switch_to_recorded(shown: str, settings: ConsoleSettings, *, loading: bool
                       ) -> ErrorView | None:
    """Put the session's branch picker on the branch a run was recorded on (a history entry,
    a saved query), when the operator's policy still allows it; "" (none recorded: a run
    kept before branches were) leaves the session's branch as it is. Returns why the branch
    cannot be used (the picker is left alone): the caller runs nothing (``loading``: the
    query is only put into the editor, on the session's branch, and the view says so)."""
    if not shown:
        return None
    policy = BranchPolicy.from_settings(settings)
    catalog = branch_catalog(None, settings)
    try:
        branch = policy.recorded(shown, catalog)
    except ConsoleInputError as refused:
        current = shown_branch(settings) or "the connection's branch"
        then = (f"The query was put into the editor; a run of it now goes to this session's "
                f"branch, {current!r}." if loading else "Nothing was run.")
        return ErrorView(kind="input", title="Recorded branch not allowed",
                         message=f"This query ran on branch {shown!r}, which this console "
                         f"does not allow now: {refused.view.message} {then}",
                         hint=refused.view.hint or "Pick a branch in the sidebar, then run it "
                         "there.")
    st.session_state[BRANCH_KEY] = branch or policy.default_name(catalog) or ""
    return None
