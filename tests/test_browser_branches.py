"""End-to-end: branches and globals under `streamlit run` in headless Chromium (the shipped
fake with two branches, ``ECC_TEST_FAKE_BRANCHES``). Switching the branch in the sidebar shows
the other branch's data; a global the operator fixed is shown but cannot be changed, and
every query runs with its value."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser_support import (
    RESULT_TIMEOUT_MS,
    StreamlitServer,
    grid_cell,
    run_query,
    serving,
    skip_without_browser,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

skip_without_browser()

from playwright.sync_api import Page, expect  # noqa: E402

SECRETS = """
[connections.gel]
allowed_branches = ["*"]
fixed_globals = { "default::current_user" = "ana" }
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    yield from serving(StreamlitServer.start(
        tmp_path_factory.mktemp("streamlit-branches"), secrets_text=SECRETS,
        extra_env={"ECC_TEST_FAKE_BRANCHES": "main,staging"}))


def pick_branch(page: Page, name: str) -> None:
    picker = page.get_by_test_id("stSelectbox").filter(
        has=page.get_by_text("Branch", exact=True))
    picker.locator("input").click()
    page.get_by_role("option", name=name, exact=True).click()
    wait_until_idle(page)
    expect(picker.locator("input")).to_have_value(name)


def test_switching_the_branch_shows_the_other_branchs_data(page: Page) -> None:
    run_query(page, "select Movie {title}")
    expect(grid_cell(page, column=1, row=0)).to_have_text("Alien", timeout=RESULT_TIMEOUT_MS)
    expect(page.get_by_text("branch main", exact=False).first).to_be_visible()
    pick_branch(page, "staging")
    run_query(page, "select Movie {title}")
    expect(grid_cell(page, column=1, row=0)).to_have_text("Alien [staging]",
                                                          timeout=RESULT_TIMEOUT_MS)
    expect(page.get_by_text("branch staging", exact=False).first).to_be_visible()
    assert "branch=staging" in page.url  # the shared link keeps the branch


def test_a_link_opens_its_branch(page: Page, server: StreamlitServer) -> None:
    page.goto(server.url + "?q=select+Movie+%7Btitle%7D&branch=staging")
    wait_until_idle(page)
    picker = page.get_by_test_id("stSelectbox").filter(
        has=page.get_by_text("Branch", exact=True))
    expect(picker.locator("input")).to_have_value("staging", timeout=RESULT_TIMEOUT_MS)


def test_a_fixed_global_cannot_be_changed_from_the_page(page: Page) -> None:
    field = page.get_by_label("default::current_user · str", exact=True)
    expect(field).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect(field).to_be_disabled()
    expect(field).to_have_value("ana")
    with pytest.raises(Exception):  # noqa: B017 — Playwright refuses to fill a disabled input
        field.fill("mallory", timeout=2_000)
    # Even with the element forced editable in the browser, the server applies its own value.
    field.evaluate("el => { el.disabled = false; }")
    field.fill("mallory")
    field.press("Enter")
    wait_until_idle(page)
    run_query(page, "select global default::current_user")
    expect(grid_cell(page, column=1, row=0)).to_have_text("ana", timeout=RESULT_TIMEOUT_MS)
    expect(page.get_by_text("default::current_user = ana (fixed)", exact=False).first
           ).to_be_visible()
