"""Driving the real console in headless Chromium: a `streamlit run` server and page helpers.

The server runs the page exactly as a deployment would (the repo's hardened
`.streamlit/config.toml` applies) with the test-only fake client (`ECC_TEST_FAKE_CLIENT=1`),
a temporary HOME and an empty secrets file, so no user configuration or database leaks in.

Importable without Playwright (its imports are inside the functions that need it), so a
browser test module can skip cleanly with the reason when Playwright or Chromium is missing
(``skip_without_browser``). The fixtures' own set-up and tear-down are ``serving`` and
``chromium``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, ViewportSize

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "artifacts"  # the browser tests' screenshots
CHROMIUM = "/usr/bin/chromium"
# FACTS.md, "These machines": Debian's chromium works with these flags; `playwright install`
# (its own browser download) fails here, so it is never called.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1400, "height": 1000}
STARTUP_TIMEOUT_S = 60.0
# Environment variables that could point the server at a real database or another config.
_LEAKY_ENV = re.compile(r"^(GEL_|EDGEDB_|STREAMLIT_|ECC_)")


def missing_requirement() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} is missing (install Debian's chromium; scripts/test.sh does)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is missing (pip install -r requirements-dev.txt)"
    return None


def skip_without_browser(tests: str = "browser tests") -> None:
    """Skip the calling test module, saying why, where Chromium or Playwright is missing.
    Called before the module imports Playwright."""
    missing = missing_requirement()
    if missing:
        pytest.skip(f"{tests} need Chromium and Playwright: {missing}", allow_module_level=True)


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class StreamlitServer:
    """One `streamlit run streamlit_app.py` subprocess in its own process group."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        secrets_text: str = "# empty: the fake client needs no connection settings\n",
        port: int | None = None,
        script: str = "streamlit_app.py",
        extra_env: dict[str, str] | None = None,
    ) -> StreamlitServer:
        """Start the page with ``secrets_text`` as its only secrets file, on ``port`` (a free
        loopback port when None; pass one when the secrets must name it, as a redirect_uri
        does). ``script``: the main file, from the repository root. ``extra_env``:
        test-only variables for the fake (``ECC_TEST_FAKE_BRANCHES``), set after the leaky
        ones are dropped."""
        home = workdir / "home"
        home.mkdir()
        secrets = workdir / "secrets.toml"
        secrets.write_text(secrets_text)
        log_path = workdir / "streamlit.log"
        port = port or free_loopback_port()
        env = {k: v for k, v in os.environ.items() if not _LEAKY_ENV.match(k)}
        env.update(HOME=str(home), ECC_TEST_FAKE_CLIENT="1", PYTHONUNBUFFERED="1")
        env.update(extra_env or {})
        command = [
            sys.executable, "-m", "streamlit", "run", script,
            "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--server.headless", "true",
            "--browser.gatherUsageStats", "false",
            # A developer's git-ignored .streamlit/secrets.toml (an [auth] section, a DSN)
            # must not change what the tests see.
            "--secrets.files", str(secrets),
        ]  # fmt: skip
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() kills all of it
            )
        server = cls(process, f"http://127.0.0.1:{port}/", log_path)
        try:
            server.wait_healthy(STARTUP_TIMEOUT_S)
        except BaseException:
            server.stop()
            raise
        return server

    def wait_healthy(self, timeout_s: float) -> None:
        """Return once `/_stcore/health` answers "ok"; fail with the log after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"streamlit exited with {self.process.returncode} before it was healthy:\n"
                    f"{self.log_text()[-4000:]}"
                )
            try:
                with urllib.request.urlopen(self.url + "_stcore/health", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"streamlit not healthy within {timeout_s:g} s:\n{self.log_text()[-4000:]}"
                )
            time.sleep(0.1)  # poll interval of a bounded wait, not a wait for something

    def stop(self) -> None:
        """Terminate the whole process group; kill it if it lingers."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def assert_no_traceback_logged(self) -> None:
        log = self.log_text()
        assert "Traceback" not in log, (
            f"the server logged a traceback (log: {self.log_path}):\n{log[-4000:]}"
        )


def serving(running: StreamlitServer) -> Iterator[StreamlitServer]:
    """For a fixture, ``yield from serving(StreamlitServer.start(...))``: the server for the
    fixture's scope, stopped at its end; then its log must hold no traceback."""
    try:
        yield running
    finally:
        running.stop()
    running.assert_no_traceback_logged()


