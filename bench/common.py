"""Shared helpers for the benchmarks: medians, a fake-wired AppTest, printing figures."""

from __future__ import annotations

import logging
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def quiet_streamlit_logs() -> None:
    """Drop Streamlit's "missing ScriptRunContext" warning: benches drive the page with
    AppTest from a bare script, where Streamlit logs it on every cached-resource call. A filter,
    not a level: AppTest resets Streamlit's log levels when it reads its config, and the
    logger's other records (real warnings) still show."""
    from streamlit.runtime.scriptrunner_utils import script_run_context

    logging.getLogger(script_run_context.__name__).addFilter(
        lambda record: "missing ScriptRunContext" not in str(record.msg)
    )


quiet_streamlit_logs()


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def report(name: str, value: float, unit: str, target: float | None = None) -> bool:
    ok = target is None or value <= target
    bound = f" (target <= {target:g} {unit}: {'OK' if ok else 'MISSED'})" if target else ""
    print(f"{name}: {value:.2f} {unit}{bound}", flush=True)
    return ok


@contextmanager
def fake_console(**fake_kwargs: Any) -> Iterator[Any]:
    """An AppTest of the real page whose sessions use a FakeClient(**fake_kwargs)."""
    from ecc.fake.client import FakeClient
    from tests.apptest_support import console

    with console(lambda: FakeClient(**fake_kwargs)) as at:
        at.default_timeout = 60  # a benchmark's page runs are longer than a test's
        yield at


def click_run(at: Any) -> Any:
    return next(b for b in at.button if b.label == "Run").click().run()
