"""Shared test helpers: wait on a condition with a bound, never sleep for a fixed time."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest


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
