"""Shared test helpers: wait on a condition with a bound, never sleep for a fixed time."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from ecc.fake.branches import FakeBranchClients, FakeBranchServer, use_fake_branches
from tests.browser_support import (
    VIEWPORT,
    OpenPage,
    StreamlitServer,
    assert_no_traceback,
    chromium,
    open_console,
    serving,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from ecc.running.sessions import SessionRuntime


def wait_until(predicate: Callable[[], object], timeout: float = 5.0, what: str = "") -> None:
    """Return as soon as ``predicate()`` is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout:g} s: {what or predicate}")
        time.sleep(0.002)


async def async_wait_until(
    predicate: Callable[[], object], timeout: float = 5.0, what: str = ""
) -> None:
    """``wait_until`` for code on an event loop: yields to the loop between checks."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout:g} s: {what or predicate}")
        await asyncio.sleep(0.002)


def loop_threads() -> list[threading.Thread]:
    """The session loop threads alive right now (``SessionLoop`` names them ``ecc-loop-*``)."""
    return [t for t in threading.enumerate() if t.name.startswith("ecc-loop-")]


def kill_loop(runtime: SessionRuntime) -> None:
    """End a session's loop thread as an escaping BaseException would (run_forever re-raises
    it); return once the thread is gone."""

    def die() -> None:
        raise SystemExit("simulated loop death")

    thread = runtime.loop.thread
    runtime.loop.loop.call_soon_threadsafe(die)
    thread.join(timeout=5)
    assert not thread.is_alive()


_DRIVER_NAMES = ("DSN", "INSTANCE", "HOST", "PORT", "CREDENTIALS_FILE", "PASSWORD", "SECRET_KEY")
DRIVER_ENV = (
    *(prefix + name for prefix in ("GEL_", "EDGEDB_") for name in _DRIVER_NAMES),
    "ECC_TEST_FAKE_CLIENT",
)


@pytest.fixture
def clean_driver_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page under AppTest must see only the settings a test gives it."""
    for name in DRIVER_ENV:
        monkeypatch.delenv(name, raising=False)


# --- browser tests: one console server for the session, Chromium per module -------------------
# Modules that need another server or browser (sign-in, replicas) define their own fixtures of
# these names, which take precedence over these.
@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """``streamlit run`` of the console with the shipped fake client. At the end its log must
    hold no traceback."""
    yield from serving(StreamlitServer.start(tmp_path_factory.mktemp("streamlit")))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium through Playwright, for one module (a sync Playwright cannot be
    started twice at once, and some modules start their own)."""
    yield from chromium()


@pytest.fixture
def open_page(server: StreamlitServer, browser: Browser) -> Iterator[OpenPage]:
    """Opens the console in a new browser context (its own cookies: a new Streamlit session).
    At the end of the test every page it opened must be free of tracebacks."""
    contexts = []
    pages: list[Page] = []

    def open_new() -> Page:
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        try:
            open_console(page, server.url)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nserver log (end):\n{server.log_text()[-3000:]}") from None
        return page

    yield open_new
    try:
        for page in pages:
            assert_no_traceback(page)
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(open_page: OpenPage) -> Page:
    """The console open in a new browser context (``open_page``'s checks at the end)."""
    return open_page()


PAGE_BRANCHES = ("main", "staging", "dev")


@pytest.fixture
def page_branches() -> Iterator[FakeBranchClients]:
    """The page's fake server with three branches (``PAGE_BRANCHES``), each with its data."""
    fake = FakeBranchClients(FakeBranchServer(PAGE_BRANCHES))
    use_fake_branches(fake)
    yield fake
    use_fake_branches(None)
