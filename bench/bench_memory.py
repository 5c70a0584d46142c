"""The analyst's memory under ``streamlit run``: the page with 1,000 history entries and 200
saved queries kept in the browser, rerun time and bytes per rerun, before (a checkout of main,
which keeps nothing in the browser) and after (this tree), in one run.

A browser is played on the page's websocket (``bench.bench_ws.Session``); the memory
component's JavaScript is played too: on its first mount it hands over what the browser
holds (the ``loaded`` trigger with 1,000 history entries and 200 saved queries, each as the
browser stores it) and acknowledges commands (state value ``acked``). Figures, medians of
``--repeats`` reruns: a rerun with nothing changed (panels closed), with the History panel
open, with the Saved queries panel open; the run that takes the browser's load; and whether
the memory component's element was sent again on an unchanged rerun (it must go as a
reference to the element the browser holds).

``python3 -m bench.bench_memory --before /work/main`` (read-only use of that checkout).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bench_ws import Session, editor_events_id, open_session, streamlit_server
from bench.common import (
    ROOT,
    Row,
    before_after_parser,
    load_average,
    print_before_after,
)
from ecc.driver.client import QueryMethod
from ecc.library.entries import HistoryEntry, SavedQuery, new_id

MEMORY_KEY = "ecc_browser_memory"  # st_page.browser_memory.COMPONENT_KEY
HISTORY, SAVED = 1_000, 200
NOW = 1_800_000_000.0


def stored_entries() -> dict[str, dict[str, str]]:
    """What a browser holds after a long day: entries as the component hands them over."""
    history = {}
    for n in range(HISTORY):
        entry = HistoryEntry(
            id=new_id(), query=f"select Movie {{ title, release_year, actors: {{ name }} }}\n"
            f"filter .title ilike <str>$q and .release_year >= {1950 + n % 70}\nlimit {n}",
            method=QueryMethod.QUERY, kwargs_text='{q: "%dune%"}', status="done",
            elapsed_s=0.012 + n / 1e5, rows=n % 100, when=NOW - n * 60)
        history[entry.id] = entry.wire()
    saved = {}
    for n in range(SAVED):
        query = SavedQuery(id=new_id(), name=f"Report {n:03} · movies by year",
                           query=f"select Movie {{ title }} filter .release_year = <int64>$y "
                           f"order by .title limit {n + 1}", kwargs_text=f"{{y: {1980 + n}}}",
                           when=NOW - n * 3600, description="for the weekly report")
        saved[query.id] = query.wire()
    return {"h": history, "s": saved}


@dataclass
class MemorySession(Session):
    """A browser tab whose memory component holds ``entries``."""

    entries: dict[str, dict[str, str]] = field(default_factory=dict)
    pending_load: str | None = None
    delivered: set[str] = field(default_factory=set)
    toggles: dict[str, str] = field(default_factory=dict)  # toggle key -> its label, as drawn

    def _element(self, element: Any, now: float) -> None:
        super()._element(element, now)
        if element.WhichOneof("type") == "checkbox":
            self.toggles[element.checkbox.id.rsplit("-", 1)[-1]] = element.checkbox.label

    def _editor_mounted(self, key: str, component: Any) -> None:
        if key != MEMORY_KEY:
            super()._editor_mounted(key, component)
            return
        raw = component.json or component.mixed.json
        data = json.loads(raw) if raw else {}
        if not isinstance(data, dict) or not isinstance(data.get("ns"), str):
            return
        load = str(data.get("load", ""))
        if load and load not in self.delivered:
            self.pending_load = load
        cmds = data.get("cmds") or []
        if cmds:  # applied, then acknowledged, as the JavaScript does
            value = f"{load}:{max(int(c['seq']) for c in cmds)}"
            state = self.editors.setdefault(key, {})
            if state.get("acked") != value:
                state["acked"] = value
                self.editor_changed = True

    async def deliver_load(self) -> tuple[float, int]:
        """The ``loaded`` trigger with what the browser holds: (ms to the end of the run that
        takes it, bytes the browser sent)."""
        load = self.pending_load
        if load is None:
            return 0.0, 0
        self.delivered.add(load)
        self.pending_load = None
        payload = json.dumps([{"event": "loaded", "value": {"load": load, **self.entries}}])
        sent = self.bytes_sent
        self._finished_event.clear()
        start = time.monotonic()
        await self._send(trigger=(editor_events_id(self.widget_ids[MEMORY_KEY]),
                                  "json_trigger_value", payload))
        await asyncio.wait_for(self._finished_event.wait(), 120)
        elapsed = time.monotonic() - start
        await self.wait_quiet(5)
        return elapsed * 1000, self.bytes_sent - sent


async def rerun(session: Session) -> tuple[float, int, int]:
    """One whole-page rerun with nothing changed: (seconds, bytes received, bytes of the
    memory component's element among them)."""
    await session.wait_quiet(3)
    session.ledger = []
    before = session.bytes_received
    session._finished_event.clear()
    start = time.monotonic()
    await session._send()
    await asyncio.wait_for(session._finished_event.wait(), 120)
    elapsed = time.monotonic() - start
    await session.wait_quiet(3)
    memory = sum(size for size, label in session.ledger if MEMORY_KEY in label)
    session.ledger = None
    return elapsed, session.bytes_received - before, memory


async def reruns(session: Session, count: int, prefix: str, out: dict[str, float]) -> None:
    samples = [await rerun(session) for _ in range(count)]
    out[f"{prefix}_ms"] = statistics.median(s for s, _, _ in samples) * 1000
    out[f"{prefix}_bytes"] = statistics.median(b for _, b, _ in samples)
    out[f"{prefix}_memory_element_bytes"] = max(m for _, _, m in samples)


async def page_figures(url: str, repeats: int) -> dict[str, float]:
    out: dict[str, float] = {}
    opened = await open_session(url)
    await opened.close()
    session = MemorySession(url, entries=stored_entries())
    await session.open()
    await session.run_page(timeout=120)
    out["load_ms"], out["load_bytes_sent"] = await session.deliver_load()
    await session.run_page(timeout=120)  # the acknowledgement's run, if any
    saved_label = session.toggles.get("show_saved")
    if saved_label is not None and f"({SAVED})" not in saved_label:
        raise RuntimeError(f"the page did not take the browser's entries: {saved_label!r}")
    await reruns(session, repeats, "rerun", out)
    if "show_history" in session.widget_ids:
        session.set_value("show_history", "bool_value", True)
        await session.run_page(timeout=120)
        await reruns(session, repeats, "rerun_history_open", out)
        session.set_value("show_history", "bool_value", False)
    if "show_saved" in session.widget_ids:
        session.set_value("show_saved", "bool_value", True)
        await session.run_page(timeout=120)
        await reruns(session, repeats, "rerun_saved_open", out)
    await session.close()
    return out


def measure(root: Path, repeats: int) -> dict[str, float]:
    with streamlit_server(root=root) as server:
        figures = asyncio.run(page_figures(server.ws_url, repeats))
    print(f"  {root}: {json.dumps(figures)}", flush=True)
    return figures


ROWS: list[Row] = [
    # key, label, unit, goal (after)
    ("load_ms", "the run that takes the browser's 1,000 + 200 entries", "ms", None),
    ("load_bytes_sent", "  bytes the browser sent for them (once per page load)", "B", None),
    ("rerun_ms", "page rerun, nothing changed, panels closed", "ms", 30),
    ("rerun_bytes", "  bytes sent per rerun", "B", None),
    ("rerun_memory_element_bytes", "  of which the memory component (a reference)", "B", 200),
    ("rerun_history_open_ms", "page rerun, History open (200 of 1,000 kept shown)", "ms", None),
    ("rerun_history_open_bytes", "  bytes sent per rerun", "B", None),
    ("rerun_saved_open_ms", "page rerun, Saved queries open (200)", "ms", None),
    ("rerun_saved_open_bytes", "  bytes sent per rerun", "B", None),
]


def main(argv: list[str] | None = None) -> bool:
    args = before_after_parser(__doc__).parse_args(argv)
    print(f"{HISTORY} history entries, {SAVED} saved queries; load average {load_average()} on "
          f"{os.cpu_count()} cores", flush=True)
    results: dict[str, dict[str, float]] = {}
    if args.before is not None:
        results["before"] = measure(args.before.resolve(), args.repeats)
    results["after"] = measure(ROOT, args.repeats)
    print(f"measured; load average {load_average()}", flush=True)
    return print_before_after(results, ROWS)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
