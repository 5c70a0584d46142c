"""End-to-end: the real page under `streamlit run`, driven in headless Chromium.

One server for the module (the shipped fake client, a temporary HOME), one browser; each test
opens fresh browser contexts (= fresh Streamlit sessions) and, when it ends, checks that no
traceback ever reached those pages. At the end the server's log must hold no traceback either.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.browser_support import (
    ARTIFACTS,
    RESULT_TIMEOUT_MS,
    VIEWPORT,
    OpenPage,
    StreamlitServer,
    assert_no_traceback,
    grid_cell,
    open_console,
    open_panel,
    query_box,
    run_query,
    session_token_prefix,
    skip_without_browser,
    submit_with_shortcut,
    type_query,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

skip_without_browser()

from playwright.sync_api import Browser, Page, expect  # noqa: E402


def test_query_runs_with_ctrl_enter_and_shows_rows_in_the_grid(open_page: OpenPage) -> None:
    page = open_page()
    run_query(page, "select Movie {title, release_year}")

    expect(page.get_by_text(re.compile(r"· 10 rows ·"))).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect(grid_cell(page, column=1, row=0)).to_have_text("Alien", timeout=RESULT_TIMEOUT_MS)
    expect(grid_cell(page, column=2, row=0)).to_have_text("1979")
    expect(grid_cell(page, column=1, row=9)).to_have_text("Dune: Part Two")
    wait_until_idle(page)
    # Streamlit scrolls inside its own container, so a full-page screenshot is only the
    # viewport: make the viewport tall enough for the whole result instead.
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 1800})
    expect(grid_cell(page, column=1, row=9)).to_have_text("Dune: Part Two")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "result-page.png"), full_page=True)


def test_json_view_shows_the_values_as_text(open_page: OpenPage) -> None:
    page = open_page()
    views = page.get_by_test_id("stSidebar").get_by_role("radiogroup", name="Result view")
    views.get_by_text("json", exact=True).click()  # the styled label; the input is hidden
    expect(views.get_by_role("radio", name="json")).to_be_checked()
    run_query(page, "select Movie {title, release_year}")

    result = page.get_by_test_id("stJson").filter(has_text="Blade Runner 2049")
    expect(result).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect(result).to_contain_text('"Alien"')
    expect(result).to_contain_text("1979")


def test_syntax_error_shows_its_class_and_a_caret_excerpt(open_page: OpenPage) -> None:
    page = open_page()
    run_query(page, "selec 1")

    expect(page.get_by_text("EdgeQLSyntaxError")).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    excerpt = page.get_by_test_id("stCode").filter(has_text="selec 1")
    expect(excerpt).to_contain_text(re.compile(r"1 \| selec 1\s+\^{5}"))
    expect(page.get_by_text("Error at line 1, column 1.")).to_be_visible()


def test_sessions_see_only_their_own_results_and_tokens(open_page: OpenPage) -> None:
    first, second = open_page(), open_page()
    run_query(first, "select 'only-in-first-session'")
    run_query(second, "select 'only-in-second-session'")

    for page, mine, theirs in (
        (first, "only-in-first-session", "only-in-second-session"),
        (second, "only-in-second-session", "only-in-first-session"),
    ):
        expect(grid_cell(page, 1, 0)).to_have_text(mine, timeout=RESULT_TIMEOUT_MS)
        open_panel(page, re.compile(r"History \(\d+\)"))
        history = page.get_by_test_id("stDataFrame").nth(1)
        expect(history).to_contain_text(f"select '{mine}'", timeout=RESULT_TIMEOUT_MS)
        wait_until_idle(page)
        # Nothing drawn on this page (result, history, captions) holds the other's value.
        assert theirs not in (page.locator("body").text_content() or "")

    first_token, second_token = session_token_prefix(first), session_token_prefix(second)
    assert first_token and second_token
    assert first_token != second_token


def test_slow_query_is_listed_running_then_its_result_arrives_by_itself(
    open_page: OpenPage,
) -> None:
    slow, other = open_page(), open_page()
    type_query(other, "select 1")  # typed beforehand: only the shortcut is timed below

    run_query(slow, "select sys::_sleep(2)")
    # The running list's line (it names the run); the elapsed time reads "503 ms", "1.2 s".
    running_line = slow.get_by_text(re.compile(r"Query 1 \(run \d+\) · running · \d"))
    expect(slow.get_by_text("Running (1)")).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect(running_line).to_be_visible()
    first_reading = running_line.inner_text()

    # Another session answers at once while the slow query runs.
    started = time.monotonic()
    submit_with_shortcut(other)
    expect(other.get_by_text(re.compile(r"· 1 row ·"))).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    other_answered_s = time.monotonic() - started
    assert slow.get_by_text("Running (1)").is_visible(), "the slow query finished first"
    assert other_answered_s < 1.5, f"select 1 took {other_answered_s:.2f} s in the other session"

    # The elapsed time is live: the fragment redraws it while the query runs.
    expect(running_line).not_to_have_text(first_reading, timeout=RESULT_TIMEOUT_MS)

    # No further user action: the poll notices the end and shows the result.
    expect(slow.get_by_text(re.compile(r"· 1 row ·"))).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect(slow.get_by_text("Running (1)")).to_be_hidden(timeout=RESULT_TIMEOUT_MS)
    status = slow.get_by_text(re.compile(r"· 1 row · \d+\.\d s")).inner_text()
    assert float(re.findall(r"(\d+\.\d) s", status)[0]) >= 2.0, status
    # The automatic rerun that ends the polling keeps the form as the user left it.
    expect(query_box(slow)).to_have_text("select sys::_sleep(2)")


def test_failures_never_show_a_traceback(open_page: OpenPage) -> None:
    page = open_page()
    attempts = [  # (query, what the page says instead of a traceback)
        ("select Nope", "InvalidReferenceError"),
        ("selec 1", "EdgeQLSyntaxError"),
        ("", "Invalid input"),
    ]
    for query, shown in attempts:
        run_query(page, query)
        expect(page.get_by_text(shown)).to_be_visible(timeout=RESULT_TIMEOUT_MS)
        wait_until_idle(page)
        assert_no_traceback(page)


HOSTILE = "![x](http://evil.example/px.png) [Session expired: sign in again](https://evil.example/login)"


def _foreign_links_and_images(page: Page) -> list[str]:
    """Links and images in the main area that point anywhere but the Gel docs (the page's own
    links) or Streamlit's own assets."""
    found = page.get_by_test_id("stMain").locator("a[href], img[src]").evaluate_all(
        "els => els.map(e => e.getAttribute('href') || e.getAttribute('src'))"
    )
    return [url for url in found if "evil.example" in url]


