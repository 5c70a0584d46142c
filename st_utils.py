"""Streamlit glue: settings from secrets, the process-wide registry, this session's runtime.

Registries are ``st.cache_resource`` entries:
- ``session_registry()`` (global scope): token → ``SessionRuntime`` (loop thread + client),
  with last-used timestamps and a reaper thread; ``atexit`` closes it at process exit;
- ``session_handle()`` (session scope): this browser session's token; Streamlit calls
  ``_release_session`` on every websocket disconnect (the browser may come back within
  ``server.disconnectedSessionTTL``): an idle runtime is released at once, a busy one when its
  runs end, unless the session's next script run asks for it first (``SessionRegistry``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

import st_comps
from ecc.arguments.arglang import render_named, render_positional
from ecc.arguments.drafts import (
    MAX_LINK_BYTES,
    DraftLimits,
    argument_size_error,
    build_requests,
    is_link_param_name,
    link_params,
    link_problem,
    request_argument_sizes,
)
from ecc.arguments.typed_inputs import SessionDescriptions, TypedInputs, argument_values
from ecc.display.plans import analyze_text
from ecc.display.safe_text import escape_markdown
from ecc.driver.client import ClientOptions, QueryClient, create_gel_client
from ecc.driver.describe_cache import DescribeCache, Description
from ecc.driver.errors import ConsoleInputError, ErrorView, ServerPrivacy, error_view
from ecc.driver.execute import ExecutionPolicy, QueryRequest
from ecc.editor import sync as editor_sync
from ecc.fake import client as testing
from ecc.running.loop import LoopStoppedError
from ecc.running.runs import RunBook, RunRecord
from ecc.running.sessions import (
    RuntimeLimits,
    SessionLimitError,
    SessionRegistry,
    SessionRuntime,
    SubmitResult,
)
from ecc.schema import view as schema_view
from ecc.schema.introspect import read_standard
from ecc.schema.model import SchemaModel
from ecc.schema.store import CompletionTree, SchemaEntry, SchemaKey, SchemaStore
from ecc.schema.view import query_text
from ecc.settings.access import access_decision, require_sign_in_for_allow_list
from ecc.settings.config import ConsoleSettings, SettingsError, load_settings
from st_comps import (
    BROWSER_KEYS,
    browser_components,
    browser_widget_states,
    remember_browser_keys,
    widget_default,
)
from st_data_structures import FormContent, UserPrefs

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


def session_runtime(settings: ConsoleSettings) -> SessionRuntime:
    """This session's runtime (loop + client), built again if it was reaped or released.
    The history is the browser session's own (``run_book``) and survives both."""
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
    return registry.get_or_create(session_token(), build,
                                  came_back=browser_connected() is not False)


# Streamlit versions whose runtime was read for ``browser_connected`` ([from, before)): in
# 1.67, ``Runtime.is_active_session`` is True while the session has a websocket; on a
# disconnect the session leaves the active map right after its session caches are cleared
# (our ``on_release``), and a reconnect puts it back before its rerun.
ACTIVE_SESSION_VERSIONS = ((1, 67), (2, 0))


def browser_connected() -> bool | None:
    """Whether this script run's browser session has its websocket now, as Streamlit's
    runtime says; None when that cannot be told (no real runtime: AppTest, bare mode; no
    script run; a Streamlit outside ``ACTIVE_SESSION_VERSIONS``)."""
    try:
        from packaging.version import Version
        from streamlit import runtime
        from streamlit.runtime.runtime import Runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        release = Version(st.__version__).release[:2]
        low, high = ACTIVE_SESSION_VERSIONS
        if not low <= release < high or not runtime.exists():
            return None
        instance = runtime.get_instance()
        ctx = get_script_run_ctx(suppress_warning=True)
        if not isinstance(instance, Runtime) or ctx is None:  # AppTest's runtime is a mock
            return None
        active = instance.is_active_session(ctx.session_id)
        return active if isinstance(active, bool) else None
    except Exception:  # an internal that moved: today's behaviour (counts as connected)
        log.debug("cannot tell whether the browser is connected", exc_info=True)
        return None


def page_runtime(settings: ConsoleSettings) -> SessionRuntime:
    """``session_runtime`` for the page script. A session refused by ``max_sessions`` gets
    the message (through the one error view) and nothing else: no loop, no client."""
    try:
        return session_runtime(settings)
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


def runtime_now() -> SessionRuntime | None:
    """For button callbacks: the session's runtime when clicked (the one the button was drawn
    with may have been reaped since). None when the settings broke meanwhile."""
    settings = read_settings()
    if isinstance(settings, SettingsProblem):
        return None
    try:
        return session_runtime(settings)
    except SessionLimitError:  # the page run that follows says so
        return None


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


def sign_in_gate(settings: ConsoleSettings) -> None:
    """With an ``[auth]`` section, only signed-in users on the allow-list get the console;
    without it, say plainly that the page is open to anyone who can reach it."""
    if not auth_configured():
        if settings.allowed_emails or settings.allowed_domains:
            # read_settings refuses this; the gate fails closed on its own all the same.
            st.error("An allow-list is set but sign-in ([auth]) is not configured.", icon="🔒")
            st.stop()
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
                               settings.allowed_domains,
                               email_verified=user.get("email_verified") if logged_in else None)
    # The e-mail (and so the reason) is whatever the identity provider says: hostile text.
    if decision.allowed:
        with st.sidebar:
            st.caption(escape_markdown(f"Signed in as {email}." if email else "Signed in."))
            st.button("Sign out", on_click=st.logout, key="sign_out")
        return
    st.title("Gel query console")
    st.info(escape_markdown(decision.reason), icon="🔒")
    if logged_in:
        st.button("Sign out", on_click=st.logout, key="sign_out")
    else:
        st.button("Sign in", on_click=st.login, key="sign_in", type="primary")
    st.stop()


