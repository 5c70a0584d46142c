"""Streamlit glue: settings from secrets, the process-wide registry, this session's runtime.

Registries are ``st.cache_resource`` entries:
- ``session_registry()`` (global scope): token → ``SessionRuntime`` (loop thread + client),
  with last-used timestamps and a reaper thread; ``atexit`` closes it at process exit;
- ``session_handle()`` (session scope): this browser session's token; Streamlit calls
  ``_release_session`` when the session disconnects, which releases its runtime at once.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from ecc import testing
from ecc.client import ClientOptions, QueryClient, create_gel_client
from ecc.config import ConsoleSettings, SettingsError, load_settings
from ecc.describe_cache import DescribeCache, Description
from ecc.execute import ExecutionPolicy
from ecc.sessions import RuntimeLimits, SessionRegistry, SessionRuntime
from st_data_structures import UserPrefs

log = logging.getLogger("ecc.page")

TEST_FAKE_ENV = "ECC_TEST_FAKE_CLIENT"  # test-only: serve the shipped fake, never a database
LOOP_NOTICE = ("This session's event loop had stopped; a new one was started. Queries it was "
               "running are marked failed in the history.")


@dataclass(frozen=True)
class SettingsProblem:
    message: str


def read_settings() -> ConsoleSettings | SettingsProblem:
    """Settings from ``[connections.gel]`` and the environment, or what is wrong with them."""
    section: Mapping[str, Any] = {}
    try:
        connections = st.secrets.get("connections", {})
        section = connections.get("gel", {}) if hasattr(connections, "get") else {}
    except Exception:  # no secrets.toml at all: fine, the environment may configure us
        section = {}
    try:
        settings = load_settings(dict(section), os.environ)
    except SettingsError as exc:
        return SettingsProblem(str(exc))
    if os.environ.get(TEST_FAKE_ENV) == "1" and not settings.fake_client:
        from dataclasses import replace

        settings = replace(settings, fake_client=True)
    return settings


def auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:
        return False


def _close_registry(registry: SessionRegistry) -> None:
    registry.close_all()


@st.cache_resource(show_spinner=False, on_release=_close_registry)
def session_registry() -> SessionRegistry:
    return SessionRegistry(reap_interval_s=30.0)


@dataclass
class SessionHandle:
    """The session-scoped resource whose release tells us the browser session ended.

    It records the token(s) minted in its session; the token itself lives in
    ``st.session_state`` (per session everywhere, AppTest included, where session-scoped
    resources of several AppTest instances are shared)."""

    tokens: set[str] = field(default_factory=set)


def _release_session(handle: SessionHandle) -> None:
    # Runs on Streamlit's server thread when the browser session goes away: must not block.
    registry = session_registry()
    for token in list(handle.tokens):
        registry.release(token)


@st.cache_resource(scope="session", on_release=_release_session, show_spinner=False)
def session_handle() -> SessionHandle:
    return SessionHandle()


def session_token() -> str:
    token = st.session_state.get("ecc_session_token")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(16)
        st.session_state["ecc_session_token"] = token
    session_handle().tokens.add(token)
    return token


def client_factory(settings: ConsoleSettings) -> Any:
    """A zero-argument factory called on the session's loop to create its client."""
    if settings.fake_client:
        return testing.active_fake_factory()
    options = ClientOptions(settings.connect_wait_s, settings.connect_timeout_s)

    def make() -> QueryClient:
        return create_gel_client(settings.connection, options)

    return make


def session_runtime(settings: ConsoleSettings) -> SessionRuntime:
    registry = session_registry()
    registry.idle_threshold_s = settings.idle_threshold_s
    limits = RuntimeLimits(
        max_running=settings.max_running,
        max_kept_rows=settings.max_kept_rows,
        max_kept_results=settings.max_kept_results,
        history_size=settings.history_size,
    )

    def build(token: str) -> SessionRuntime:
        return SessionRuntime(token, client_factory(settings), limits, settings.secret_values)

    return registry.get_or_create(session_token(), build)


def user_prefs(settings: ConsoleSettings) -> UserPrefs:
    """This session's preferences, clamped to what the administrator allows."""
    state = st.session_state
    row_limit = int(state.get("pref_row_limit", settings.row_limit))
    timeout = float(state.get("pref_timeout_s", settings.query_timeout_s))
    return UserPrefs(
        row_limit=max(1, min(row_limit, 10_000)),
        query_timeout_s=max(0.1, min(timeout, settings.query_timeout_s)),
        view=str(state.get("pref_view", "table")),
    )


