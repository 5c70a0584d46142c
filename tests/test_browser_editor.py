"""The EdgeQL editor in a real browser: completion from the schema, highlighting, keys,
typed inputs without a run, and the text's round trips with the page.

The server runs on the shipped fake client; its schema (``ecc.fake.schema.demo_schema``:
Movie, Person, ``actors`` with the link property ``@character``) feeds the completions, as an
introspected model in ``st.session_state["schema_model"]`` would.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.browser_support import (
    HISTORY_TOGGLE,
    RESULT_TIMEOUT_MS,
    VIEWPORT,
    OpenPage,
    StreamlitServer,
    assert_no_traceback,
    load_from_history,
    open_console,
    open_panel,
    query_box,
    skip_without_browser,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

skip_without_browser()

from playwright.sync_api import Browser, Locator, Page, expect  # noqa: E402

import st_comps  # noqa: E402


def completions(page: Page) -> Locator:
    return page.locator(".cm-tooltip-autocomplete li")


def type_in_editor(page: Page, text: str) -> None:
    """Type key by key (completion opens on typing, not on a programmatic fill)."""
    query_box(page).click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type(text, delay=15)


def history_count(page: Page) -> Locator:
    return page.get_by_text(HISTORY_TOGGLE)


def test_typing_a_type_name_offers_it(open_page: OpenPage) -> None:
    page = open_page()
    type_in_editor(page, "select Mo")
    option = completions(page).filter(has_text="Movie").first
    expect(option).to_be_visible()
    expect(option).to_have_attribute("aria-selected", "true")
    # CodeMirror ignores Enter for 75 ms after the list opens (its interactionDelay, against
    # accidental accepts): a key that fast would insert a newline, as it should. A bounded
    # pause, not a wait for a condition: no DOM state tells the delay is over.
    page.wait_for_timeout(150)
    page.keyboard.press("Enter")
    expect(query_box(page)).to_have_text("select Movie")


def test_inside_a_shape_the_types_properties_are_offered(open_page: OpenPage) -> None:
    page = open_page()
    type_in_editor(page, "select Movie { ti")
    expect(completions(page).filter(has_text="title").first).to_be_visible()
    expect(completions(page).filter(has_text="Person")).to_have_count(0)


def test_nested_shape_of_a_link_offers_the_targets_properties(open_page: OpenPage) -> None:
    page = open_page()
    type_in_editor(page, "select Movie { actors")  # not actor_count: only the link matches
    option = completions(page).filter(has_text="actors").first
    expect(option).to_have_attribute("aria-selected", "true")
    page.wait_for_timeout(150)  # CodeMirror's interactionDelay (see above)
    page.keyboard.press("Enter")  # a link in a select shape completes to `actors: {  }`
    expect(query_box(page)).to_have_text("select Movie { actors: {  }}")
    page.keyboard.type("na", delay=15)  # the cursor sits inside the new braces
    expect(completions(page).filter(has_text="name").first).to_be_visible()
    expect(completions(page).filter(has_text="title")).to_have_count(0)


def test_after_a_link_at_sign_offers_its_link_properties(open_page: OpenPage) -> None:
    page = open_page()
    type_in_editor(page, "select Movie { title } filter .actors@")
    expect(completions(page).filter(has_text="character").first).to_be_visible()


def test_a_path_in_a_filter_offers_the_selected_types_pointers(open_page: OpenPage) -> None:
    page = open_page()
    type_in_editor(page, "select Movie filter .rel")
    expect(completions(page).filter(has_text="release_year").first).to_be_visible()


def test_names_of_javascript_builtins_leave_completion_working(open_page: OpenPage) -> None:
    page = open_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    for name in ("constructor", "__proto__"):
        # Before: the shape's pointers were looked up on a plain object, found
        # Object.prototype's members and threw "... .map is not a function"; no list opened.
        type_in_editor(page, f"select {name} {{ t")
        expect(completions(page).first).to_be_visible()  # not a type: statement-level names
        assert errors == [], errors
    type_in_editor(page, "select Movie { ti")
    expect(completions(page).filter(has_text="title").first).to_be_visible()
    assert errors == [], errors


def test_running_with_the_shortcut_closes_the_completion_list(open_page: OpenPage) -> None:
    page = open_page()
    type_in_editor(page, "select Mo")
    expect(completions(page).filter(has_text="Movie").first).to_be_visible()
    page.keyboard.press("Control+Enter")
    expect(completions(page)).to_have_count(0)
    expect(history_count(page)).to_have_text("History (1) · 1 kept in this browser",
                                             timeout=RESULT_TIMEOUT_MS)
    expect(completions(page)).to_have_count(0)  # the rerun after the run did not reopen it
    expect(query_box(page)).to_have_text("select Mo")  # Enter accepted no completion


def test_keywords_strings_and_parameters_are_highlighted(open_page: OpenPage) -> None:
    page = open_page()
    query_box(page).fill("select r'raw' ++ <str>$name # note\nfilter 1.5n")
    box = query_box(page)
    expect(box.locator(".eq-keyword").filter(has_text="select")).to_have_count(1)
    expect(box.locator(".eq-keyword").filter(has_text="filter")).to_have_count(1)
    expect(box.locator(".eq-string")).to_have_text("r'raw'")
    expect(box.locator(".eq-param")).to_have_text("$name")
    expect(box.locator(".eq-comment")).to_have_text("# note")
    expect(box.locator(".eq-number")).to_have_text("1.5n")
    expect(box.locator(".eq-operator").filter(has_text="++")).to_have_count(1)
    expect(box.locator(".eq-cast").first).to_be_visible()


def test_typed_inputs_appear_while_typing_and_one_run_sends_the_query(
        open_page: OpenPage) -> None:
    page = open_page()
    type_in_editor(page, "select <str>$title")
    field = page.get_by_label(re.compile(r"^\$title · str"))
    expect(field).to_be_visible(timeout=RESULT_TIMEOUT_MS)  # no Run pressed
    expect(history_count(page)).to_have_text("History (0)")
    field.fill("Dune")
    field.press("Tab")
    wait_until_idle(page)
    query_box(page).press("Control+Enter")
    expect(page.get_by_text(re.compile(r"· 1 row ·"))).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect(history_count(page)).to_have_text("History (1) · 1 kept in this browser",
                                             timeout=RESULT_TIMEOUT_MS)


def test_switching_to_the_argument_language_shows_its_fields_and_runs_nothing(
        open_page: OpenPage) -> None:
    page = open_page()
    type_in_editor(page, "select <int64>$0")
    wait_until_idle(page)
    page.get_by_text("Argument language (advanced)").click()
    expect(page.get_by_role("textbox", name="Positional arguments ($0, $1 …)")).to_be_visible()
    wait_until_idle(page)
    expect(history_count(page)).to_have_text("History (0)")
    assert page.get_by_text(re.compile(r"QueryArgumentError")).count() == 0


def test_the_run_button_sends_what_was_just_typed(open_page: OpenPage) -> None:
    page = open_page()
    type_in_editor(page, "select 7")
    page.get_by_role("button", name=re.compile("Run")).click()  # blur sends the text first
    expect(page.get_by_text(re.compile(r"· 1 row ·"))).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    open_panel(page, HISTORY_TOGGLE)
    expect(page.get_by_test_id("stDataFrame").last).to_be_visible()


def test_a_second_browser_context_keeps_its_own_editor(open_page: OpenPage) -> None:
    first, second = open_page(), open_page()
    type_in_editor(first, "select Movie { title }")
    first.keyboard.press("Control+Enter")
    expect(first.get_by_text(re.compile(r"· 10 rows ·"))).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(second)
    expect(query_box(second).locator(".cm-placeholder")).to_be_visible()  # still empty
    expect(history_count(second)).to_have_text("History (0)")
    type_in_editor(second, "select 2")
    second.keyboard.press("Control+Enter")
    expect(second.get_by_text(re.compile(r"· 1 row ·"))).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)
    expect(query_box(first)).to_have_text("select Movie { title }")
    expect(history_count(first)).to_have_text("History (1) · 1 kept in this browser",
                                              timeout=RESULT_TIMEOUT_MS)


def test_history_load_replaces_the_text_once_then_typing_wins(open_page: OpenPage) -> None:
    page = open_page()
    type_in_editor(page, "select 1")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_text(re.compile(r"· 1 row ·"))).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    type_in_editor(page, "select 22")
    wait_until_idle(page)
    load_from_history(page, "select 1")
    query_box(page).click()
    page.keyboard.press("End")
    page.keyboard.type("0")
    page.keyboard.press("Control+Enter")
    expect(query_box(page)).to_have_text("select 10")
    wait_until_idle(page)
    expect(query_box(page)).to_have_text("select 10")  # the rerun did not undo the typing


def focused_label(page: Page) -> str | None:
    """The accessible label of the focused element, looking into shadow roots."""
    label: str | None = page.evaluate(
        "() => { let e = document.activeElement;"
        " while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;"
        " return e ? e.getAttribute('aria-label') : null; }")
    return label


def test_keyboard_only_use(open_page: OpenPage) -> None:
    page = open_page()
    for _ in range(60):  # reach the editor with Tab alone, found by its accessible label
        page.keyboard.press("Tab")
        if focused_label(page) == "EdgeQL":
            break
    else:
        raise AssertionError("Tab never reached the editor")
    page.keyboard.type("select 3")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_text(re.compile(r"· 1 row ·"))).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    # Tab indents inside the editor.
    page.keyboard.press("Home")
    page.keyboard.press("Tab")
    expect(query_box(page)).to_have_text(re.compile(r"^\s+select 3$"))
    assert focused_label(page) == "EdgeQL"
    # Mod-/ toggles a comment; Ctrl+Z undoes it.
    page.keyboard.press("Control+/")
    expect(query_box(page)).to_have_text(re.compile(r"#"))
    page.keyboard.press("Control+z")
    expect(query_box(page)).not_to_have_text(re.compile(r"#"))
    # Escape, then Tab, leaves the editor (no keyboard trap).
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert focused_label(page) != "EdgeQL"


def test_brackets_close_and_match(open_page: OpenPage) -> None:
    page = open_page()
    type_in_editor(page, "select (")
    expect(query_box(page)).to_have_text("select ()")
    expect(query_box(page).locator(".cm-matchingBracket")).to_have_count(2)


def test_a_huge_paste_stays_responsive_and_is_refused_with_a_message(
        open_page: OpenPage) -> None:
    page = open_page()
    query_box(page).click()
    big = "select 1 # " + "x" * (1_000_000 - 20) + "\n"
    started = time.monotonic()
    page.keyboard.insert_text(big)
    took = time.monotonic() - started
    assert took < 20, f"pasting 1 MB took {took:.1f} s"  # a runaway guard, not a target
    page.keyboard.type("+")  # the editor still answers keys
    expect(page.get_by_text(re.compile(r"over the limit of 100,000"))).to_be_visible()
    page.keyboard.press("Control+Enter")
    expect(page.get_by_text(re.compile(r"Nothing was run"))).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)
    expect(history_count(page)).to_have_text("History (0)")


def _luminance(css_color: str) -> float:
    channels = [float(c) for c in re.findall(r"[\d.]+", css_color)[:3]]
    red, green, blue = channels
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_editor_follows_streamlits_theme(server: StreamlitServer, browser: Browser,
                                             scheme: str) -> None:
    context = browser.new_context(viewport=VIEWPORT, color_scheme=scheme)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        open_console(page, server.url)
        query_box(page).fill("select 'x'")
        background = query_box(page).evaluate(
            "e => getComputedStyle(e.closest('.eq-editor')).backgroundColor")
        text = query_box(page).evaluate("e => getComputedStyle(e).color")
        if scheme == "dark":
            assert _luminance(background) < 0.3 < _luminance(text), (background, text)
        else:
            assert _luminance(background) > 0.7 > _luminance(text), (background, text)
        assert_no_traceback(page)
    finally:
        context.close()


def test_the_bundle_comes_once_per_page_as_a_file_and_never_over_the_websocket(
        open_page: OpenPage) -> None:
    """The editor's JavaScript is an asset URL: the page imports it once, whatever the number
    of editors, and no rerun (typing, more tabs) carries it."""
    page = open_page()
    # The first load's editor must be mounted (its import done) before listening: a fetch
    # of the first document still under way would count as the reloaded page's.
    expect(query_box(page)).to_be_visible(timeout=30_000)
    wait_until_idle(page)
    received: list[int] = []
    fetched: list[str] = []
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda payload: received.append(len(payload))))
    page.on("response", lambda response: fetched.append(response.url)
            if response.url.split("?")[0].endswith("/" + st_comps.BUNDLE.name) else None)
    page.reload()
    open_console(page, page.url)
    type_in_editor(page, "select 1")
    wait_until_idle(page)
    bundle = st_comps.BUNDLE.stat().st_size
    assert len(fetched) == 1 and "/_stcore/bidi-components/ecc.edgeql_editor/" in fetched[0]
    assert sum(received) < bundle / 4, f"{sum(received)} bytes for a fresh page"
    received.clear()
    for step in range(3):
        page.keyboard.type(f" + {step}")
        expect(page.get_by_text("History (0)")).to_be_visible()
        page.wait_for_timeout(400)  # past the editor's 300 ms pause: one rerun per step
        wait_until_idle(page)
    assert len(received) >= 3, "typing caused no reruns"
    assert sum(received) < bundle / 4, f"{sum(received)} bytes received while typing"
    received.clear()
    tabs = page.get_by_test_id("stSidebar").get_by_label("Queries per submission (tabs)")
    tabs.fill("3")
    tabs.press("Enter")
    page.get_by_role("tab", name="Query 3").click(timeout=RESULT_TIMEOUT_MS)
    expect(page.get_by_label("EdgeQL, query 3", exact=True)).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(page)
    assert len(fetched) == 1  # three editors, one module
    assert sum(received) < bundle / 4, f"{sum(received)} bytes for two more tabs"


def test_the_text_survives_a_change_of_the_tab_layout(open_page: OpenPage) -> None:
    page = open_page()
    type_in_editor(page, "select 5")
    wait_until_idle(page)
    tabs = page.get_by_test_id("stSidebar").get_by_label("Queries per submission (tabs)")
    tabs.fill("2")
    tabs.press("Enter")
    first = page.get_by_label("EdgeQL, query 1", exact=True)
    expect(first).to_have_text("select 5", timeout=RESULT_TIMEOUT_MS)
