"""End-to-end: the data explorer under `streamlit run` in headless Chromium, the fake serving
its generated data set (95 Items, 95 Parts; ``ECC_TEST_FAKE_DATASET``): it pages, orders,
filters, picks a row by clicking it, follows its link (with the link's properties) and
comes back by the breadcrumb."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser_support import (
    RESULT_TIMEOUT_MS,
    StreamlitServer,
    open_panel,
    serving,
    skip_without_browser,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

skip_without_browser()

from playwright.sync_api import Locator, Page, expect  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """The console with the fake's explorer data set (this module's own server)."""
    yield from serving(StreamlitServer.start(
        tmp_path_factory.mktemp("streamlit-explorer"),
        secrets_text="[connections.gel]\nexplorer_page_size = 10\n",
        extra_env={"ECC_TEST_FAKE_DATASET": "95"},
    ))


def explorer_table(page: Page) -> Locator:
    """The explorer's table: the data frame with a ``name`` column of items or parts."""
    return page.get_by_test_id("stDataFrame").filter(
        has=page.get_by_test_id(re.compile(r"glide-cell-\d+-0")).filter(
            has_text=re.compile(r"^(item|part)-\d{7}$"))).first


def names(page: Page) -> list[str]:
    """The ``item-…``/``part-…`` names the explorer's table shows, top to bottom."""
    wait_until_idle(page)
    table = explorer_table(page)
    expect(table).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    cells = table.get_by_test_id(re.compile(r"glide-cell-\d+-\d+"))
    expect(cells.first).to_be_attached(timeout=RESULT_TIMEOUT_MS)
    found = [text for text in (cells.all_text_contents())
             if re.fullmatch(r"(item|part)-\d{7}", text)]
    return found


def choose(page: Page, label: str, option: str) -> None:
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True))
    field = box.locator("input")
    field.click()
    field.fill(option)  # the typed text filters the options; Enter takes the first
    expect(page.get_by_role("option").first).to_have_text(option, timeout=RESULT_TIMEOUT_MS)
    field.press("Enter")
    wait_until_idle(page)
    expect(field).to_have_value(option, timeout=RESULT_TIMEOUT_MS)


def click_row(page: Page, index: int) -> None:
    """Pick row ``index`` of the explorer's table by a click on its row marker (the grid
    draws on a canvas: glide-data-grid's rows and header are 35 px high)."""
    table = explorer_table(page)
    table.scroll_into_view_if_needed()  # the click lands at viewport coordinates
    box = table.bounding_box()
    assert box is not None
    row_height = 35
    page.mouse.click(box["x"] + 15, box["y"] + row_height * (index + 1.5))
    wait_until_idle(page)


def click(page: Page, name: str | re.Pattern[str]) -> None:
    page.get_by_role("button", name=name).click()
    wait_until_idle(page)


def expect_names(page: Page, wanted: list[str], *, any_order: bool = False) -> None:
    """Wait (bounded) until the table shows ``wanted`` (the grid's accessible cells follow
    the canvas a moment later), then compare."""
    expect(page.get_by_test_id("stDataFrame").get_by_test_id(
        re.compile(r"glide-cell-\d+-\d+")).filter(has_text=re.compile(
            f"^{re.escape(wanted[0])}$")).first).to_be_attached(timeout=RESULT_TIMEOUT_MS)
    shown = names(page)
    assert (sorted(shown) if any_order else shown) == (sorted(wanted) if any_order else wanted)


def open_explorer(page: Page) -> None:
    open_panel(page, "Data")
    wait_until_idle(page)
    expect(page.get_by_text(re.compile(r"Page 1 · objects 1–10 of 95"))).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)


def test_the_explorer_pages_orders_filters_and_follows_a_link(page: Page) -> None:
    open_explorer(page)
    expect_names(page, [f"item-{i:07d}" for i in range(10)])

    click(page, "Next ▶")  # pages
    expect(page.get_by_text(re.compile(r"Page 2 · objects 11–20 of 95"))).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)
    expect_names(page, [f"item-{i:07d}" for i in range(10, 20)])

    choose(page, "Order by", "number")  # orders (a new order starts at page 1)
    page.get_by_test_id("stCheckbox").filter(has=page.get_by_text("descending")).click()
    wait_until_idle(page)
    expect_names(page, [f"item-{i:07d}" for i in range(94, 84, -1)])

    choose(page, "Filter on", "kind")  # filters
    choose(page, "Operator", "=")
    value = page.get_by_role("textbox", name="Value", exact=True)
    value.fill("Gamma")
    value.press("Enter")
    wait_until_idle(page)
    click(page, "Add filter")
    expect(page.get_by_text(re.compile(r"of 19\b"))).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect_names(page, [f"item-{i:07d}" for i in range(92, 42, -5)])

    # Follows a link: item-0000087 (kind Gamma) has 87 mod 4 = 3 parts, (3 * 87 + j) mod 95.
    click_row(page, 1)
    expect(page.get_by_text("Linked objects of 2. item-0000087")).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)
    click(page, re.compile(r"^parts \(3\)"))
    expect(page.get_by_text(re.compile(r"objects 1–3 of 3"))).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)
    expect_names(page, [f"part-{(3 * 87 + j) % 95:07d}" for j in range(3)], any_order=True)
    # The caption (escape_markdown puts a word joiner after "@") and the @note cells: part p
    # of item 87 has "note-87-p", empty where 87 + p is a multiple of 3 (p = 72).
    expect(page.get_by_text(re.compile(
        "@\u2060?note, @\u2060?quantity: link properties of default::Item\\.parts"))
    ).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    cells = explorer_table(page).get_by_test_id(re.compile(r"glide-cell-\d+-\d+"))
    notes = sorted(t for t in cells.all_text_contents() if t.startswith("note-"))
    assert notes == ["note-87-71", "note-87-73"]

    click(page, "default::Item")  # the breadcrumb back: order and filter as they were left
    expect(page.get_by_text(re.compile(r"of 19\b"))).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect_names(page, [f"item-{i:07d}" for i in range(92, 42, -5)])