def execution_policy(settings: ConsoleSettings, prefs: UserPrefs) -> ExecutionPolicy:
    return ExecutionPolicy(read_only=settings.read_only, timeout_s=prefs.query_timeout_s,
                           describe_cache=describe_cache(settings))


@st.cache_resource(show_spinner=False, max_entries=8)
def _describe_cache_for(connection_key: str) -> DescribeCache:
    return DescribeCache()


def describe_cache(settings: ConsoleSettings) -> DescribeCache:
    """The process-wide cache of query descriptions for this connection (server, branch):
    shared by every session that uses it (see ``ecc/describe_cache.py``)."""
    summary = settings.connection.summary()  # redacted: no secret ever becomes a cache key
    key = repr(sorted(summary.items())) + ("|fake" if settings.fake_client else "")
    return _describe_cache_for(key)


def sign_in_gate(settings: ConsoleSettings) -> None:
    """With an ``[auth]`` section, only signed-in users on the allow-list get the console;
    without it, say plainly that the page is open to anyone who can reach it."""
    from ecc.access import access_decision

    if not auth_configured():
        st.sidebar.caption(
            "🔓 Sign-in is not configured: anyone who can reach this page can use it. "
            "Add an [auth] section to secrets to require sign-in."
        )
        return
    user = st.user
    logged_in = bool(getattr(user, "is_logged_in", False))
    raw_email = user.get("email") if logged_in else None
    email = raw_email if isinstance(raw_email, str) else None
    decision = access_decision(logged_in, email, settings.allowed_emails,
                               settings.allowed_domains)
    if decision.allowed:
        with st.sidebar:
            st.caption(f"Signed in as {email}.")
            st.button("Sign out", on_click=st.logout, key="sign_out")
        return
    st.title("Gel query console")
    st.info(decision.reason, icon="🔒")
    if logged_in:
        st.button("Sign out", on_click=st.logout, key="sign_out")
    else:
        st.button("Sign in", on_click=st.login, key="sign_in", type="primary")
    st.stop()


# --- page actions ---------------------------------------------------------------------------


def submit_form(runtime: SessionRuntime, content: Any, settings: ConsoleSettings,
                prefs: UserPrefs) -> list[Any]:
    """Check the form, queue its queries, wait briefly. Returns input errors (nothing ran)."""
    from ecc.drafts import DraftLimits, build_requests

    limits = DraftLimits(settings.max_query_chars, settings.max_args_chars)
    content, typed_errors = _with_typed_values(runtime, content, settings)
    if typed_errors:
        return [e.scrubbed(settings.secret_values) for e in typed_errors]
    share_link(content)
    drafts = content.drafts()[: settings.max_batch]
    requests, errors = build_requests(drafts, limits)
    if errors:
        return [e.scrubbed(settings.secret_values) for e in errors]
    queue_runs(runtime, requests, settings, prefs)
    return []


def queue_runs(runtime: SessionRuntime, requests: list[Any], settings: ConsoleSettings,
               prefs: UserPrefs) -> None:
    """The one path from checked requests to the page (the form and "Run again"): queue
    them, show this batch, and note a restarted loop. Nothing waits here: the page run
    streams the results in as they finish (``st_live``)."""
    import st_live

    submitted = runtime.submit(requests, execution_policy(settings, prefs))
    st.session_state["shown_batch"] = submitted.records[0].batch_id
    st.session_state.pop("shown_run", None)
    st.session_state.pop(st_live.POLL_KEY, None)  # a new submission streams again
    if submitted.loop_restarted:
        st.session_state["loop_notice"] = True


def _with_typed_values(runtime: SessionRuntime, content: Any, settings: ConsoleSettings
                       ) -> tuple[Any, list[Any]]:
    """Convert each typed-mode tab's inputs to driver values (or collect the errors)."""
    from dataclasses import replace

    from ecc.typed_inputs import argument_values

    tabs, errors = [], []
    for index, tab in enumerate(content.tabs, start=1):
        if tab.mode != "typed" or (index > 1 and not tab.text.strip()):
            tabs.append(tab)
            continue
        inputs = typed_inputs_for(runtime, tab.text, settings)
        args, kwargs, problems = argument_values(f"Query {index}", inputs, tab.raw_params)
        errors.extend(problems)
        tabs.append(replace(tab, typed_args=args if args is not None else (),
                            typed_kwargs=kwargs, args_text=_render_args(args),
                            kwargs_text=_render_kwargs(kwargs)))
    return replace(content, tabs=tuple(tabs)), errors


