"""What users get: the console under ``streamlit run``, driven over its websocket.

Starts ``streamlit run streamlit_app.py`` on a free loopback port with the shipped fake client
(``ECC_TEST_FAKE_CLIENT=1``; the fake really sleeps on ``select sys::_sleep(s)``) and the
page's default settings (``max_running = 8``: never tuned here), then plays browsers on
``/_stcore/stream`` with Streamlit's own protobuf messages:

- a session is the websocket; its first ``rerun_script`` draws the page, whose deltas carry
  the widget ids (an id ends with the widget's key); the editor (a components-v2 element,
  ``q_editor_{i}``) then acknowledges the version it shows (state value ``seen``) in a second
  run, as its JavaScript does on mount;
- a submission is one ``rerun_script`` carrying the editor's state value (``json_value``
  ``{"text": ..., "seen": version}``, what ``setStateValue`` sets) and the trigger of the Run
  button (``run_queries``) or, with ``--submit shortcut``, the editor's ``run`` event on its
  trigger aggregator (``json_trigger_value``, what ``setTriggerValue`` sends on Ctrl+Enter):
  the message Chromium sends (recorded with Playwright's ``framesent``: typing's last text goes
  out with the click, as the editor flushes on blur);
- like the browser, a session names the large elements it holds (``cached_message_hashes``),
  so the server sends references instead of the editor's bundle again;
- fragment auto-reruns (``auto_rerun`` messages) are replayed on their interval, as the
  browser does, and dropped when a whole-page run starts;
- a result is "shown" when its status line (``✅ **Query N**``) arrives in a delta.

Figures: wall time until every result is shown, server CPU (``/proc/PID/stat`` of the server
process, all threads, from the submission until every session is quiet) and script runs per
submission (``new_session`` messages: whole-page and fragment runs), counted until the result
was shown and until the session was quiet (no run going, no fragment timer, nothing arriving
for a second). Every count and wait is bounded; the server is stopped by its PID.

Scenarios (``--scenarios``, all by default): ``burst`` (N sessions x 1 query of 200 ms
submitted together), ``burst1s`` (the same with 1 s), ``batch`` (one submission of 20 tabs x
200 ms), ``warm`` (one session's warm one-query submits), ``new`` (50 new sessions, 10 at a
time, each opens the page and submits once).

``python3 -m bench.bench_ws`` prints every scenario with the settings it ran with and exits 1
when a result was not shown within its bound; ``--gc both`` repeats them with
``runner.postScriptGC`` on and off; ``--memory N`` measures the server's RSS after N sessions
each opened the page and submitted; ``--churn N`` closes N tabs at once (idle ones, then ones
still running a 2 s query) and times how long until the server holds no loop or client of
theirs, as an observer session's Resources panel reports (a page run per look); ``--submit
shortcut`` runs with Ctrl+Enter instead of the Run button.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import ROOT
from ecc.editor import sync as editor_sync
from ecc.settings.config import ConsoleSettings

STATUS_RE = re.compile(r"^(✅|❌|🚫|⌛) \*\*(Query \d+)\*\*")
# The Resources panel's caption: this session's client, then the process's loops and clients.
PROCESS_RE = re.compile(r"client (\w+) · idle .*process: (\d+) loops, (\d+) clients")
MAX_RUNNING = ConsoleSettings().max_running  # the default: this bench never changes it
QUIET_S = 1.0  # a session is quiet when nothing arrived for this long after its results
TICKS = os.sysconf("SC_CLK_TCK")
NEW_SESSIONS = 50  # scenario "new": sessions that each open the page and submit once
RUN_BUTTON = "run_queries"
# Elements whose proto carries the widget id; the id ends with "-" and the widget's key.
WIDGET_KINDS = ("button", "number_input", "text_area", "bidi_component", "checkbox")


# --- the server -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    pid: int
    port: int
    log_path: Path

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime, all threads

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/_stcore/stream"


@contextlib.contextmanager
def streamlit_server(post_script_gc: bool | None = None, *, root: Path = ROOT,
                     script: str = "streamlit_app.py",
                     env_extra: dict[str, str] | None = None) -> Iterator[Server]:
    """``streamlit run`` of the console on loopback with the fake client; stopped by PID.
    ``post_script_gc`` None keeps the shipped ``.streamlit/config.toml``. ``root``: the
    checkout to serve (its config applies); ``script``: the page, or a wrapper of it."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", script,
               "--server.address", "127.0.0.1", "--server.port", str(port),
               "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    if post_script_gc is not None:
        command += ["--runner.postScriptGC", "true" if post_script_gc else "false"]
    env = {**os.environ, "ECC_TEST_FAKE_CLIENT": "1", **(env_extra or {})}
    env.pop("GEL_DSN", None)
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115  (the server writes it until the end)
        "w+b", prefix="bench_ws_", suffix=".log", delete=False)
    proc = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(proc.pid, port, Path(log.name))
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {server.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("streamlit did not become healthy within 60 s")
            time.sleep(0.2)
        yield server
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        log.close()
        server.log_path.unlink(missing_ok=True)


# --- one browser session ----------------------------------------------------------------------
@dataclass
class Session:
    """One browser tab on the websocket. Call ``run_page`` first, then ``submit``."""

    url: str
    ws: Any = None
    widget_ids: dict[str, str] = field(default_factory=dict)  # widget key -> widget id
    values: dict[str, tuple[str, Any]] = field(default_factory=dict)  # widget id -> state
    # Each editor's component state values as its JavaScript holds them (key -> values).
    editors: dict[str, dict[str, Any]] = field(default_factory=dict)
    editor_changed: bool = False  # an editor set a state value the server has not had yet
    cached_hashes: set[str] = field(default_factory=set)  # cacheable messages received
    bytes_received: int = 0  # every websocket message, as sent
    bytes_sent: int = 0  # every BackMsg this session sent (rerun requests name cached hashes)
    # When a list: each message received, as (bytes, what it is: ``message_label``).
    ledger: list[tuple[int, str]] | None = None
    # Completion trees the page holds, by hash (the editor module's Map), and the asset URLs
    # the editors' elements name (the browser fetches each once per page).
    trees: set[str] = field(default_factory=set)
    asset_paths: set[str] = field(default_factory=set)
    started: int = 0  # script runs started (new_session messages), whole-page or fragment
    finished: int = 0  # script_finished messages
    full_runs: int = 0  # new_session messages of whole-page runs
    running: bool = False  # a run started and has not finished yet
    shown: dict[str, float] = field(default_factory=dict)  # "Query N" -> first seen (monotonic)
    process: tuple[str, int, int] | None = None  # Resources caption: own client, loops, clients
    metrics: dict[str, str] = field(default_factory=dict)  # st.metric label -> value, as drawn
    last_message: float = 0.0
    _timers: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _intervals: dict[str, float] = field(default_factory=dict)
    _reader: asyncio.Task[None] | None = None
    _finished_event: asyncio.Event = field(default_factory=asyncio.Event)

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(self.url, subprotocols=["streamlit"],  # type: ignore[list-item]
                                max_size=None, open_timeout=30, ping_interval=None)
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        if self.ws is not None:
            await self.ws.close()

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        async for raw in self.ws:
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            self.bytes_received += len(raw)
            if self.ledger is not None:
                self.ledger.append((len(raw), message_label(msg)))
            now = time.monotonic()
            self.last_message = now
            kind = msg.WhichOneof("type")
            # The browser keeps every cacheable element it received (and each one a
            # reference pointed to) and names them in its next rerun_script; held for the
            # session here (the browser ages them out after a few runs: never a cost here).
            if msg.metadata.cacheable and msg.hash:
                self.cached_hashes.add(msg.hash)
            if kind == "new_session":
                self.started += 1
                self.running = True
                if not msg.metadata.run.fragment_ids:  # a whole-page run: the browser drops
                    self.full_runs += 1  # its fragment timers; the run re-declares them
                    for timer in self._timers.values():
                        timer.cancel()
                    self._timers.clear()
                    self._intervals.clear()
            elif kind == "script_finished":
                self.finished += 1
                self.running = False
                self._finished_event.set()
            elif kind == "auto_rerun":
                fragment, interval = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
                if self._intervals.get(fragment) != interval:  # as the browser: a timer
                    old = self._timers.pop(fragment, None)  # with the same interval stays
                    if old is not None:
                        old.cancel()
                    self._intervals[fragment] = interval
                    self._timers[fragment] = asyncio.create_task(
                        self._auto_rerun(fragment, interval))
            elif kind == "stop_auto_rerun":
                for fragment in msg.stop_auto_rerun.fragment_ids:
                    self._intervals.pop(fragment, None)
                    stopped = self._timers.pop(fragment, None)
                    if stopped is not None:
                        stopped.cancel()
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._element(msg.delta.new_element, now)

    def _element(self, element: Any, now: float) -> None:
        kind = element.WhichOneof("type")
        if kind == "markdown":
            match = STATUS_RE.match(element.markdown.body)
            if match:
                self.shown.setdefault(match.group(2), now)
            process = PROCESS_RE.search(element.markdown.body)
            if process:
                self.process = (process.group(1), int(process.group(2)), int(process.group(3)))
        elif kind == "metric":
            self.metrics[element.metric.label] = element.metric.body
        elif kind in WIDGET_KINDS:
            widget_id = getattr(element, kind).id
            key = widget_id.rsplit("-", 1)[-1]
            self.widget_ids[key] = widget_id
            if kind == "bidi_component":
                self._editor_mounted(key, element.bidi_component)

    def _editor_mounted(self, key: str, component: Any) -> None:
        """What the editor's ``update`` does with its data: a text with a version it does not
        show yet replaces its document, and it sends ``text`` and ``seen`` (state values);
        a completion tree's hash is acknowledged (``schema``) once the page holds it."""
        if component.js_source_path:
            self.asset_paths.add(component.js_source_path)
        raw = component.json or component.mixed.json
        data = json.loads(raw) if raw else {}
        if not isinstance(data, dict):
            return
        state = self.editors.setdefault(key, {})
        completion = data.get("completion")
        if isinstance(completion, dict) and completion.get("hash"):
            if "tree" in completion:
                self.trees.add(completion["hash"])
            held = completion["hash"] if completion["hash"] in self.trees else ""
            if state.get("schema") != held:
                state["schema"] = held
                self.editor_changed = True
        text, version = data.get("text"), data.get("version")
        if isinstance(text, str) and version != state.get("seen"):
            before = dict(state)
            state.update(text=text, seen=version)
            self.editor_changed = self.editor_changed or state != before

    async def _auto_rerun(self, fragment: str, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self._send(fragment_id=fragment, auto=True)

    async def _send(self, *, trigger: tuple[str, str, Any] | None = None,
                    fragment_id: str = "", auto: bool = False) -> None:
        """A ``rerun_script`` with every widget value set so far, each editor's state values
        and ``trigger`` (widget id, value kind, value) for this run only."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        back = BackMsg()
        state = back.rerun_script
        state.query_string = ""
        state.page_script_hash = ""
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        state.cached_message_hashes.extend(sorted(self.cached_hashes))
        values = dict(self.values)
        for key, editor_state in self.editors.items():
            values[self.widget_ids[key]] = ("json_value", json.dumps(editor_state))
        if trigger is not None:
            values[trigger[0]] = trigger[1:]
        for widget_id, (value_kind, value) in values.items():
            widget = state.widget_states.widgets.add()
            widget.id = widget_id
            setattr(widget, value_kind, value)
        self.editor_changed = False
        raw = back.SerializeToString()
        self.bytes_sent += len(raw)
        await self.ws.send(raw)

    async def run_page(self, timeout: float = 30) -> None:
        """A whole-page run with the current widget values; returns when it finished, after
        the run the editors' acknowledgement asks for (as on mount in the browser)."""
        for _ in range(3):  # a run, the editors' answer, and one more if that changed them
            self._finished_event.clear()
            await self._send()
            await asyncio.wait_for(self._finished_event.wait(), timeout)
            if not self.editor_changed:
                return
        raise RuntimeError("the editors' state did not settle within three runs")

    def set_value(self, key: str, value_kind: str, value: Any) -> None:
        self.values[self.widget_ids[key]] = (value_kind, value)

    async def submit(self, texts: list[str], via: str = "button") -> float:
        """Type ``texts`` into the query tabs' editors and press Run (``via="button"``) or
        Ctrl+Enter in the first editor (``via="shortcut"``), in one message as the browser
        sends it; returns the send time."""
        for index, text in enumerate(texts):
            self.editors[editor_sync.editor_key(index)]["text"] = text
        if via == "button":
            trigger: tuple[str, str, Any] = (self.widget_ids[RUN_BUTTON], "trigger_value", True)
        else:
            trigger = (editor_events_id(self.widget_ids[editor_sync.editor_key(0)]),
                       "json_trigger_value",
                       json.dumps([{"event": "run", "value": {"text": texts[0]}}]))
        self.shown.clear()
        self.started = 0
        self.finished = 0
        self.full_runs = 0
        start = time.monotonic()
        await self._send(trigger=trigger)
        return start

    async def wait_shown(self, names: list[str], timeout: float) -> bool:
        """True when every one of ``names`` was shown within ``timeout``."""
        deadline = time.monotonic() + timeout
        while not all(n in self.shown for n in names):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    async def wait_quiet(self, timeout: float = 10) -> None:
        """Until no run is going, no fragment timer is pending and nothing arrived for
        ``QUIET_S``. A timer longer than ``timeout`` cannot fire while this waits (the page
        keeps a 15-minute one registered for reconnects): it does not count."""
        deadline = time.monotonic() + timeout
        while (self.running or any(i <= timeout for i in self._intervals.values())
               or time.monotonic() - self.last_message < QUIET_S):
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(0.02)


def message_label(msg: Any) -> str:
    """What a ForwardMsg is, for a byte ledger: ``element:<kind> <key or label>``,
    ``ref_hash`` (a cached element sent again as a reference), ``delta:<kind>`` or the
    message's type."""
    kind = msg.WhichOneof("type")
    if kind != "delta":
        return str(kind)
    delta_kind = msg.delta.WhichOneof("type")
    if delta_kind != "new_element":
        return f"delta:{delta_kind}"
    element = msg.delta.new_element
    element_kind = element.WhichOneof("type")
    proto = getattr(element, element_kind)
    name = (getattr(proto, "id", "") or "").rsplit("-", 1)[-1] \
        or getattr(proto, "label", "") or getattr(proto, "body", "")[:24]
    return f"element:{element_kind} {name}".rstrip()


def ledger_summary(ledger: list[tuple[int, str]], top: int = 12) -> str:
    """The ledger's bytes by label with the widget's index dropped (``q_editor_3`` counts as
    ``q_editor_N``), largest first: "label x count = bytes" per line."""
    totals: dict[str, list[int]] = {}
    for size, label in ledger:
        entry = totals.setdefault(re.sub(r"_\d+\b", "_N", label), [0, 0])
        entry[0] += 1
        entry[1] += size
    rows = sorted(totals.items(), key=lambda item: -item[1][1])[:top]
    return "\n".join(f"{label:<48} x{count:<4} {size:>8,} B" for label, (count, size) in rows)


def editor_events_id(editor_id: str) -> str:
    """The widget id of a components-v2 element's trigger aggregator: every trigger value
    (``setTriggerValue``) travels there as a JSON list of ``{"event", "value"}``. Built as
    Streamlit's ``bidi_component.main._make_trigger_id(base, "events")`` builds it."""
    from streamlit.components.v2.bidi_component.constants import EVENT_DELIM
    from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX

    return f"{STREAMLIT_INTERNAL_KEY_PREFIX}_{editor_id}{EVENT_DELIM}events"


async def open_session(url: str, tabs: int = 1) -> Session:
    session = Session(url)
    await session.open()
    await session.run_page()
    if tabs > 1:
        session.set_value("tab_count", "int_value", tabs)
        await session.run_page()
    editors = [editor_sync.editor_key(i) for i in range(tabs)]
    missing = [k for k in [RUN_BUTTON, *editors] if k not in session.widget_ids]
    unseen = [k for k in editors if "seen" not in session.editors.get(k, {})]
    if missing or unseen:
        raise RuntimeError(f"the page drew no widget for {missing}; editors without their "
                           f"data: {unseen}")
    return session


# --- scenarios --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Figures:
    wall_s: float
    cpu_s: float  # server CPU from the submission until quiet, all sessions together
    runs_to_result: float  # median script runs per session until its results were shown
    runs_total: float  # median script runs per session until it was quiet
    shown_at_s: list[float]  # each result's time after the submission, sorted
    missing: int = 0  # results not shown within the bound (30 s)


async def burst(server: Server, sessions: int, query: str, via: str) -> Figures:
    """``sessions`` open sessions each submit one ``query`` at the same moment."""
    opened = [await open_session(server.ws_url) for _ in range(sessions)]
    try:
        await asyncio.sleep(0.5)  # let the opening runs' tails settle
        cpu0 = server.cpu_s()
        starts = await asyncio.gather(*(s.submit([query], via) for s in opened))
        await asyncio.gather(*(s.wait_shown(["Query 1"], 30) for s in opened))
        to_result = [s.started for s in opened]
        await asyncio.gather(*(s.wait_quiet() for s in opened))
        cpu = server.cpu_s() - cpu0
        total = [s.started for s in opened]
        shown = sorted(s.shown["Query 1"] - t for s, t in zip(opened, starts, strict=True)
                       if "Query 1" in s.shown)
        done = max((s.shown["Query 1"] for s in opened if "Query 1" in s.shown),
                   default=math.inf)
        return Figures(done - min(starts), cpu, statistics.median(to_result),
                       statistics.median(total), shown, missing=sessions - len(shown))
    finally:
        await asyncio.gather(*(s.close() for s in opened))


async def one_batch(server: Server, queries: int, query: str, via: str) -> Figures:
    """One session submits ``queries`` tabs of ``query`` at once."""
    session = await open_session(server.ws_url, tabs=queries)
    names = [f"Query {i + 1}" for i in range(queries)]
    try:
        await asyncio.sleep(0.5)
        cpu0 = server.cpu_s()
        start = await session.submit([query] * queries, via)
        await session.wait_shown(names, 30)
        to_result = session.started
        await session.wait_quiet()
        cpu = server.cpu_s() - cpu0
        shown = sorted(session.shown[n] - start for n in names if n in session.shown)
        return Figures(shown[-1] if len(shown) == queries else math.inf, cpu, to_result,
                       session.started, shown, missing=queries - len(shown))
    finally:
        await session.close()


async def warm_submits(server: Server, repeats: int, query: str, via: str) -> Figures:
    """One session submits ``query`` ``repeats`` times after a warm-up; medians."""
    session = await open_session(server.ws_url)
    walls, cpus, runs, totals = [], [], [], []
    try:
        for attempt in range(repeats + 1):
            await session.wait_quiet()
            cpu0 = server.cpu_s()
            start = await session.submit([query], via)
            if not await session.wait_shown(["Query 1"], 30):
                raise RuntimeError("a warm submission's result did not show within 30 s")
            shown_runs = session.started
            await session.wait_quiet()
            if attempt:  # the first one warms the session's loop and client
                walls.append(session.shown["Query 1"] - start)
                cpus.append(server.cpu_s() - cpu0)
                runs.append(shown_runs)
                totals.append(session.started)
        return Figures(statistics.median(walls), statistics.median(cpus),
                       statistics.median(runs), statistics.median(totals), sorted(walls))
    finally:
        await session.close()


@dataclass(frozen=True)
class NewSessions:
    wall_s: float
    cpu_s: float
    rss_before_mib: float
    rss_after_mib: float  # 3 s after the last session left
    missing: int  # sessions whose result was not shown within 30 s


async def new_sessions(server: Server, sessions: int, via: str,
                       wave: int = 10) -> NewSessions:
    """``sessions`` new sessions each open the page, submit one query, see its result and
    leave (``wave`` at a time): wall time, server CPU, the server's RSS before and after."""
    before, cpu0, start = server.rss_mib(), server.cpu_s(), time.monotonic()
    missing = 0
    for first in range(0, sessions, wave):
        opened = await asyncio.gather(*(open_session(server.ws_url)
                                        for _ in range(min(wave, sessions - first))))
        try:
            await asyncio.gather(*(s.submit(["select Movie {title}"], via) for s in opened))
            shown = await asyncio.gather(*(s.wait_shown(["Query 1"], 30) for s in opened))
            missing += shown.count(False)
            await asyncio.gather(*(s.wait_quiet(5) for s in opened))
        finally:
            await asyncio.gather(*(s.close() for s in opened))
    wall, cpu = time.monotonic() - start, server.cpu_s() - cpu0
    await asyncio.sleep(3)  # released sessions close on helper threads
    return NewSessions(wall, cpu, before, server.rss_mib(), missing)


def print_new_sessions(fig: NewSessions, sessions: int, with_rss: bool) -> None:
    print(f"{sessions} new sessions (10 at a time) each opened the page, submitted and saw "
          f"its result: {fig.wall_s:.1f} s, server CPU {fig.cpu_s:.1f} s"
          + (f"; server RSS after: {fig.rss_after_mib:.0f} MiB (from "
             f"{fig.rss_before_mib:.0f} MiB)" if with_rss else "")
          + (f"; {fig.missing} results NOT shown within 30 s" if fig.missing else ""),
          flush=True)


@dataclass(frozen=True)
class Churn:
    held: tuple[int, int]  # (loops, clients) the tabs held just before they closed
    freed_s: float  # from closing them until the observer saw none of theirs (0 0)
    looks: int  # observer page runs it took (each one a look at the registry)
    look_s: float  # median time of one look


async def others_in_process(observer: Session) -> tuple[int, int]:
    """(loops, clients) of the process less the observer's own: one page run of the observer
    with its Resources panel on."""
    observer.process = None
    await observer.run_page()
    if observer.process is None:
        raise RuntimeError("the observer's page drew no Resources caption")
    own_client, loops, clients = observer.process
    return loops - 1, clients - (own_client == "created")


async def churn(server: Server, tabs: int, query: str, via: str, busy: bool,
                bound_s: float = 60) -> Churn:
    """``tabs`` sessions open the page and submit ``query``; then they all close at once
    (``busy``: while their queries still run). Times how long until the registry holds none
    of their loops or clients."""
    observer = await open_session(server.ws_url)
    observer.set_value("show_resources", "bool_value", True)
    opened: list[Session] = []
    try:
        for first in range(0, tabs, 10):
            opened += await asyncio.gather(*(open_session(server.ws_url)
                                             for _ in range(min(10, tabs - first))))
        await asyncio.gather(*(s.submit([query], via) for s in opened))
        deadline = time.monotonic() + bound_s
        if busy:  # every tab's query is running before the tabs close
            while True:
                await others_in_process(observer)
                if observer.metrics.get("Running (process)") == str(tabs):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("the tabs' queries did not all start")
        else:
            shown = await asyncio.gather(*(s.wait_shown(["Query 1"], 30) for s in opened))
            if not all(shown):
                raise RuntimeError("a tab's result did not show within 30 s")
            await asyncio.gather(*(s.wait_quiet(5) for s in opened))
        held = await others_in_process(observer)
        closed_at = time.monotonic()
        await asyncio.gather(*(s.close() for s in opened))
        opened = []
        looks: list[float] = []
        while True:
            look = time.monotonic()
            others = await others_in_process(observer)
            looks.append(time.monotonic() - look)
            if others == (0, 0):
                break
            if time.monotonic() > closed_at + bound_s:
                raise RuntimeError(f"{others} (loops, clients) still held {bound_s:g} s after "
                                   f"the tabs closed")
        return Churn(held, time.monotonic() - closed_at, len(looks), statistics.median(looks))
    finally:
        await asyncio.gather(*(s.close() for s in [*opened, observer]))


def print_churn(runs: list[Churn], tabs: int, what: str) -> None:
    fig = sorted(runs, key=lambda c: c.freed_s)[len(runs) // 2]
    print(f"{tabs} tabs {what} closed at once: none of their loops or clients left after "
          f"{fig.freed_s:.2f} s (median of {len(runs)}: "
          f"{[round(c.freed_s, 2) for c in runs]}); they held {fig.held[0]} loops and "
          f"{fig.held[1]} clients; seen in {fig.looks} looks of {ms(fig.look_s)} each",
          flush=True)


# --- printing ---------------------------------------------------------------------------------
def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def print_lateness(fig: Figures, ideal_s: list[float]) -> int:
    """How long after its query could at best have ended each result was shown: the i-th
    result shown against the i-th ideal end (the fake's sleeps, in waves of max_running).
    An upper bound on the delay after completion (it includes the server's own delays).
    Returns how many were shown before their query could have ended: none, unless the bench
    saw something other than this submission's results."""
    late = [shown - ideal for shown, ideal in zip(fig.shown_at_s, sorted(ideal_s), strict=False)]
    if late:
        print(f"  shown after the query's ideal end: median {ms(statistics.median(late))}, "
              f"max {ms(max(late))}", flush=True)
    early = sum(1 for d in late if d < 0)
    if early:
        print(f"  {early} results shown BEFORE their query could have ended: not this "
              f"submission's", flush=True)
    return early


def print_figures(title: str, fig: Figures, per: int) -> None:
    print(f"{title}: wall {ms(fig.wall_s)}, server CPU {fig.cpu_s:.2f} s "
          f"({fig.cpu_s / per * 1000:.0f} ms per submission), script runs per submission "
          f"{fig.runs_to_result:g} until shown / {fig.runs_total:g} in all (medians)"
          + (f"; {fig.missing} results NOT shown within 30 s" if fig.missing else ""),
          flush=True)


def median_of(runs: list[Figures]) -> Figures:
    """The repetition with the median wall time (its other figures stay consistent)."""
    return sorted(runs, key=lambda f: f.wall_s)[len(runs) // 2]


async def scenarios(server: Server, names: set[str], sessions: int, repeats: int,
                    via: str) -> int:
    """Runs and prints the scenarios in ``names``; returns how many results were not shown
    (or shown too early to be this submission's)."""
    sleep = "select sys::_sleep(0.2)"
    missing = 0

    async def repeated(title: str, run: Callable[[], Awaitable[Figures]], per: int,
                       ideal_s: list[float]) -> None:
        """Run a scenario ``repeats`` times and print its median repetition."""
        nonlocal missing
        runs = [await run() for _ in range(repeats)]
        missing += sum(f.missing for f in runs)
        fig = median_of(runs)
        print_figures(title, fig, per)
        print(f"  each shown after (ms): {[round(s * 1000) for s in fig.shown_at_s]}")
        missing += print_lateness(fig, ideal_s)

    if "burst" in names:
        await repeated(f"{sessions} sessions x 1 query of 200 ms submitted together "
                       f"(median of {repeats})", lambda: burst(server, sessions, sleep, via),
                       sessions, [0.2] * sessions)
    if "burst1s" in names:
        await repeated(f"{sessions} sessions x 1 query of 1 s submitted together "
                       f"(median of {repeats})",
                       lambda: burst(server, sessions, "select sys::_sleep(1)", via),
                       sessions, [1.0] * sessions)
    if "batch" in names:
        await repeated(f"1 submission of 20 x 200 ms (20 tabs, default max_running = 8, "
                       f"median of {repeats})", lambda: one_batch(server, 20, sleep, via),
                       1, [0.2 * (i // MAX_RUNNING + 1) for i in range(20)])
    if "warm" in names:
        fig = await warm_submits(server, 15, "select Movie {title}", via)
        print_figures("warm submit of 1 query (10 rows), median of 15", fig, 1)
    if "new" in names:
        fresh = await new_sessions(server, NEW_SESSIONS, via)
        missing += fresh.missing
        print_new_sessions(fresh, NEW_SESSIONS, with_rss=False)
    return missing


def main(argv: list[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--scenarios", default="burst,burst1s,batch,warm,new")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gc", choices=["config", "on", "off", "both"], default="config",
                        help="runner.postScriptGC: as shipped in config.toml, or forced")
    parser.add_argument("--memory", type=int, default=0,
                        help="also: server RSS after this many sessions (0: skip)")
    parser.add_argument("--churn", type=int, default=0,
                        help="also: close this many tabs at once, time until their loops and "
                        "clients are gone (0: skip)")
    parser.add_argument("--settle", type=float, default=0,
                        help="with --memory: the server's RSS again this many seconds later "
                        "(Streamlit keeps a disconnected session server.disconnectedSessionTTL, "
                        "120 s by default)")
    parser.add_argument("--submit", choices=["button", "shortcut"], default="button",
                        help="press the Run button, or Ctrl+Enter in the editor")
    args = parser.parse_args(argv)
    names = {n for n in args.scenarios.split(",") if n}
    choices: dict[str, list[bool | None]] = {"config": [None], "on": [True], "off": [False],
                                             "both": [True, False]}
    gcs = choices[args.gc]
    missing = 0
    for gc in gcs:
        label = "as in config.toml" if gc is None else ("on" if gc else "off")
        print(f"== streamlit run, fake client, default settings; runner.postScriptGC {label}; "
              f"submit with {'the Run button' if args.submit == 'button' else 'Ctrl+Enter'}",
              flush=True)
        with streamlit_server(gc) as server:
            missing += asyncio.run(scenarios(server, names, args.sessions, args.repeats,
                                             args.submit))
            if args.memory:
                fresh = asyncio.run(new_sessions(server, args.memory, args.submit))
                missing += fresh.missing
                print_new_sessions(fresh, args.memory, with_rss=True)
                if args.settle:
                    time.sleep(args.settle)
                    print(f"  server RSS {args.settle:g} s after the last left: "
                          f"{server.rss_mib():.0f} MiB", flush=True)
            if args.churn:
                for busy, query, what in (
                        (False, "select Movie {title}", "(idle: results shown)"),
                        (True, "select sys::_sleep(2)", "(each running a 2 s query)")):
                    runs = [asyncio.run(churn(server, args.churn, query, args.submit, busy))
                            for _ in range(args.repeats)]
                    print_churn(runs, args.churn, what)
    if missing:
        print(f"{missing} results were NOT shown within their bound", flush=True)
    return not missing


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
