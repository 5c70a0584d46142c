"""Shared helpers for the benchmarks: medians, a fake-wired AppTest, printing figures."""

from __future__ import annotations

import argparse
import json
import logging
import os
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


# A row of a before/after table: key in the results, label, unit, goal for "after" (or None).
Row = tuple[str, str, str, float | None]


def before_after_parser(doc: str) -> argparse.ArgumentParser:
    """A bench's arguments: ``--before`` (a checkout to measure first) and ``--repeats``;
    ``doc``'s first line describes it."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--before", type=Path, default=None,
                        help="a checkout of main to measure first (read only)")
    parser.add_argument("--repeats", type=int, default=5)
    return parser


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def print_before_after(results: dict[str, dict[str, float]], rows: list[Row]) -> bool:
    """Print ``rows`` for each measured tree (``before``, ``after``), the ratio when both are
    there, each goal's verdict on the last one, then ``results`` as JSON; True when every goal
    is met."""
    ok = True
    print(f"{'figure':<64} " + " ".join(f"{k:>12}" for k in results) +
          ("       ratio" if len(results) == 2 else ""))
    for key, label, unit, goal in rows:
        values = [results[k].get(key, float("nan")) for k in results]
        cells = " ".join(f"{v:>12,.1f}" for v in values)
        ratio = f" {values[1] / values[0]:>11.3f}" if len(values) == 2 and values[0] else ""
        verdict = ""
        if goal is not None:
            met = values[-1] <= goal
            ok &= met
            verdict = f"  (goal <= {goal:g} {unit}: {'OK' if met else 'MISSED'})"
        print(f"{label + (' [' + unit + ']' if unit else ''):<64} {cells}{ratio}{verdict}",
              flush=True)
    print(json.dumps(results))
    return ok
