"""The analyst's memory in Chromium, on the console itself: the history survives a reload,
a saved query is there in a new tab, forgetting empties the browser, and stored entries
holding Markdown or HTML render as text. (Signing out and another user signing in:
tests/test_browser_auth.py.)"""

from __future__ import annotations

import json
import re

import pytest

from tests.browser_support import (
    HISTORY_TOGGLE,
    RESULT_TIMEOUT_MS,
    SAVED_QUERIES_TOGGLE,
    OpenPage,
    StreamlitServer,
    open_console,
    open_panel,
    query_box,
    run_query,
    save_query,
    skip_without_browser,
    type_query,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

skip_without_browser()

from playwright.sync_api import Locator, Page, WebSocketRoute, expect  # noqa: E402

PREFIX = "ecc.mem.v1."
EVIL = "evil.example"
PAYLOAD = (f"![x](http://{EVIL}/px.png) [Session expired: sign in again](https://{EVIL}/login)"
           f" <img src=http://{EVIL}/img.png> <b>bold</b> # heading")


def stored_count(page: Page, kind: str) -> int:
    count: int = page.evaluate(
        "([prefix, kind]) => Object.keys(localStorage).filter(k => k.startsWith(prefix) && "
        "k.split('.')[4] === kind).length", [PREFIX, kind])
    return count


def wait_stored(page: Page, kind: str, count: int) -> None:
    """Until this browser stores ``count`` entries of ``kind`` (h: history, s: saved)."""
    page.wait_for_function(
        "([prefix, kind, count]) => Object.keys(localStorage).filter(k => k.startsWith(prefix)"
        " && k.split('.')[4] === kind).length === count", arg=[PREFIX, kind, count],
        timeout=RESULT_TIMEOUT_MS)


def reload(page: Page, server: StreamlitServer) -> None:
    page.reload()
    open_console(page, server.url)


def open_kept_history(page: Page, caption: str) -> Locator:
    """Open the History panel and wait for its part this browser keeps (``caption``, e.g.
    "2 runs kept in this browser"); returns the page's main area. Its table is a canvas with
    an accessible table drawn inside shortly after: wait with ``to_contain_text``."""
    open_panel(page, HISTORY_TOGGLE)
    expect(page.get_by_text(re.compile(re.escape(caption)))).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(page)
    return page.get_by_test_id("stMain")


def test_two_runs_are_in_the_history_after_a_reload(open_page: OpenPage,
                                                   server: StreamlitServer) -> None:
    page = open_page()
    run_query(page, "select 'kept-first'")
    expect(page.get_by_text(re.compile(r"· 1 row ·"))).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    run_query(page, "select 'kept-second'")
    wait_stored(page, "h", 2)
    reload(page, server)
    # A new session with no runs of its own: the label names what the browser still keeps.
    expect(page.get_by_text("History (0) · 2 kept in this browser", exact=True)).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)
    main = open_kept_history(page, "2 runs kept in this browser")
    expect(main).to_contain_text("select 'kept-first'", timeout=RESULT_TIMEOUT_MS)
    expect(main).to_contain_text("select 'kept-second'", timeout=RESULT_TIMEOUT_MS)


def drop_first_load(page: Page) -> list[bytes]:
    """From now on, the first message this page sends with the memory's ``loaded`` trigger
    never reaches the server (as when the websocket drops with it in flight); returns the
    dropped messages."""
    dropped: list[bytes] = []

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            raw = message.encode() if isinstance(message, str) else message
            if not dropped and b'"event":"loaded"' in raw:
                dropped.append(raw)
                return
            server.send(message)

        ws.on_message(to_server)  # the server's messages reach the page untouched

    page.route_web_socket(re.compile(r"/_stcore/stream"), route)
    return dropped


def test_an_idle_page_whose_load_was_lost_still_shows_the_history(
        open_page: OpenPage, server: StreamlitServer) -> None:
    page = open_page()
    run_query(page, "select 'kept-despite-loss'")
    wait_stored(page, "h", 1)
    dropped = drop_first_load(page)
    reload(page, server)
    main = open_kept_history(page, "1 runs kept in this browser")
    expect(main).to_contain_text("select 'kept-despite-loss'", timeout=RESULT_TIMEOUT_MS)
    assert len(dropped) == 1  # the page got its history from a second ask, unclicked


def test_a_saved_query_is_there_in_a_new_tab(open_page: OpenPage,
                                             server: StreamlitServer) -> None:
    page = open_page()
    type_query(page, "select 'saved-for-later'")
    save_query(page, "For later")
    wait_stored(page, "s", 1)
    tab = page.context.new_page()
    open_console(tab, server.url)
    open_panel(tab, re.compile(r"^Saved queries \(1\)"))
    expect(tab.get_by_test_id("stMain").get_by_text("select 'saved-for-later'")
           ).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    tab.get_by_role("button", name="Load into editor").first.click()
    expect(query_box(tab)).to_have_text("select 'saved-for-later'", timeout=RESULT_TIMEOUT_MS)


def test_forget_then_reload_and_the_history_is_gone(open_page: OpenPage,
                                                    server: StreamlitServer) -> None:
    page = open_page()
    run_query(page, "select 'to-forget'")
    wait_stored(page, "h", 1)
    expect(open_kept_history(page, "1 runs kept in this browser")).to_contain_text(
        "select 'to-forget'", timeout=RESULT_TIMEOUT_MS)
    page.get_by_role("button", name="Forget my history").click()
    page.get_by_role("button", name="Forget", exact=True).click()
    wait_stored(page, "h", 0)
    reload(page, server)
    main = open_kept_history(page, "0 runs kept in this browser")
    assert "to-forget" not in (main.text_content() or "")


def test_stored_markdown_and_html_render_as_text(open_page: OpenPage,
                                                 server: StreamlitServer) -> None:
    page = open_page()
    entry = {"v": 1, "q": f"select 1 # {PAYLOAD}", "a": "", "k": PAYLOAD, "m": "query",
             "s": "failed", "e": 0.5, "r": None, "t": 1_700_000_000}
    saved = {"v": 1, "n": f"name {PAYLOAD}", "q": f"select 2 # {PAYLOAD}", "a": "", "k": "",
             "m": "query", "t": 1_700_000_000, "d": PAYLOAD}
    page.evaluate("([h, s]) => { localStorage.setItem('ecc.mem.v1.anon.h.evil1', h);"
                  " localStorage.setItem('ecc.mem.v1.anon.s.evil2', s); }",
                  [json.dumps(entry), json.dumps(saved)])
    reload(page, server)
    expect(open_kept_history(page, "1 runs kept in this browser")).to_contain_text(
        f"select 1 # {PAYLOAD}", timeout=RESULT_TIMEOUT_MS)
    open_panel(page, SAVED_QUERIES_TOGGLE)
    expect(page.get_by_test_id("stMain").get_by_text(f"select 2 # {PAYLOAD}")
           ).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(page)
    main = page.get_by_test_id("stMain")
    found = main.locator("a[href], img[src], b, h1, h2, h3").evaluate_all(
        "els => els.map(e => e.outerHTML)")
    assert [html for html in found if EVIL in html or html == "<b>bold</b>"] == []
    # The name, as its characters: the chosen option is the combobox's value.
    expect(page.get_by_role("combobox", name="Saved query")).to_have_value(f"name {PAYLOAD}")