# --- page actions ---------------------------------------------------------------------------


def submit_requested(runtime: SessionRuntime, settings: ConsoleSettings, prefs: UserPrefs,
                     *, form_drawn: bool = False) -> list[ErrorView] | None:
    """Before the page is drawn: queue what this run's Run, Analyze or Ctrl/Cmd+Enter
    submitted, so its queries run while the page draws. None when nothing was submitted;
    else why nothing ran (empty when queued).
    The page calls it again once the form is drawn (``form_drawn``): a session that has not
    drawn the form yet (a page that moved here) can read the values the browser sent only
    once their widgets are drawn, so it submits then."""
    if form_drawn != bool(st.session_state.get(BROWSER_KEYS)):
        return None
    submitted = st_comps.submitted_form(
        int(st.session_state.get("tab_count", 1)),
        lambda text: typed_inputs_for(runtime, text, settings),
        max_query_chars=settings.max_query_chars)
    if submitted is None:
        return None
    st.session_state.pop(LINK_SHOWN_KEY, None)  # a run started: a shared link's notice ends
    if isinstance(submitted, ErrorView):
        return [submitted]
    return submit_form(runtime, submitted, settings, prefs)


def submit_form(runtime: SessionRuntime, content: FormContent, settings: ConsoleSettings,
                prefs: UserPrefs) -> list[ErrorView]:
    """Check the form, queue its queries, wait briefly. Returns input errors (nothing ran)."""
    limits = DraftLimits(settings.max_query_chars, settings.max_args_chars)
    content, typed_errors = _with_typed_values(runtime, content, settings)
    if typed_errors:
        return [e.scrubbed(settings.secret_values) for e in typed_errors]
    linked = content
    if content.analyze:
        content = analyzed(content)
    drafts = content.drafts()[: settings.max_batch]
    requests, errors = build_requests(drafts, limits)
    if errors:
        return [e.scrubbed(settings.secret_values) for e in errors]
    share_link(linked, limits)  # only a run that passed the checks goes into the address
    return queue_runs(runtime, requests, settings, prefs)


def queue_runs(runtime: SessionRuntime, requests: list[QueryRequest],
               settings: ConsoleSettings, prefs: UserPrefs) -> list[ErrorView]:
    """The one path from checked requests to the page (the form and "Run again"): queue
    them, show this batch, and note a restarted loop. Returns why nothing was queued, if so.
    Nothing waits here: the page run streams the results in as they finish (``stream_results``)."""
    try:
        submitted = _submit_to_session(runtime, requests, execution_policy(settings, prefs),
                                       settings)
    except ConsoleInputError as refused:
        return [refused.view]
    state = st.session_state
    state["shown_batch"] = submitted.records[0].batch_id
    state.pop("shown_run", None)
    state.pop(POLL_KEY, None)  # a new submission streams again
    if submitted.loop_restarted:
        state["loop_notice"] = True
    return []


RUNTIME_GONE = ErrorView(
    kind="internal",
    title="Session restarted",
    message="This session's connection to the console was closed while the run was being "
    "queued (the browser's connection dropped a moment ago). Nothing was run.",
    hint="Press Run again.",
    retryable=True,
)


def _submit_to_session(runtime: SessionRuntime, requests: list[QueryRequest],
                       policy: ExecutionPolicy, settings: ConsoleSettings) -> SubmitResult:
    """``runtime.submit``. The runtime may have been closed after this page run fetched it (a
    websocket drop releases an idle runtime at once): then the session's runtime is fetched
    again from the registry and the batch submitted there, once. Raises ``ConsoleInputError``
    (nothing queued) with the view the page shows otherwise."""
    try:
        return runtime.submit(requests, policy)
    except LoopStoppedError:
        log.info("session %s: runtime closed under the page run; fetching it again",
                 runtime.token[:8])
    try:
        return session_runtime(settings).submit(requests, policy)
    except SessionLimitError as refused:
        raise ConsoleInputError(refused.view) from None
    except LoopStoppedError:
        raise ConsoleInputError(RUNTIME_GONE) from None


def analyzed(content: FormContent) -> FormContent:
    """The form's queries as ``analyze <query>``: sent through the same checks and guard."""
    return replace(content, tabs=tuple(
        replace(tab, text=analyze_text(tab.text)) if tab.text.strip() else tab
        for tab in content.tabs))


def _with_typed_values(runtime: SessionRuntime, content: FormContent,
                       settings: ConsoleSettings) -> tuple[FormContent, list[ErrorView]]:
    """Convert each typed-mode tab's inputs to driver values (or collect the errors)."""
    tabs, errors = [], []
    for index, tab in enumerate(content.tabs, start=1):
        if tab.mode != "typed" or (index > 1 and not tab.text.strip()):
            tabs.append(tab)
            continue
        # Run asks the server anyway: here the description is waited for (bounded).
        inputs = typed_inputs_for(runtime, tab.text, settings,
                                  wait_s=settings.connect_wait_s + 3)
        args, kwargs, problems = argument_values(f"Query {index}", inputs, tab.raw_params,
                                                 max_args_chars=settings.max_args_chars)
        errors.extend(problems)
        tabs.append(replace(tab, typed_args=args if args is not None else (),
                            typed_kwargs=kwargs, args_text=arguments_text(args, render_positional),
                            kwargs_text=arguments_text(kwargs, render_named)))
    return replace(content, tabs=tuple(tabs)), errors


