"""Streamlit glue: settings, registries, the session's runtime.

Settings come from ``[connections.gel]`` secrets and the environment (``read_settings``).
Registries are ``st.cache_resource`` entries:
- ``session_registry()`` (global scope): token → ``SessionRuntime`` (loop thread + client),
  with last-used timestamps and a reaper thread; ``atexit`` closes it at process exit;
- ``session_handle()`` (session scope): this browser session's token; Streamlit calls
  ``_release_session`` on every websocket disconnect (the browser may come back within
  ``server.disconnectedSessionTTL``): an idle runtime is released at once, a busy one when its
  runs end, unless the session's next script run asks for it first (``SessionRegistry``);
- ``describe_cache()`` and ``schema_store()``: the server's query descriptions and schema
  models, per connection identity, shared by the process.
The page's panels live in ``st_page/``; this module never imports them.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import streamlit as st

import st_comps
from ecc.driver.client import ClientOptions, QueryClient, create_gel_client
from ecc.driver.describe_cache import DescribeCache
from ecc.driver.errors import ErrorView, ServerPrivacy, error_view
from ecc.driver.execute import ExecutionPolicy
from ecc.fake import client as testing
from ecc.running.runs import RunBook
from ecc.running.sessions import RuntimeLimits, SessionLimitError, SessionRegistry, SessionRuntime
from ecc.schema.store import SchemaKey, SchemaStore
from ecc.settings.access import require_sign_in_for_allow_list
from ecc.settings.config import ConsoleSettings, SettingsError, load_settings
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
        require_sign_in_for_allow_list(settings, auth_configured=auth_configured())
    except SettingsError as exc:
        return SettingsProblem(str(exc))
    if os.environ.get(TEST_FAKE_ENV) == "1" and not settings.fake_client:
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
    # A busy runtime whose browser left waits at most as long as Streamlit keeps the session.
    grace_s = float(st.get_option("server.disconnectedSessionTTL"))
    return SessionRegistry(reap_interval_s=30.0, release_grace_s=grace_s)


@dataclass
class SessionHandle:
    """The session-scoped resource whose release tells us the browser session ended.

    It records the token(s) minted in its session; the token itself lives in
    ``st.session_state`` (per session everywhere, AppTest included, where session-scoped
    resources of several AppTest instances are shared)."""

    tokens: set[str] = field(default_factory=set)


def _release_session(handle: SessionHandle) -> None:
    # Runs on Streamlit's server thread on every websocket disconnect, not only when the
    # session ends: must not block, and must not cost a running query (``release`` defers a
    # busy runtime; a reconnect's ``session_runtime()`` keeps it).
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
    # The pool holds what the session may run at once, plus one connection for the page's own
    # describe (typed inputs) and schema reads, so they never wait behind running queries.
    options = ClientOptions(settings.connect_wait_s, settings.connect_timeout_s,
                            max_concurrency=settings.max_running + 1)

    def make() -> QueryClient:
        return create_gel_client(settings.connection, options)

    return make


def session_runtime(settings: ConsoleSettings, *, connected: bool | None) -> SessionRuntime:
    """This session's runtime (loop + client), built again if it was reaped or released.
    The history is the browser session's own (``run_book``) and survives both.
    ``connected``: whether this run's browser has its websocket now, as
    ``st_page.streamlit_internals.browser_connected()`` tells (None: cannot tell)."""
    registry = session_registry()
    registry.idle_threshold_s = settings.idle_threshold_s
    registry.max_sessions = settings.max_sessions
    limits = RuntimeLimits(
        max_running=settings.max_running,
        max_kept_rows=settings.max_kept_rows,
        max_kept_bytes=settings.max_kept_bytes,
        max_kept_results=settings.max_kept_results,
        history_size=settings.history_size,
        max_queued=settings.max_queued,
    )
    book = run_book(settings)

    def build(token: str) -> SessionRuntime:
        return SessionRuntime(token, client_factory(settings), limits, settings.secret_values,
                              book=book)

    # Only a run of a connected browser takes a pending release away (the browser came
    # back); a run of a disconnected session (None: cannot tell, counts as connected) does not.
    return registry.get_or_create(session_token(), build, came_back=connected is not False)


def page_runtime(settings: ConsoleSettings, *, connected: bool | None) -> SessionRuntime:
    """``session_runtime`` for the page script. A session refused by ``max_sessions`` gets
    the message (through the one error view) and nothing else: no loop, no client."""
    try:
        return session_runtime(settings, connected=connected)
    except SessionLimitError as refused:
        st.title("Gel query console")
        st_comps.render_error(refused.view)
        st.stop()


def run_book(settings: ConsoleSettings) -> RunBook:
    """This browser session's runs (history and results). Kept in session state: it outlives
    any one runtime (reaped when idle, released when the browser disconnects) and comes back
    with a browser that reconnects to its session."""
    book = st.session_state.get("run_book")
    if not isinstance(book, RunBook):
        book = RunBook(settings.history_size, settings.max_kept_results)
        st.session_state["run_book"] = book
    return book


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
                           implicit_limit=settings.max_kept_rows + 1,
                           describe_cache=describe_cache(settings),
                           server_privacy=server_privacy(settings))


def server_privacy(settings: ConsoleSettings) -> ServerPrivacy:
    """Errors say where the server is as the sidebar does (``show_connection``): with
    "none", no host or port in any error."""
    connection = settings.connection
    names = tuple(n for n in (connection.host, connection.address(), connection.instance) if n)
    return ServerPrivacy(hidden=settings.shown_connection(auth_configured()) == "none",
                         names=names)


def shown_error(exc: BaseException, settings: ConsoleSettings, **context: Any) -> ErrorView:
    """``exc``'s view as the page may show it: secrets scrubbed, the server hidden when
    ``show_connection`` says so."""
    view = error_view(exc, **context).scrubbed(settings.secret_values)
    return server_privacy(settings).apply(view)


@st.cache_resource(show_spinner=False, max_entries=8)
def _describe_cache_for(connection_key: str) -> DescribeCache:
    return DescribeCache()


def describe_cache(settings: ConsoleSettings) -> DescribeCache:
    """The process-wide cache of query descriptions for this connection (server, branch, user
    and credentials): shared by every session that connects the same way, never across
    credentials (see ``ecc/driver/describe_cache.py``)."""
    return _describe_cache_for(connection_key(settings))


def connection_key(settings: ConsoleSettings) -> str:
    """Who connects where, as the process-wide caches (descriptions, schema models) key it.
    identity(): the secrets only as a keyed hash; no secret ever becomes a cache key."""
    return settings.connection.identity() + ("|fake" if settings.fake_client else "")


@st.cache_resource(show_spinner=False)
def schema_store() -> SchemaStore:
    """The process's schema models, one per server branch (``ecc/schema/store.py``)."""
    return SchemaStore()


def schema_key(settings: ConsoleSettings) -> SchemaKey:
    return SchemaKey(connection_key(settings))
