"""The server's descriptions on the page: the typed inputs of a tab's text (asked on the
session's loop, waited for briefly, confirmed later), and the small fragment that redraws
the page when a description it was drawn without arrives."""

from __future__ import annotations

import asyncio
import concurrent.futures

import streamlit as st

from ecc.arguments.typed_inputs import SessionDescriptions, TypedInputs
from ecc.display.safe_text import escape_markdown
from ecc.driver.client import QueryClient
from ecc.driver.describe_cache import Description
from ecc.running.sessions import SessionRuntime
from ecc.settings.config import ConsoleSettings
from st_utils import describe_cache

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
    bound = settings.page_wait_s("describe")

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