def arguments_text(values: Any, render: Callable[[Any], str]) -> str:
    """Typed values written in the argument language, for the history and "Load into form".
    Some values have no text there (ranges other than [lower, upper), empty ranges, names
    with a backquote): the run is kept without argument text rather than refused."""
    if not values:
        return ""
    try:
        return str(render(values))
    except (TypeError, ValueError) as exc:
        log.info("typed arguments kept without text: %s", type(exc).__name__)
        return ""


DESCRIBE_WAIT_S = 0.1  # a page run waits this long for a new text's description (a warm
# server answers well within it); a slower one is picked up later (``follow_descriptions``)
DESCRIBE_POLL_S = 0.5  # how often the page looks for descriptions it showed the page without


def session_descriptions() -> SessionDescriptions:
    """This browser session's typed inputs per text (``ecc.arguments.typed_inputs``)."""
    tracker = st.session_state.get("typed_descriptions")
    if not isinstance(tracker, SessionDescriptions):
        tracker = st.session_state["typed_descriptions"] = SessionDescriptions()
    return tracker


def typed_inputs_for(runtime: SessionRuntime, text: str, settings: ConsoleSettings,
                     *, wait_s: float = DESCRIBE_WAIT_S) -> TypedInputs:
    """The typed inputs of ``text``, confirmed by the server's description when it has one.
    The describe runs on the session's loop; the page run waits at most ``wait_s`` for it
    and offers the text's own reading meanwhile (typing never waits for the server). Text
    over ``max_query_chars`` is never sent to the server (the run refuses it with a message)."""
    cache = describe_cache(settings)
    bound = settings.connect_wait_s + 3

    def start(query: str) -> concurrent.futures.Future[Description]:
        async def describe(client: QueryClient) -> Description:
            return await asyncio.wait_for(cache.describe(client, query), bound)

        return runtime.start(describe)  # type: ignore[return-value]

    sendable = len(text) <= settings.max_query_chars
    return session_descriptions().inputs(text, cache, start if sendable else None, wait_s)


def follow_descriptions(settings: ConsoleSettings) -> None:
    """Say once when describes are paused, and while a describe the page was drawn without
    is under way, poll for it (a small fragment every ``DESCRIBE_POLL_S``): when it changes
    what the page offers (an enum's choice, the server's types) or ends, the page is drawn
    again. Without this the answer would wait for the user's next keystroke or click."""
    tracker = session_descriptions()
    notice = tracker.backoff_notice()
    if notice:
        st.caption(f"⏸️ {escape_markdown(notice)}")
    if not tracker.awaiting:
        return
    cache = describe_cache(settings)
    polled = [False]  # the call below is part of the page run: only the later polls settle

    @st.fragment(run_every=DESCRIBE_POLL_S)
    def _describe_watch() -> None:
        if polled[0] and tracker.settle(cache):
            st.rerun(scope="app")

    _describe_watch()
    polled[0] = True


SHARE_KEYS = ("q", "args", "kwargs", "mode")


def share_link(content: FormContent, limits: DraftLimits) -> None:
    """Put the first query and its values in the page address, so it can be sent to others:
    only what the loader accepts (``ecc.arguments.drafts.link_problem``, the loader's own check).
    A run
    the link cannot hold clears the address (an older run's link would be a wrong one) and
    the page says why."""
    tab = content.tabs[0]
    params = link_params(tab.text, tab.mode, tab.args_text, tab.kwargs_text, tab.raw_params)
    problem = link_problem(params, limits, max_link_bytes=MAX_LINK_BYTES)
    if problem is None:
        st.query_params.from_dict(params)
        return
    st.query_params.clear()
    st.info(f"This run is not in the page address: a shared link of it could not be opened "
            f"({problem}).", icon="🔗")


@dataclass(frozen=True)
class SharedLinkOutcome:
    """What opening the page with a shared link did: filled the form, or why not."""

    loaded: bool = False
    problem: str | None = None  # plain text made of numbers only: safe in st.warning


def load_shared_link(settings: ConsoleSettings) -> SharedLinkOutcome:
    """Fill the form from the page address when the page is opened. Never runs anything.

    Only in the run where ``page_moved()`` found the page just opened (a session's first run,
    no widget values from the browser): a page that reconnects to a new server session
    (replica failover) carries the text the user typed and maybe a Run, and its address still
    holds the previous run's ``?q=``, which must replace neither. Values go into widgets
    only, never into Markdown.

    ``loaded`` stays true in later runs while the editor still holds the link's text and
    nothing was run: the editor acknowledges what it shows with a rerun at once, which would
    otherwise take the notice away before anyone read it."""
    state = st.session_state
    if not state.pop(LINK_PENDING_KEY, False):
        return SharedLinkOutcome(loaded=_link_still_shown())
    query = st.query_params.to_dict()
    if not query.get("q"):
        return SharedLinkOutcome()
    values = {k: v for k, v in query.items() if k.startswith("p.") and is_link_param_name(k[2:])}
    problem = link_problem(query, DraftLimits(settings.max_query_chars, settings.max_args_chars))
    if problem is not None:
        return SharedLinkOutcome(problem=f"The shared link was not loaded: {problem}.")
    state["q_text_0"] = query["q"]
    state["q_mode_0"] = "text" if query.get("mode") == "text" else "typed"
    state["q_args_0"] = query.get("args", "")
    state["q_kwargs_0"] = query.get("kwargs", "")
    memory = state.setdefault("param_memory", {})
    for key, value in values.items():
        memory[key[2:]] = value
    state[LINK_SHOWN_KEY] = query["q"]
    return SharedLinkOutcome(loaded=True)


