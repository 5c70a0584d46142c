"""End-to-end: the schema explorer under `streamlit run` in headless Chromium (the shipped
fake's demo schema). The graph renders as SVG (screenshot under artifacts/), search matches
are highlighted, and the list is readable at 1400 px wide."""

from __future__ import annotations

import pytest

from tests.browser_support import (
    ARTIFACTS,
    RESULT_TIMEOUT_MS,
    VIEWPORT,
    grid_cell,
    open_panel,
    skip_without_browser,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

skip_without_browser()

from playwright.sync_api import Locator, Page, expect  # noqa: E402


def open_schema(page: Page) -> None:
    open_panel(page, "Schema")
    expect(page.get_by_text("introspection took", exact=False)).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(page)


def section(page: Page, name: str) -> None:
    # a segmented control: its options are buttons with the radio role
    page.get_by_role("radio", name=name, exact=True).click()
    wait_until_idle(page)


def types_table(page: Page) -> Locator:
    return page.get_by_test_id("stDataFrame").filter(has=page.get_by_text("default::Movie"))


def test_the_graph_renders_as_svg(page: Page) -> None:
    open_schema(page)
    section(page, "Graph")
    chart = page.get_by_test_id("stGraphVizChart")
    expect(chart.locator("svg")).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect(chart.locator("svg g.node")).to_have_count(3)  # Auditable, Movie, Person
    assert chart.locator("svg g.edge").count() >= 4  # actors, director, movies, extends
    svg_text = chart.locator("svg").text_content() or ""
    assert "default::Movie" in svg_text and "actors [multi]" in svg_text
    assert "title: str *" in svg_text
    box = chart.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100
    wait_until_idle(page)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 1800})
    chart.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "schema-graph.png"), full_page=True)


def test_the_list_is_readable_at_1400_px(page: Page) -> None:
    assert page.viewport_size is not None and page.viewport_size["width"] == 1400
    open_schema(page)
    # The types table (no index column): every user type's full name in its own cell.
    expect(grid_cell(page, 0, 0, grid=0)).to_have_text("default::Auditable",
                                                       timeout=RESULT_TIMEOUT_MS)
    expect(grid_cell(page, 0, 1, grid=0)).to_have_text("default::Movie")
    chooser = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Type", exact=True))
    chooser.locator("input").click()
    chooser.locator("input").fill("default::Movie")
    chooser.locator("input").press("Enter")
    wait_until_idle(page)
    code = page.get_by_test_id("stCode").filter(has_text="default::Movie")
    expect(code).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    # Tables fit the page: nothing wider than the viewport, nothing cut at the left.
    for frame in page.get_by_test_id("stDataFrame").all():
        box = frame.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1400, box
    font_px = float(page.get_by_test_id("stCaptionContainer").first.evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)"))
    assert font_px >= 12
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 1800})
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "schema-list.png"), full_page=True)


def test_search_highlights_the_match_and_shows_no_markup(page: Page) -> None:
    open_schema(page)
    search = page.get_by_role("textbox", name="Search", exact=True)
    search.fill("catalog")
    search.press("Enter")
    wait_until_idle(page)
    matches = page.get_by_test_id("stMarkdownContainer").filter(has_text="in the catalogue")
    expect(matches).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    text = matches.text_content() or ""
    assert "orange-background" not in text and "\\" not in text
    highlighted = matches.locator("span").filter(has_text="catalog").last
    colour = highlighted.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent"), colour
    assert (highlighted.text_content() or "").strip() == "catalog"
