"""The browser memory component alone, in Chromium (`tests/memory_probe_page.py`): what the
page records survives a reload, the oldest is dropped past the bound, a hostile stored entry
is removed, another namespace's entries are wiped, and forgetting empties the browser."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.browser_support import (
    PAGE_LOAD_TIMEOUT_MS,
    RESULT_TIMEOUT_MS,
    StreamlitServer,
    serving,
    skip_without_browser,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

skip_without_browser()

from playwright.sync_api import Browser, Page, expect  # noqa: E402

PREFIX = "ecc.mem.v1."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    yield from serving(StreamlitServer.start(tmp_path_factory.mktemp("memory-probe"),
                                             script="tests/memory_probe_page.py"))


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    yield opened
    context.close()


def open_probe(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.get_by_text("loaded: yes")).to_be_visible(timeout=PAGE_LOAD_TIMEOUT_MS)
    wait_until_idle(page)


def record(page: Page, query: str) -> None:
    box = page.get_by_label("query")
    box.fill(query)
    box.press("Enter")
    wait_until_idle(page)
    page.get_by_role("button", name="Record").click()
    # "pending: 0" is on the page before the click's run too: wait for the run that recorded
    # the query (it names it; its first 40 characters are enough) before waiting for the
    # browser's acknowledgement.
    expect(page.get_by_text(re.compile(r"^history: .*" + re.escape(json.dumps(query)[1:41])))
           ).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect(page.get_by_text("pending: 0")).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(page)


def stored(page: Page) -> dict[str, str]:
    value: dict[str, str] = page.evaluate(
        f"() => Object.fromEntries(Object.keys(localStorage).filter(k => k.startsWith("
        f"'{PREFIX}')).map(k => [k, localStorage.getItem(k)]))")
    return value


def history_shown(queries: list[str]) -> str:
    return "history: " + json.dumps(queries)


def test_recorded_entries_survive_a_reload_and_the_oldest_is_dropped(
        page: Page, server: StreamlitServer) -> None:
    open_probe(page, server.url)
    for query in ("select 1", "select 2", "select 3", "select 4"):
        record(page, query)
    expect(page.get_by_text(history_shown(["select 4", "select 3", "select 2"]))).to_be_visible()
    keys = stored(page)
    assert len(keys) == 3 and all(k.startswith(PREFIX + "anon.h.") for k in keys)
    page.reload()
    open_probe(page, server.url)
    expect(page.get_by_text(history_shown(["select 4", "select 3", "select 2"]))).to_be_visible()


def test_hostile_and_foreign_entries_are_removed_on_load(page: Page,
                                                         server: StreamlitServer) -> None:
    page.goto(server.url)
    page.evaluate(f"""() => {{
        localStorage.setItem('{PREFIX}anon.h.bad1', '{{"v": 1, "q": ""}}');
        localStorage.setItem('{PREFIX}anon.h.bad2', 'not json at all');
        localStorage.setItem('{PREFIX}someoneelse.h.x1', '{{"v": 1}}');
        localStorage.setItem('{PREFIX}anon.zz.x', 'junk');
        localStorage.setItem('unrelated', 'kept');
    }}""")
    page.reload()
    open_probe(page, server.url)
    expect(page.get_by_text("2 stored entries could not be read")).to_be_visible()
    expect(page.get_by_text("pending: 0")).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    keys = stored(page)
    assert not [k for k in keys if "bad" in k or "someoneelse" in k or ".zz." in k], keys
    assert page.evaluate("() => localStorage.getItem('unrelated')") == "kept"


def test_forget_empties_the_browser(page: Page, server: StreamlitServer) -> None:
    open_probe(page, server.url)
    record(page, "select 'to forget'")
    assert stored(page)
    page.get_by_role("button", name="Forget").click()
    expect(page.get_by_text("history: []")).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect(page.get_by_text("pending: 0")).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    assert stored(page) == {}
    page.reload()
    open_probe(page, server.url)
    expect(page.get_by_text("history: []")).to_be_visible()


def test_a_full_storage_is_reported_and_nothing_piles_up(page: Page,
                                                        server: StreamlitServer) -> None:
    page.goto(server.url)
    # Fill this origin's storage (Chromium: about 5 million characters) with another key.
    page.evaluate("""() => { let chunk = 'x'.repeat(1 << 20), n = 0;
        try { for (;;) { localStorage.setItem('filler' + n, chunk); n++; } } catch (e) {}
        chunk = 'x'.repeat(1 << 14);
        try { for (;;) { localStorage.setItem('filler' + n, chunk); n++; } } catch (e) {} }""")
    page.reload()
    open_probe(page, server.url)
    record(page, "select '" + "y" * 50_000 + "'")  # acknowledged: "pending: 0"
    expect(page.get_by_text(re.compile(r"^error: .*quota", re.IGNORECASE))).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)
    assert stored(page) == {}