LINK_SHOWN_KEY = "link_shown_text"  # the loaded link's text, while its notice is up
# What starts a run in this script run (st_comps.query_form): read before they are drawn.
_RUN_KEYS = ("run_queries", "analyze_queries")


def _link_still_shown() -> bool:
    """True while the first tab still holds the loaded link's text and no run started
    (this run's Run/Analyze click or Ctrl/Cmd+Enter counts); once false, for good."""

    state = st.session_state
    shown = state.get(LINK_SHOWN_KEY)
    if shown is None:
        return False
    if _run_starts() or state.get(editor_sync.text_key(0)) != shown:
        state.pop(LINK_SHOWN_KEY, None)
        return False
    return True


ARRIVAL_KEY = "ecc_arrival"  # "opened" | "moved": how this server session began
LINK_PENDING_KEY = "link_pending"  # set only in the run that found the page just opened
MOVED_NOTICE = "This page moved to a new server session: history starts again."


def page_moved() -> bool:
    """True in the first run of a server session that got a page drawn by another session
    (its replica stopped, or the server restarted): the browser sent its widget values, but
    this session has no token yet. Call before the run's first widget and before
    ``session_runtime()``, which mints the token.
    Such a page has nothing of its old session here (results, history, token, downloads);
    this run draws the new session's, and the page says so (``MOVED_NOTICE``): one notice,
    kept in later runs until this session runs something (a browser often reruns the page a
    moment after reconnecting, which would take a one-run notice away unread).
    It also decides whether ``load_shared_link()`` may fill the form in this run, and takes
    the text of the page's editors (``ecc.editor.sync.adopt_browser_editor``)."""

    state = st.session_state
    if ARRIVAL_KEY in state:
        remember_browser_keys([])  # this session knows its widgets: defaults are no-ops
        state[LINK_PENDING_KEY] = False  # a later run (maybe after an interrupted first one)
        if not state.get(MOVED_SHOWN_KEY):
            return False
        book = state.get("run_book")
        if _run_starts() or (isinstance(book, RunBook) and len(book)):
            state.pop(MOVED_SHOWN_KEY, None)
            return False
        return True
    browser_states = browser_widget_states()  # read before any widget of this run draws
    remember_browser_keys([s.id for s in browser_states])
    sent = bool(browser_states)
    if sent:
        _adopt_browser_editors(browser_states)
    moved = sent and "ecc_session_token" not in state
    state[ARRIVAL_KEY] = "moved" if moved else "opened"
    state[LINK_PENDING_KEY] = not sent
    if moved:
        state[MOVED_SHOWN_KEY] = True
        log.info("a page moved to this new server session")
    return moved


MOVED_SHOWN_KEY = "moved_notice_up"  # the moved notice shows until this session runs


def _run_starts() -> bool:
    """This script run starts a run: Run or Analyze was clicked, or Ctrl/Cmd+Enter pressed
    (readable before the page draws them: their values came with the run)."""

    state = st.session_state
    return any(state.get(key) is True for key in _RUN_KEYS) or \
        bool(state.get(editor_sync.RUN_REQUEST_KEY))


def _adopt_browser_editors(browser_states: list[Any]) -> None:
    """The editors' text (and a Ctrl/Cmd+Enter) as the browser sent them to a session that
    never drew them: their callbacks cannot run here, and the tab text must be the user's,
    not a default or the address's ``?q=``."""

    for key, component in browser_components(browser_states).items():
        index = editor_sync.editor_index(key)
        if index is not None:
            editor_sync.adopt_browser_editor(st.session_state, index, component.state,
                                             component.events)


RECONNECT_WATCH_S = 900.0


def rerun_on_reconnect() -> None:
    """Keep one auto-rerun interval registered in the browser. Streamlit 1.67's frontend reruns
    the page after its websocket reconnects only while one is (or while a run was under way);
    otherwise a page that moved to another replica kept showing its old session's results,
    history and dead download buttons until the next click. The interval itself only costs an
    empty fragment run every 15 minutes."""

    @st.fragment(run_every=RECONNECT_WATCH_S)
    def _reconnect_watch() -> None:
        return None

    _reconnect_watch()


def sidebar(settings: ConsoleSettings, runtime: SessionRuntime) -> None:
    st.header("Console")
    st_comps.connection_summary(settings, sign_in_required=auth_configured())
    if st.button("Test connection", key="test_connection", icon="🔌"):
        outcome = test_connection(settings, runtime)
        if outcome is None:
            st.success("Connected: the server answered `select 1`.")
        else:
            st_comps.render_error(outcome)
    st.divider()
    st.markdown("**My settings**")
    widget_default("pref_row_limit", settings.row_limit)
    widget_default("pref_timeout_s", settings.query_timeout_s)
    widget_default("tab_count", 1)
    st.number_input("Rows shown per result", min_value=1, max_value=10_000, step=50,
                    key="pref_row_limit")
    st.number_input("Query timeout (s)", min_value=0.1, max_value=settings.query_timeout_s,
                    key="pref_timeout_s", help="At most the administrator's query_timeout_s.")
    st.radio("Result view", ["table", "json", "text", "chart"], key="pref_view",
             horizontal=True)
    st.number_input("Queries per submission (tabs)", min_value=1, max_value=settings.max_batch,
                    key="tab_count")
    st.divider()
    st_comps.docs_links()


