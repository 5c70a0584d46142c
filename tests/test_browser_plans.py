"""End-to-end: a query plan and a chart in headless Chromium (the real page, the fake client).

Screenshots go to artifacts/ (plan-flame.png, plan-tree.png, chart.png). Hovering a node of the
flame graph must show its figures in Vega's tooltip; clicking one must mark its fragment in the
query text.
"""

from __future__ import annotations

import re

import pytest

from tests.browser_support import (
    ARTIFACTS,
    RESULT_TIMEOUT_MS,
    VIEWPORT,
    OpenPage,
    run_query,
    skip_without_browser,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

skip_without_browser()

from playwright.sync_api import Locator, Page, expect  # noqa: E402

NESTED = "analyze select Movie {title, actors: {name}} filter .release_year > 2000 order by .title"


def plan_chart(page: Page) -> Locator:
    return page.get_by_test_id("stVegaLiteChart").first


def plan_node(chart: Locator, label: str) -> Locator:
    """A node's rectangle: Vega's SVG renderer labels each mark with its fields."""
    return chart.locator(
        f'path[aria-roledescription="rect mark"][aria-label*="node: {label};"]'
    )


def screenshot(page: Page, name: str) -> None:
    # Streamlit scrolls inside its own container: a tall viewport shows the whole result.
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 1800})
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def run_nested_plan(page: Page) -> Locator:
    """Run ``NESTED`` and return its plan's chart once drawn and the page is idle."""
    run_query(page, NESTED)
    chart = plan_chart(page)
    expect(chart).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(page)
    return chart


def tooltip(page: Page) -> Locator:
    return page.locator("#vg-tooltip-element")


def test_hovering_a_plan_node_shows_its_figures(open_page: OpenPage) -> None:
    page = open_page()
    chart = run_nested_plan(page)
    root = plan_node(chart, "Movie")
    actors = plan_node(chart, "actors (Actors, Movie.actors)")
    root_box, actors_box = root.bounding_box(), actors.bounding_box()
    assert root_box and actors_box
    assert actors_box["y"] < root_box["y"], "a flame graph draws the root at the bottom"
    assert root_box["width"] > actors_box["width"]
    root.hover()
    tip = tooltip(page)
    expect(tip).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect(tip).to_contain_text("loops")
    expect(tip).to_contain_text("total ms")
    expect(tip).to_contain_text("Movie")
    screenshot(page, "plan-flame.png")


def test_clicking_a_plan_node_marks_its_fragment(open_page: OpenPage) -> None:
    page = open_page()
    chart = run_nested_plan(page)
    expect(page.get_by_text("Movie: line 1, column 16")).to_be_visible()
    plan_node(chart, "actors (Actors, Movie.actors)").click()  # its rectangle's middle
    expect(page.get_by_text(re.compile(r"actors .*line 1, column 30"))).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)
    excerpt = page.get_by_test_id("stCode").filter(has_text="analyze select Movie")
    expect(excerpt).to_contain_text(re.compile(r"\n\s{29}\^{6}"))
    wait_until_idle(page)
    # A click on a node's label selects the node as well.
    label = plan_chart(page).locator('text[aria-label*="shown: Movie"]')
    label.click()
    expect(page.get_by_text("Movie: line 1, column 16")).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(page)
    page.get_by_text("Tree table", exact=True).click()
    table = page.get_by_test_id("stDataFrame").first
    expect(table).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(page)
    # Picking a row of the tree table selects its node: the row marker of the second row.
    box = table.bounding_box()
    assert box is not None
    row_height = 35  # glide-data-grid's default row (and header) height
    page.mouse.click(box["x"] + 15, box["y"] + row_height * 1.5 + row_height)
    expect(page.get_by_text(re.compile(r"actors .*line 1, column 30"))).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(page)
    screenshot(page, "plan-tree.png")


def test_the_chart_view_draws_a_result(open_page: OpenPage) -> None:
    page = open_page()
    views = page.get_by_test_id("stSidebar").get_by_role("radiogroup", name="Result view")
    views.get_by_text("chart", exact=True).click()
    expect(views.get_by_role("radio", name="chart")).to_be_checked()
    run_query(page, "select Movie {title, release_year, rating}")
    chart = page.get_by_test_id("stVegaLiteChart").first
    expect(chart).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect(page.get_by_text(re.compile(r"Charting 10 rows"))).to_be_visible()
    wait_until_idle(page)
    # one bar per movie, each labelled by Vega with its fields
    bars = chart.locator('path[role="graphics-symbol"][aria-label*="title: "]')
    expect(bars).to_have_count(10)
    expect(bars.first).to_have_attribute("aria-label", re.compile(r"release_year: \d"))
    screenshot(page, "chart.png")