def test_hostile_text_from_a_link_and_from_the_server_renders_no_link_or_image(
    server: StreamlitServer, browser: Browser
) -> None:
    from urllib.parse import quote

    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        # A shared link whose parameter name carries the payload: its input label is Markdown.
        open_console(page, f"{server.url.rstrip('/')}/?q={quote(f'select <str>$`{HOSTILE}`')}")
        expect(page.get_by_text("Session expired: sign in again", exact=False).first
               ).to_be_visible(timeout=RESULT_TIMEOUT_MS)
        assert _foreign_links_and_images(page) == []
        # The server's error message quotes the payload (the fake's syntax error does).
        run_query(page, HOSTILE)
        expect(page.get_by_text("EdgeQLSyntaxError")).to_be_visible(timeout=RESULT_TIMEOUT_MS)
        wait_until_idle(page)
        assert _foreign_links_and_images(page) == []
        # The error quotes the payload's first word: as text, not as an image.
        assert "evil.example/px.png" in (page.get_by_test_id("stMain").text_content() or "")
        assert_no_traceback(page)
    finally:
        context.close()


def test_cancel_is_answered_while_the_page_run_streams(open_page: OpenPage) -> None:
    # The submitting run stays alive to stream the result in; a click must still be answered
    # at once (fast reruns start the click's run now; the streaming run stops at its next
    # redraw of the running list, within a tick).
    page = open_page()
    run_query(page, "select sys::_sleep(30)")
    expect(page.get_by_text("Running (1)")).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    started = time.monotonic()
    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(page.get_by_text(re.compile(r"Query 1 · cancelled"))).to_be_visible(timeout=5000)
    assert time.monotonic() - started < 3, "the cancel waited for the stream"
    expect(page.get_by_text("Running (1)")).to_be_hidden(timeout=RESULT_TIMEOUT_MS)
    expect(query_box(page)).to_have_text("select sys::_sleep(30)")