def test_connection(settings: ConsoleSettings, runtime: SessionRuntime) -> ErrorView | None:
    """None when the server answers ``select 1``; else the error's view."""
    bound = settings.connect_wait_s + settings.connect_timeout_s + 2

    async def probe(client: QueryClient) -> object:
        await client.ensure_connected()
        return await client.query_single("select 1")

    try:
        runtime.call(probe, timeout=bound)
    except Exception as exc:
        return shown_error(
            exc, settings, subject="Test connection", timeout_s=bound,
            server=settings.connection.address(), connect_wait_s=settings.connect_wait_s,
        )
    return None


def history_and_resources(runtime: SessionRuntime) -> Callable[[], None] | None:
    """History and resources are drawn only when opened (toggles, not expanders: an
    expander's content is built on every rerun even when collapsed). With History open,
    returns what redraws its table in place: the page calls it when runs it streamed
    finished after the table was drawn."""
    records = runtime.book.newest_first()
    refresh: Callable[[], None] | None = None
    if st.toggle(f"History ({len(records)})", key="show_history"):
        with st.container(border=True):
            refresh = _history(runtime, records)
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
    return refresh


def _history(runtime: SessionRuntime, records: list[RunRecord]) -> Callable[[], None] | None:
    if not records:
        st.caption("Runs of this session appear here, newest first (the last 100 are kept).")
        return None
    table = st.empty()  # one slot: the table can be drawn again, with newer statuses
    with table.container():
        st_comps.history_table(records)

    def redraw_table() -> None:
        with table.container():
            st_comps.history_table(runtime.book.newest_first()[:len(records)])

    ids = [r.run_id for r in records]
    c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 1])
    c1.selectbox("Run", ids, key="history_run", format_func=lambda i: f"run {i}")
    # Callbacks read the chosen run when clicked: args bound at render time would carry the
    # choice of the previous run of the page.
    c2.button("Load into form", key="history_load", on_click=load_into_form)
    c3.button("Run again", key="history_rerun", on_click=run_again)
    c4.button("Show", key="history_show", on_click=_show_run)
    c5.button("Clear", key="history_clear", on_click=_clear_history)
    st.download_button("Download history (JSON)",
                       data=lambda: st_comps.history_json(runtime.book.newest_first()),
                       file_name="history.json", mime="application/json",
                       on_click="ignore", key="history_download")
    return redraw_table


def _clear_history() -> None:
    book = st.session_state.get("run_book")
    if isinstance(book, RunBook):
        book.clear()
    st.session_state.pop("shown_run", None)


def _chosen_run() -> int | None:
    chosen = st.session_state.get("history_run")
    return int(chosen) if chosen is not None else None


def _show_run() -> None:
    st.session_state["shown_run"] = _chosen_run()


def load_into_form() -> None:
    run_id = _chosen_run()
    book = st.session_state.get("run_book")
    record = book.get(run_id) if isinstance(book, RunBook) and run_id is not None else None
    if record is None:
        return
    _fill_form(record.request)


def _fill_form(request: QueryRequest) -> None:
    """Put a request back into the first tab (editor text, arguments, method)."""
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


def run_again() -> None:
    run_id = _chosen_run()
    settings = read_settings()
    if run_id is None or isinstance(settings, SettingsProblem):
        return
    try:
        runtime = session_runtime(settings)
    except SessionLimitError as refused:
        st.session_state["action_errors"] = [refused.view]
        return
    record = runtime.book.get(run_id)
    if record is None:
        return
    _fill_form(record.request)  # the editor shows what runs again
    too_large = argument_size_error(record.request.name, request_argument_sizes(record.request),
                                    settings.max_args_chars)
    if too_large is not None:  # kept under a larger limit, say, before a settings change
        st.session_state["action_errors"] = [too_large]
        return
    # Shown by the page in the run this callback precedes (a callback cannot draw).
    st.session_state["action_errors"] = queue_runs(
        runtime, [record.request], settings, user_prefs(settings)
    )


# --- schema explorer ------------------------------------------------------------------------
SCHEMA_KEY = "schema_model"  # contract: the session's current ecc.schema.model.SchemaModel
SCHEMA_PENDING_KEY = "schema_background_read"  # the completion's read, while under way
LARGE_GRAPH_TYPES = 60  # a module graph with more types shows fewer properties per node
LARGE_GRAPH_PROPERTIES = 4


SCHEMA_FIRST_WAIT_S = 1.0  # a session's first run waits this long for its schema names


@st.cache_resource(show_spinner=False)
def schema_store() -> SchemaStore:
    """The process's schema models, one per server branch (``ecc/schema/store.py``)."""
    return SchemaStore()


def schema_key(settings: ConsoleSettings) -> SchemaKey:
    return SchemaKey(connection_key(settings))


def _adopt_entry(entry: SchemaEntry) -> SchemaModel:
    """The session shows the shared entry: its model (with the standard library once the
    explorer read it) is this session's ``SCHEMA_KEY``; nothing is copied."""
    state = st.session_state
    model = entry.standard or entry.model
    if state.get(SCHEMA_KEY) is not model:
        state[SCHEMA_KEY] = model
        state["schema_read_at"] = entry.read_at
    state.pop("schema_error", None)
    return model


