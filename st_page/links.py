"""Links and moves: the page address as a shared link (written after a run, loaded when the
page is opened), a page that moved to a new server session (replica failover, a restarted
server: its widget values and editors' text adopted, one notice), and the auto-rerun that
makes a reconnected page draw its new session."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import streamlit as st

from ecc.arguments.drafts import (
    MAX_LINK_BYTES,
    DraftLimits,
    is_link_param_name,
    link_params,
    link_problem,
)
from ecc.editor import sync as editor_sync
from ecc.running.runs import RunBook
from ecc.settings.config import ConsoleSettings
from st_comps import BROWSER_KEYS
from st_data_structures import FormContent
from st_page import streamlit_internals

log = logging.getLogger("ecc.page")


def share_link(content: FormContent, limits: DraftLimits, *, branch: str | None = None) -> None:
    """Put the first query and its values in the page address, so it can be sent to others:
    only what the loader accepts (``ecc.arguments.drafts.link_problem``, the loader's own check),
    and the branch it ran on when not the connection's (``&branch=``, opened only where the
    operator allows it: ``st_page.branch_and_globals.session_settings``).
    A run
    the link cannot hold clears the address (an older run's link would be a wrong one) and
    the page says why."""
    tab = content.tabs[0]
    params = link_params(tab.text, tab.mode, tab.args_text, tab.kwargs_text, tab.raw_params)
    if branch:
        params = {**params, "branch": branch}
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
    problem = link_problem(query, DraftLimits.from_settings(settings))
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
# What starts a run in this script run (``st_page.form.query_form``): read before they are drawn.
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
    # Read before any widget of this run draws (each adds its own value).
    browser_states = streamlit_internals.browser_widget_states()
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

    for key, component in streamlit_internals.browser_components(browser_states).items():
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


def remember_browser_keys(ids: list[str]) -> None:
    """Keep, for this run, the user keys of the widgets whose values the browser sent while
    the server session did not know them yet. Call at the top of every run."""
    keys = {streamlit_internals.user_key(i) for i in ids}
    st.session_state[BROWSER_KEYS] = frozenset(k for k in keys if k is not None)