def _render_args(args: tuple[object, ...] | None) -> str:
    from ecc.arglang import render_literal

    return ", ".join(render_literal(v) for v in args) if args else ""


def _render_kwargs(kwargs: dict[str, object] | None) -> str:
    from ecc.arglang import render_literal

    return "\n".join(f"{k} = {render_literal(v)}" for k, v in kwargs.items()) if kwargs else ""


def typed_inputs_for(runtime: SessionRuntime, text: str, settings: ConsoleSettings) -> Any:
    """The typed inputs of ``text``, confirmed by the server's description when connected.
    Kept per text in the session (at most 32 texts) while the connection's describe cache
    vouches for it: not past its TTL, and not across a schema change it saw."""
    from ecc.params import parameters_from_description
    from ecc.typed_inputs import typed_inputs

    cache = describe_cache(settings)
    kept: dict[str, Any] = st.session_state.setdefault("typed_inputs_cache", {})
    now = time.monotonic()
    if text in kept:
        generation, stored_at, inputs = kept[text]
        if generation == cache.generation and now - stored_at <= cache.ttl_s:
            return inputs
    generation = cache.generation
    server = None
    if "$" in text:

        async def describe(client: QueryClient) -> Description:
            return await cache.describe(client, text)

        try:
            description = runtime.call(describe, timeout=settings.connect_wait_s + 3)
            input_type = getattr(description, "input_type", None)
            if input_type is not None:  # None: the server could not say (or a bare fake)
                server = parameters_from_description(input_type)
        except Exception as exc:  # the text's own reading still works without the server
            log.info("describe failed (%s); using the query text's parameters",
                     type(exc).__name__)
    inputs = typed_inputs(text, server)
    kept.pop(text, None)
    if len(kept) >= 32:
        kept.pop(next(iter(kept)))
    kept[text] = (generation, now, inputs)
    return inputs


SHARE_KEYS = ("q", "args", "kwargs", "mode")


def share_link(content: Any) -> None:
    """Put the first query and its values in the page address, so it can be sent to others."""
    tab = content.tabs[0]
    params: dict[str, str] = {"q": tab.text, "mode": tab.mode}
    if tab.mode == "text":
        params.update({"args": tab.args_text, "kwargs": tab.kwargs_text})
    else:
        for name, raw in tab.raw_params.items():
            if raw not in (None, "", False):
                params[f"p.{name}"] = "true" if raw is True else str(raw)
    st.query_params.from_dict({k: v for k, v in params.items() if v})


def load_shared_link() -> bool:
    """Fill the form from the page address once per session. Never runs anything."""
    state = st.session_state
    if state.get("link_loaded"):
        return False
    state["link_loaded"] = True
    query = st.query_params.to_dict()
    if not query.get("q"):
        return False
    state["q_text_0"] = query["q"][:100_000]
    state["q_mode_0"] = "text" if query.get("mode") == "text" else "typed"
    state["q_args_0"] = query.get("args", "")
    state["q_kwargs_0"] = query.get("kwargs", "")
    memory = state.setdefault("param_memory", {})
    for key, value in query.items():
        if key.startswith("p."):
            memory[key[2:]] = value
    return True


def sidebar(settings: ConsoleSettings, runtime: SessionRuntime) -> None:
    import st_comps

    st.header("Console")
    st_comps.connection_summary(settings)
    if st.button("Test connection", key="test_connection", icon="🔌"):
        outcome = test_connection(settings, runtime)
        if outcome is None:
            st.success("Connected: the server answered `select 1`.")
        else:
            st_comps.render_error(outcome)
    st.divider()
    st.markdown("**My settings**")
    state = st.session_state
    state.setdefault("pref_row_limit", settings.row_limit)
    state.setdefault("pref_timeout_s", settings.query_timeout_s)
    state.setdefault("tab_count", 1)
    st.number_input("Rows shown per result", min_value=1, max_value=10_000, step=50,
                    key="pref_row_limit")
    st.number_input("Query timeout (s)", min_value=0.1, max_value=settings.query_timeout_s,
                    key="pref_timeout_s", help="At most the administrator's query_timeout_s.")
    st.radio("Result view", ["table", "json", "text"], key="pref_view", horizontal=True)
    st.number_input("Queries per submission (tabs)", min_value=1, max_value=settings.max_batch,
                    key="tab_count")
    st.divider()
    st_comps.docs_links()