def schema_for_completion(runtime: SessionRuntime, settings: ConsoleSettings
                          ) -> CompletionTree | None:
    """The editor's completion tree of this server branch's schema; keywords only (None)
    until there is one. The process keeps one model per branch: a session that finds it
    sends no introspection, and at most one page run per ``PROBE_INTERVAL_S`` of the process
    probes (in the background) whether the schema changed. Without a model, a session's
    first run starts the read (or joins the one under way) and waits at most
    ``SCHEMA_FIRST_WAIT_S``; a slower read is picked up by a later run. A failed read is not
    retried here (the explorer's Refresh does that): completion stays with keywords."""
    state = st.session_state
    store, key = schema_store(), schema_key(settings)
    entry = store.current(key)
    if entry is None:
        pending = state.get(SCHEMA_PENDING_KEY)
        if pending is None or pending.cancelled():  # cancelled: its loop went away
            pending = state[SCHEMA_PENDING_KEY] = store.read(key, runtime.start)
            with contextlib.suppress(Exception):  # slow or failed: see below
                pending.result(timeout=SCHEMA_FIRST_WAIT_S)
        if not pending.done() or pending.cancelled() or pending.exception() is not None:
            return None  # still reading, or failed: keywords only
        entry = pending.result()
    elif store.probe_due(key):
        store.refresh_if_changed(key, runtime.start)  # not awaited: the page never waits
    state.pop(SCHEMA_PENDING_KEY, None)
    _adopt_entry(entry)
    # A schema another client changed (the probe's token moved) drops the descriptions too:
    # typed inputs then offer what the server says now (an enum's new members).
    describe_cache(settings).follow_schema(entry.probe)
    return entry.completion()


def ensure_schema_model(runtime: SessionRuntime, settings: ConsoleSettings,
                        *, refresh: bool = False) -> SchemaModel | ErrorView:
    """This branch's schema model, shared by the process (read once, then kept until the
    probe sees a change or Refresh forces a read); or the read's error view."""

    state = st.session_state
    store, key = schema_store(), schema_key(settings)
    entry = store.current(key)
    if not refresh and entry is not None:
        return _adopt_entry(entry)
    if not refresh and state.get("schema_error") is not None:
        # A failed read is retried on Refresh only: a page left open on a server that is
        # down must not wait out the bound on every rerun.
        return state["schema_error"]
    bound = settings.connect_wait_s + settings.connect_timeout_s + \
        min(settings.query_timeout_s, 30.0)
    try:
        runtime.ensure_loop()
        runtime.touch()
        entry = store.read(key, runtime.start, force=refresh).result(timeout=bound)
    except Exception as exc:
        if isinstance(exc, concurrent.futures.TimeoutError):
            exc = TimeoutError(f"no answer within {bound:g} s")
        state.pop(SCHEMA_KEY, None)
        state["schema_error"] = shown_error(exc, settings, subject="Reading the schema",
                                            timeout_s=bound)
        return state["schema_error"]
    model = _adopt_entry(entry)
    log.info("schema read in %.0f ms (%s)", model.read_s * 1000,
             ", ".join(f"{k} {v}" for k, v in model.counts().items()))
    return model


def ensure_standard_schema(runtime: SessionRuntime, settings: ConsoleSettings,
                           model: SchemaModel) -> SchemaModel | ErrorView:
    """``model`` with the standard library added (read once per schema version in the
    process, when first asked for, and kept with the shared entry); or the read's error view
    (the model stays as it was)."""

    if model.standard_read:
        return model
    bound = settings.connect_wait_s + settings.connect_timeout_s + \
        min(settings.query_timeout_s, 30.0)

    async def read(client: QueryClient) -> object:
        return await read_standard(client, model)

    try:
        merged = runtime.call(read, timeout=bound)
        if not isinstance(merged, SchemaModel):
            raise TypeError(f"the standard schema read returned {type(merged).__name__}")
    except Exception as exc:
        return shown_error(exc, settings, subject="Reading the standard library's schema",
                           timeout_s=bound)
    store, key = schema_store(), schema_key(settings)
    entry = store.current(key)
    if entry is not None and entry.model is model:
        store.set_standard(key, entry, merged)
    st.session_state[SCHEMA_KEY] = merged
    return merged


def _refresh_schema() -> None:
    st.session_state["schema_refresh"] = True


def _query_this_type() -> None:
    """Button callback (runs before the editor renders, so the text lands in it)."""

    model = st.session_state.get(SCHEMA_KEY)
    name = st.session_state.get("schema_type")
    if model is None or not name or model.object_type(name) is None:
        return
    st.session_state["q_text_0"] = query_text(model, name)
    st.session_state["schema_notice"] = name


def schema_explorer(runtime: SessionRuntime, settings: ConsoleSettings
                    ) -> Callable[[], None] | None:
    """The schema explorer, drawn only when opened (a toggle: an expander's content would be
    built on every rerun). Refresh re-reads; read-only consoles cannot change the schema, and
    with writes allowed Refresh is the way to see DDL the console ran. Returns what redraws
    its "queries ran since the read" note in place (writes allowed), for runs that end after
    it was drawn."""
    if not st.toggle("Schema", key="show_schema"):
        return None
    redraw_note: Callable[[], None] | None = None
    state = st.session_state
    with st.container(border=True):
        refresh = bool(state.pop("schema_refresh", False))
        model = ensure_schema_model(runtime, settings, refresh=refresh)
        top = st.columns([4, 1])
        top[1].button("Refresh", key="schema_refresh_button", on_click=_refresh_schema,
                      icon="🔄", help="Read the schema again (after a migration or DDL).")
        if isinstance(model, ErrorView):
            st_comps.render_error(model)
            return None
        notice = state.pop("schema_notice", None)
        if notice:
            st.success("Put a query of this type into the first query tab; check it, then "
                       "press Run.", icon="📝")
        c1, c2, c3 = st.columns([2, 2, 1])
        include_standard = c3.toggle("Standard modules", key="schema_standard",
                                     help="std, sys, cfg, schema, math, cal, fts, extensions")
        if include_standard:
            merged = ensure_standard_schema(runtime, settings, model)
            if isinstance(merged, ErrorView):
                st_comps.render_error(merged)
            else:
                model = merged
        read_at = state.get("schema_read_at")
        with top[0]:  # drawn above the controls, filled once the model is complete
            st_comps.schema_summary(model, time.monotonic() - read_at if read_at else None)
            if not settings.read_only:
                note = st.empty()

                def redraw_note() -> None:
                    _runs_since_note(note, _runs_done_since(runtime, read_at))

                redraw_note()
        modules = schema_view.shown_modules(model, include_standard)
        if state.get("schema_module") not in ("", *modules):
            state["schema_module"] = ""
        c1.selectbox("Module", ["", *modules], key="schema_module",
                     format_func=lambda m: m or "All shown modules")
        search_text = c2.text_input("Search", key="schema_search",
                                    placeholder="name, type name or annotation")
        view = schema_view.build_view(model, include_standard=include_standard,
                                      module=state.get("schema_module") or "",
                                      search_text=search_text or "")
        st_comps.schema_matches(view)
        section = st.segmented_control("Show", st_comps.SCHEMA_SECTIONS, key="schema_section",
                                       default=st_comps.SCHEMA_SECTIONS[0],
                                       label_visibility="collapsed") or \
            st_comps.SCHEMA_SECTIONS[0]
        if section == "Object types":
            _schema_types(model, view)
        elif section == "Scalar types":
            st_comps.schema_scalars(view)
        elif section == "Functions":
            st_comps.schema_functions(view)
        elif section == "Aliases & globals":
            st_comps.schema_aliases_and_globals(view, model.extensions)
        else:
            _schema_graph(model, view)
    return redraw_note