def chromium(*extra_args: str) -> Iterator[Browser]:
    """For a fixture, ``yield from chromium()``: Debian's Chromium through Playwright
    (``CHROMIUM_ARGS`` and ``extra_args``), closed at the fixture's end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield launched
        finally:
            launched.close()


OpenPage = Callable[[], "Page"]  # the shared ``open_page`` fixture's (tests/conftest.py)


# --- page helpers ------------------------------------------------------------------------
PAGE_LOAD_TIMEOUT_MS = 30_000
RESULT_TIMEOUT_MS = 15_000
# The History toggle: this session's runs, then what the browser keeps when it keeps any.
HISTORY_TOGGLE = re.compile(r"^History \(\d+\)( · [\d,]+ kept in this browser)?$")


def app_root(page: Page) -> Locator:
    return page.get_by_test_id("stApp")


def wait_until_idle(page: Page, timeout_ms: int = RESULT_TIMEOUT_MS) -> None:
    """Wait until the script is not running (Streamlit marks the root element's state)."""
    from playwright.sync_api import expect

    expect(app_root(page)).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=timeout_ms
    )


def open_console(page: Page, url: str) -> None:
    """Load the page and wait until its query form is ready."""
    from playwright.sync_api import expect

    page.goto(url)
    exception = page.get_by_test_id("stException")
    # Either the form or an uncaught exception (e.g. a module that fails to import): stop at
    # the first of the two instead of waiting out the whole timeout for a form that never comes.
    expect(query_box(page).or_(exception).first).to_be_visible(timeout=PAGE_LOAD_TIMEOUT_MS)
    if exception.count():
        raise AssertionError("the page shows an uncaught exception instead of the console")
    expect(query_box(page)).to_be_editable()
    wait_until_idle(page, PAGE_LOAD_TIMEOUT_MS)


def query_box(page: Page) -> Locator:
    return page.get_by_label("EdgeQL", exact=True)


def type_query(page: Page, text: str) -> None:
    box = query_box(page)
    box.fill(text)


def submit_with_shortcut(page: Page) -> None:
    """Ctrl+Enter in the query editor: it runs the submission."""
    query_box(page).press("Control+Enter")


def run_query(page: Page, text: str) -> None:
    type_query(page, text)
    submit_with_shortcut(page)


def grid_cell(page: Page, column: int, row: int, *, grid: int = 0) -> Locator:
    """A cell of the `grid`-th st.dataframe, read from glide-data-grid's accessibility table.

    The grid paints on a canvas, but it also renders a hidden `<table role="grid">` inside
    the canvas element (shortly after painting) whose cells carry `data-testid="glide-cell-
    {column}-{row}"`; column 0 is the index. ARIA role queries do not see inside a canvas,
    so the cells are found by test id.
    """
    frame = page.get_by_test_id("stDataFrame").nth(grid)
    return frame.get_by_test_id(f"glide-cell-{column}-{row}")


def open_panel(page: Page, title: str | re.Pattern[str]) -> None:
    """Open the History or Resources panel: a toggle (its content is drawn only when on) or,
    in older versions of the page, an expander."""
    label = page.get_by_text(title, exact=True)
    switch = page.get_by_test_id("stCheckbox").filter(has=label).get_by_text(title)
    expander = page.get_by_test_id("stExpander").filter(has=label).locator("summary")
    switch.or_(expander).first.click()


def load_from_history(page: Page, expected: str) -> None:
    """Open the History panel and load its newest run into the form: the editor then shows
    ``expected``."""
    from playwright.sync_api import expect

    open_panel(page, HISTORY_TOGGLE)
    page.get_by_role("button", name="Load into form").click()
    expect(query_box(page)).to_have_text(expected, timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(page)


SAVED_QUERIES_TOGGLE = re.compile(r"^Saved queries \(\d+\)")


def save_query(page: Page, name: str, toggle: re.Pattern[str] = SAVED_QUERIES_TOGGLE) -> None:
    """Open the Saved queries panel (its toggle's title matches ``toggle``) and save the
    editor's query as ``name``; return once the page confirms it."""
    from playwright.sync_api import expect

    open_panel(page, toggle)
    field = page.get_by_label("Name", exact=True)
    field.fill(name)
    field.press("Enter")
    wait_until_idle(page)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text(f"Saved “{name}”.")).to_be_visible(timeout=RESULT_TIMEOUT_MS)


def session_token_prefix(page: Page) -> str:
    """Open the Resources panel and read this session's token prefix from its caption."""
    from playwright.sync_api import expect

    open_panel(page, "Resources")
    caption = page.get_by_text(re.compile(r"Session token \S+…"))
    expect(caption).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    match = re.search(r"Session token (\S+?)…", caption.inner_text())
    assert match, caption.inner_text()
    return match.group(1)


def assert_no_traceback(page: Page) -> None:
    """Neither Streamlit's exception element nor traceback text is anywhere in the page."""
    assert page.get_by_test_id("stException").count() == 0, "an exception element is shown"
    text = page.locator("body").text_content() or ""
    assert "Traceback" not in text, "traceback text in the page"