def test_connection(settings: ConsoleSettings, runtime: SessionRuntime) -> Any:
    """None when the server answers ``select 1``; else the error's view."""
    from ecc.errors import error_view

    bound = settings.connect_wait_s + settings.connect_timeout_s + 2

    async def probe(client: QueryClient) -> object:
        await client.ensure_connected()
        return await client.query_single("select 1")

    try:
        runtime.call(probe, timeout=bound)
    except Exception as exc:
        return error_view(exc, subject="Test connection", timeout_s=bound).scrubbed(
            settings.secret_values
        )
    return None


def history_and_resources(runtime: SessionRuntime) -> None:
    """History and resources are drawn only when opened (toggles, not expanders: an
    expander's content is built on every rerun even when collapsed)."""
    import st_comps

    records = runtime.book.newest_first()
    if st.toggle(f"History ({len(records)})", key="show_history"):
        with st.container(border=True):
            _history(runtime, records)
    if st.toggle("Resources", key="show_resources"):
        with st.container(border=True):
            st_comps.resources_panel(runtime.status(), session_registry().totals())
            c1, c2, c3 = st.columns(3)
            c1.button("Refresh", key="res_refresh")
            if c2.button("Reset my connection", key="res_reset"):
                runtime.reset_client()
                st.success("Closed this session's client; the next query opens a new one.")
            if c3.button("Release idle resources", key="res_release"):
                registry = session_registry()
                reaped = registry.reap_idle(
                    time.monotonic(), registry.idle_threshold_s, keep=runtime.token
                )
                st.success(f"Released {len(reaped)} idle session(s); running ones are kept.")


def _history(runtime: SessionRuntime, records: list[Any]) -> None:
    import st_comps

    if not records:
        st.caption("Runs of this session appear here, newest first (the last 100 are kept).")
        return
    st_comps.history_table(records)
    ids = [r.run_id for r in records]
    c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 1])
    c1.selectbox("Run", ids, key="history_run", format_func=lambda i: f"run {i}")
    # Callbacks read the chosen run when clicked: args bound at render time would carry the
    # choice of the previous run of the page.
    c2.button("Load into form", key="history_load", on_click=load_into_form, args=(runtime,))
    c3.button("Run again", key="history_rerun", on_click=run_again, args=(runtime,))
    c4.button("Show", key="history_show", on_click=_show_run)
    c5.button("Clear", key="history_clear", on_click=_clear_history, args=(runtime,))
    st.download_button("Download history (JSON)",
                       data=lambda: st_comps.history_json(runtime.book.newest_first()),
                       file_name="history.json", mime="application/json",
                       on_click="ignore", key="history_download")


def _clear_history(runtime: SessionRuntime) -> None:
    runtime.book.clear()
    st.session_state.pop("shown_run", None)


def _chosen_run() -> int | None:
    chosen = st.session_state.get("history_run")
    return int(chosen) if chosen is not None else None


def _show_run() -> None:
    st.session_state["shown_run"] = _chosen_run()


def load_into_form(runtime: SessionRuntime) -> None:
    run_id = _chosen_run()
    record = runtime.book.get(run_id) if run_id is not None else None
    if record is None:
        return
    request = record.request
    state = st.session_state
    state["tab_count"] = 1
    state["q_mode_0"] = "text"  # the request's arguments are kept as argument-language text
    state["q_text_0"] = request.query
    state["q_args_0"] = request.args_text
    state["q_kwargs_0"] = request.kwargs_text
    state["q_json_0"] = request.method.returns_json
    state["q_card_0"] = {
        "query": "many", "query_single": "at most one", "query_required_single": "exactly one",
    }[request.method.value.removesuffix("_json")]


def run_again(runtime: SessionRuntime) -> None:
    run_id = _chosen_run()
    record = runtime.book.get(run_id) if run_id is not None else None
    settings = read_settings()
    if record is None or isinstance(settings, SettingsProblem):
        return
    queue_runs(runtime, [record.request], settings, user_prefs(settings))