def _runs_since_note(slot: Any, since: int) -> None:
    # The console does not read query text, and with writes allowed it does not ask the
    # server to describe queries: it cannot tell which one was DDL.
    if since:
        slot.info(f"{since} quer{'y' if since == 1 else 'ies'} ran since the schema was read, "
                  "and writes are allowed: if one changed the schema, press Refresh.", icon="🔄")


def _runs_done_since(runtime: SessionRuntime, since: float | None) -> int:
    if since is None:
        return 0
    return sum(1 for r in runtime.book.newest_first()
               if r.status == "done" and r.finished_at is not None and r.finished_at > since)


def _keep_valid_choice(key: str, options: list[str]) -> None:
    """A selectbox's remembered choice, or its first option when the choice is gone."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]


def _schema_types(model: SchemaModel, view: schema_view.SchemaView) -> None:

    st_comps.schema_object_types(view)
    names = [t.name for t in view.object_types]
    if not names:
        return
    _keep_valid_choice("schema_type", names)
    st.selectbox("Type", names, key="schema_type")
    chosen = model.object_type(st.session_state["schema_type"])
    if chosen is not None:
        st_comps.schema_type_details(model, chosen, _query_this_type)


def _schema_graph(model: SchemaModel, view: schema_view.SchemaView) -> None:

    scope = st.radio("Graph of", ["module", "one type and its neighbours"], horizontal=True,
                     key="schema_graph_scope")
    if scope == "module":
        modules = [view.module] if view.module else list(view.modules)
        if not modules:
            st.caption("No module to draw.")
            return
        _keep_valid_choice("schema_graph_module", modules)
        module = st.selectbox("Module", modules, key="schema_graph_module")
        size = sum(1 for t in model.object_types if t.module == module)
        if size > LARGE_GRAPH_TYPES:
            st.caption(f"{size} types in this module: each node lists its first "
                       f"{LARGE_GRAPH_PROPERTIES} properties. For a readable picture, draw "
                       "one type and its neighbours.")
        dot = schema_view.module_graph(
            model, module,
            max_properties=LARGE_GRAPH_PROPERTIES if size > LARGE_GRAPH_TYPES else
            schema_view.MAX_NODE_PROPERTIES)
    else:
        names = [t.name for t in view.object_types] or [t.name for t in model.object_types]
        if not names:
            st.caption("No object type to draw.")
            return
        _keep_valid_choice("schema_graph_type", names)
        name = st.selectbox("Type", names, key="schema_graph_type")
        dot = schema_view.type_graph(model, name)
    st_comps.schema_graph(dot)


# --- results streamed into the page run -----------------------------------------------------------
# Results on the page as each query finishes, in the page run that is already going.
#
# A page run that finds queries of its session queued or running draws their slots where the
# results belong (``draw_results``), draws the rest of the page, and at its end
# (``stream_results``) sleeps on the run book's condition: each record is drawn into its slot
# once, when it finishes, and the running list's elapsed times are redrawn every ``TICK_S``.
# So a submission costs one script run and nothing finished is ever rebuilt or re-sent while
# its siblings run. Each ``st.*`` call is a point where Streamlit stops the run for a newer
# one: a click (Cancel, any widget) gets its rerun within a tick.
#
# A run streams at most ``stream_window_s`` (a setting). What still runs after that is handed
# to a fragment that polls every ``POLL_S`` (one whole-page rerun starts it, one ends it); with
# ``stream_window_s = 0`` that fragment is used from the start (AppTest's ``at.run()`` returns
# only when the script ends, so tests of the running list use it).

TICK_S = 0.25  # running elapsed times are redrawn this often while a run streams
POLL_S = 0.5  # the fallback fragment's interval
POLL_KEY = "live_poll"  # set: this session's running queries are left to the fragment


@dataclass
class LiveResults:
    """What ``draw`` left for ``stream``: the slots of everything still active."""

    version: int  # the run book's version the drawing started from
    window_s: float
    running_box: DeltaGenerator | None = None  # the whole running list
    rows: st_comps.RunningRows | None = None
    pending: dict[int, DeltaGenerator] = field(default_factory=dict)  # run id -> result slot
    statuses: dict[int, str] = field(default_factory=dict)  # as last drawn in ``pending``
    line_statuses: dict[int, str] = field(default_factory=dict)  # as last drawn in ``rows``
    still: int = 0  # active runs in the running list, as last drawn
    ticked_at: float = 0.0

    @property
    def active(self) -> bool:
        return self.rows is not None or bool(self.pending)


def cancel_runs(runtime: SessionRuntime, run_ids: list[int] | None) -> None:
    """Button callback: cancel some or all of this session's runs."""
    count = runtime.cancel(run_ids)
    st.session_state["cancel_notice"] = (
        f"Asked {count} quer{'y' if count == 1 else 'ies'} to stop." if count else
        "Nothing to cancel: the query had already finished."
    )


