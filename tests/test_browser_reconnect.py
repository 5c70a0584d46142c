"""A real network in Chromium: a websocket drop costs no running query; a closed tab still
gives its connections back.

Streamlit 1.67 releases a session's ``scope="session"`` resources on every websocket drop,
and its frontend reconnects to the same session within about a second. The page's
``window.WebSocket`` is wrapped by an init script, so a test can close the live socket as a
network hiccup would. This module runs its own server: it counts the process's loops and
clients (the Resources panel), which other modules' sessions must not disturb.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from tests.browser_support import (
    RESULT_TIMEOUT_MS,
    VIEWPORT,
    StreamlitServer,
    open_console,
    open_panel,
    run_query,
    serving,
    skip_without_browser,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

skip_without_browser()

from playwright.sync_api import Browser, BrowserContext, Page, expect  # noqa: E402

# Keeps every socket the page opens on ``window.__eccSockets`` (Streamlit's frontend calls
# ``new WebSocket(...)`` for its connection and again for each reconnect).
TRACK_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__eccSockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      window.__eccSockets.push(this);
    }
  };
})();
"""
OPEN_SOCKETS = "window.__eccSockets.filter(s => s.readyState === WebSocket.OPEN).length"
ALL_SOCKETS = "window.__eccSockets.length"
DROP_SOCKETS = "window.__eccSockets.forEach(s => s.close())"
PROCESS_RE = re.compile(r"client (\w+) · idle .*process: (\d+) loops, (\d+) clients")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    yield from serving(StreamlitServer.start(tmp_path_factory.mktemp("streamlit-reconnect")))


def tracked_page(browser: Browser, server: StreamlitServer) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(TRACK_SOCKETS)
    page = context.new_page()
    open_console(page, server.url)
    return context, page


def others_in_process(page: Page) -> tuple[int, int]:
    """(loops, clients) of the process less this page's own, read from a fresh Resources
    panel (its Refresh button reruns the page)."""
    page.get_by_role("button", name="Refresh", exact=True).click()
    wait_until_idle(page)
    caption = page.get_by_text(PROCESS_RE)
    expect(caption).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    match = PROCESS_RE.search(caption.inner_text())
    assert match, caption.inner_text()
    own_client = match.group(1) == "created"
    return int(match.group(2)) - 1, int(match.group(3)) - own_client


def test_a_running_query_survives_a_websocket_drop_and_its_result_appears(
    browser: Browser, server: StreamlitServer
) -> None:
    context, page = tracked_page(browser, server)
    try:
        run_query(page, "select sys::_sleep(5)")
        expect(page.get_by_text("Running (1)")).to_be_visible(timeout=RESULT_TIMEOUT_MS)
        assert page.evaluate(OPEN_SOCKETS) == 1
        dropped_at = time.monotonic()
        page.evaluate(DROP_SOCKETS)  # the network hiccup: the server sees a disconnect
        # The frontend reconnects to the same session by itself, with a new socket.
        page.wait_for_function(f"{ALL_SOCKETS} >= 2 && {OPEN_SOCKETS} === 1",
                               timeout=RESULT_TIMEOUT_MS)
        reconnected_s = time.monotonic() - dropped_at
        # The query kept running: its result arrives, and nothing says it was cancelled.
        done = page.get_by_text(re.compile(r"· 1 row · \d+\.\d s"))
        expect(done).to_be_visible(timeout=RESULT_TIMEOUT_MS)
        assert float(re.findall(r"(\d+\.\d) s", done.inner_text())[0]) >= 5.0
        expect(page.get_by_text(re.compile(r"cancelled|session was closed"))).to_have_count(0)
        assert reconnected_s < 5, f"the page took {reconnected_s:.1f} s to reconnect"
        # The same session (its history holds the run), not a page moved to a new one.
        expect(page.get_by_text("This page moved to a new server session")).to_have_count(0)
        expect(page.get_by_text(re.compile(r"History \(1\)"))).to_be_visible()
    finally:
        context.close()


def test_closing_tabs_gives_their_connections_back(
    browser: Browser, server: StreamlitServer
) -> None:
    observer_context, observer = tracked_page(browser, server)
    tabs = [tracked_page(browser, server) for _ in range(2)]
    try:
        open_panel(observer, "Resources")
        (_, idle), (_, busy) = tabs
        run_query(idle, "select 1")
        expect(idle.get_by_text(re.compile(r"· 1 row ·"))).to_be_visible(
            timeout=RESULT_TIMEOUT_MS)
        run_query(busy, "select sys::_sleep(3)")
        expect(busy.get_by_text("Running (1)")).to_be_visible(timeout=RESULT_TIMEOUT_MS)
        # "Running" shows once the run is queued; its client is created on the loop just
        # after: wait for it (bounded) rather than read once.
        deadline = time.monotonic() + 30
        while (held := others_in_process(observer)) != (2, 2):
            assert time.monotonic() < deadline, f"both tabs should hold a loop and a client: {held}"

        for context, _ in tabs:  # one idle, one still running a query
            context.close()
        closed_at = time.monotonic()
        deadline = closed_at + 30
        while others_in_process(observer) != (0, 0):
            assert time.monotonic() < deadline, (
                f"the closed tabs still hold {others_in_process(observer)} (loops, clients)")
        freed_s = time.monotonic() - closed_at
        # The busy tab's runtime waited for its query (at most 3 s), then closed.
        assert freed_s < 15, f"freed after {freed_s:.1f} s"
        print(f"2 closed tabs (1 idle, 1 running 3 s): 0 loops and clients after "
              f"{freed_s:.2f} s (seen through the Resources panel)")
    finally:
        for context, _ in tabs:
            context.close()
        observer_context.close()

