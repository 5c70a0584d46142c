"""End-to-end: a run kept in the browser remembers its branch. Run on `staging`, open the
console afresh (a new session on the connection's branch, no `&branch=` in the address),
and *Run again* from *Kept in this browser* puts the picker back on `staging` and runs there
(the shipped fake with two branches, ``ECC_TEST_FAKE_BRANCHES``)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser_support import (
    RESULT_TIMEOUT_MS,
    OpenPage,
    StreamlitServer,
    grid_cell,
    open_console,
    run_query,
    serving,
    skip_without_browser,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

skip_without_browser()

from playwright.sync_api import expect  # noqa: E402

from tests.test_browser_branches import pick_branch  # noqa: E402
from tests.test_browser_memory import open_kept_history, wait_stored  # noqa: E402

SECRETS = """
[connections.gel]
allowed_branches = ["*"]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    yield from serving(StreamlitServer.start(
        tmp_path_factory.mktemp("streamlit-history-branch"), secrets_text=SECRETS,
        extra_env={"ECC_TEST_FAKE_BRANCHES": "main,staging"}))


def test_a_kept_run_runs_again_on_its_branch_in_a_new_session(open_page: OpenPage,
                                                              server: StreamlitServer) -> None:
    page = open_page()
    pick_branch(page, "staging")
    run_query(page, "select Movie {title}")
    expect(grid_cell(page, column=1, row=0)).to_have_text("Alien [staging]",
                                                          timeout=RESULT_TIMEOUT_MS)
    wait_stored(page, "h", 1)
    open_console(page, server.url)  # a new session, on the connection's branch
    picker = page.get_by_test_id("stSelectbox").filter(
        has=page.get_by_text("Branch", exact=True)).locator("input")
    expect(picker).to_have_value("main")
    main = open_kept_history(page, "1 runs kept in this browser")
    expect(main.get_by_text("staging").first).to_be_attached(timeout=RESULT_TIMEOUT_MS)
    main.get_by_role("button", name="Run again", exact=True).click()
    wait_until_idle(page)
    expect(picker).to_have_value("staging", timeout=RESULT_TIMEOUT_MS)
    expect(grid_cell(page, column=1, row=0)).to_have_text("Alien [staging]",
                                                          timeout=RESULT_TIMEOUT_MS)
    expect(page.get_by_text(re.compile(r"· branch staging")).first).to_be_visible()