def shown_records(runtime: SessionRuntime) -> list[RunRecord]:
    """The run chosen in the history, else the last submission's runs."""
    run_id = st.session_state.get("shown_run")
    if run_id is not None:
        record = runtime.book.get(int(run_id))
        if record is not None:
            return [record]
    batch_id = st.session_state.get("shown_batch")
    return runtime.book.batch(int(batch_id)) if batch_id is not None else []


def draw_results(runtime: SessionRuntime, prefs: UserPrefs, window_s: float) -> LiveResults:
    """The running list and the shown results as they are now; finished ones are final."""
    if window_s <= 0 or st.session_state.get(POLL_KEY):
        _polling_results(runtime, prefs)
        return LiveResults(version=0, window_s=0)
    st_comps.keep_result_caches(runtime.book.newest_first())
    now = time.monotonic()
    live = LiveResults(version=runtime.book.version,  # read before the records it describes
                       window_s=window_s, ticked_at=now)
    notice = st.session_state.pop("cancel_notice", None)
    if notice:
        st.info(notice, icon="🚫")
    active = runtime.book.active()
    if active:
        live.running_box = st.empty()
        with live.running_box.container():
            live.rows = st_comps.running_rows(active, now,
                                              functools.partial(cancel_runs, runtime))
        live.line_statuses = {r.run_id: r.status for r in active}
        live.still = len(active)
    shown = shown_records(runtime)
    if shown:
        st.subheader("Results")
        for record in shown:
            with st.container(border=True):
                if record.active:
                    live.pending[record.run_id] = slot = st.empty()
                    live.statuses[record.run_id] = record.status
                    with slot.container():
                        st_comps.render_record(record, prefs, now)
                else:
                    st_comps.render_record(record, prefs, now)
    return live


def stream_results(live: LiveResults, runtime: SessionRuntime, prefs: UserPrefs) -> bool:
    """At the end of the page run: draw each record once as it finishes, until nothing runs
    or the window is over (then the fallback fragment takes over, after one rerun).
    True when runs finished while this run streamed (what was drawn above them is older)."""
    if not live.active:
        return False
    deadline = time.monotonic() + live.window_s
    version = live.version
    while True:
        now = time.monotonic()
        _redraw(live, runtime, prefs, now)
        if not live.active:
            return True
        if now >= deadline:
            break
        version = runtime.book.wait_for_change(version, min(TICK_S, deadline - now))
    st.session_state[POLL_KEY] = True
    st.rerun()


def _redraw(live: LiveResults, runtime: SessionRuntime, prefs: UserPrefs, now: float) -> None:
    """Draw what changed: a finished record into its slot (once); running lines when their
    status changed, and all of them once per tick (their elapsed times)."""
    book = runtime.book
    tick = now - live.ticked_at >= TICK_S * 0.9
    if tick:
        live.ticked_at = now
    for run_id, slot in list(live.pending.items()):
        record = book.get(run_id)
        if record is None:
            del live.pending[run_id]
            slot.empty()
            continue
        if not record.active:
            del live.pending[run_id]  # drawn now for the last time in this run
        elif not tick and live.statuses.get(run_id) == record.status:
            continue
        live.statuses[run_id] = record.status
        with slot.container():
            st_comps.render_record(record, prefs, now)
    if live.rows is None or live.running_box is None:
        return
    still = 0
    for run_id, line in live.rows.lines.items():
        record = book.get(run_id)
        if record is None:
            continue
        still += record.active
        if tick or live.line_statuses.get(run_id) != record.status:
            live.line_statuses[run_id] = record.status
            line.markdown(st_comps.running_line(record, now))
    if not still:
        live.running_box.empty()
        live.rows = None
    elif tick or still != live.still:
        live.rows.header.subheader(f"Running ({still})")
    live.still = still


def _polling_results(runtime: SessionRuntime, prefs: UserPrefs) -> None:
    """The fallback: a fragment redraws results and the running list every ``POLL_S``
    while anything runs (never a whole-page rerun loop); one whole-page rerun ends it."""
    polling = bool(runtime.book.active())
    st_comps.keep_result_caches(runtime.book.newest_first())

    @st.fragment(run_every=POLL_S if polling else None)
    def _results() -> None:
        now = time.monotonic()
        notice = st.session_state.pop("cancel_notice", None)
        if notice:
            st.info(notice, icon="🚫")
        active = runtime.book.active()
        if active:
            st_comps.running_list(active, now, functools.partial(cancel_runs, runtime))
        shown = shown_records(runtime)
        if shown:
            st.subheader("Results")
            for record in shown:
                with st.container(border=True):
                    st_comps.render_record(record, prefs, now)
        if not active:
            st.session_state.pop(POLL_KEY, None)
            if polling:
                st.rerun(scope="app")  # everything finished: refresh history, stop polling

    _results()
