"""A company-sized schema and many sessions: what a page rerun, a new session and a new tab
cost, before (a checkout of main) and after (this tree), measured in one run.

The schema: ``fake_schema.generated_schema`` with 2000 object types x 30 properties, 2 links
each, 100 enums, over 10 modules, served by the shipped fake client. Each checkout is served
by ``streamlit run`` of a small wrapper page (it installs the generated schema's fake, then
runs the checkout's ``streamlit_app.py``), driven over the websocket as ``bench_ws`` does
(the editors acknowledge text versions and, where the page sends them, completion trees,
as their JavaScript does):

- a page rerun where nothing changed, with 1 tab and with 10 tabs: median wall time from the
  ``rerun_script`` to ``script_finished``, and the bytes received per rerun (goal: 10 tabs
  <= 50 ms and <= 10 KB);
- a new session once the process knows the schema: time until its page settled, and the bytes
  it received (websocket, plus the editor's bundle where elements name it as an asset URL,
  fetched once per page; goal <= 420 kB);
- a new tab (1 -> 2 tabs): bytes received (goal <= 30 kB);
- memory: the server's RSS added per extra open session, 10 sessions (goal <= 1 MB);
- in-process (AppTest, a subprocess per checkout): introspection reads for 5 sessions (goal:
  1 per schema version per process) and queries in flight at a page load (the driver's pool
  opens a connection per concurrent query).

``python3 -m bench.bench_schema_scale --before /work/main`` (read-only use of that checkout).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from bench.bench_ws import Session, open_session, streamlit_server
from bench.common import (
    ROOT,
    Row,
    before_after_parser,
    load_average,
    print_before_after,
)

TYPES, PROPERTIES, MODULES, ENUMS = 2000, 30, 10, 100
EXTRA_SESSIONS = 10

WRAPPER = """\
import runpy
import sys

ROOT = {root!r}
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
import dataclasses  # noqa: E402

from ecc.fake import schema as fake_schema  # noqa: E402
from ecc.fake import client as testing  # noqa: E402
from ecc.fake.client import schema_responder  # noqa: E402
from ecc.schema.model import ScalarType  # noqa: E402

if not getattr(testing, "_bench_schema_installed", False):
    # Enums added here: main's generated_schema has no enums parameter.
    _model = fake_schema.generated_schema({types}, {properties}, {modules})
    _model = dataclasses.replace(_model, scalar_types=tuple(
        ScalarType(f"m{{i % {modules}}}::Enum{{i:03d}}", ("std::anyenum",),
                   tuple(f"V{{j}}" for j in range(5))) for i in range({enums})))
    _responder = schema_responder(_model)
    testing.use_fake(lambda: testing.FakeClient(_responder))
    testing._bench_schema_installed = True
runpy.run_path(ROOT + "/streamlit_app.py", run_name="__main__")
"""

IN_PROCESS = """\
import json, sys, time
ROOT = sys.argv[1]
sys.path.insert(0, ROOT)
from bench.common import quiet_streamlit_logs  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402
import dataclasses  # noqa: E402
from ecc.fake import schema as fake_schema  # noqa: E402
from ecc.schema import introspect  # noqa: E402
from ecc.fake import client as testing  # noqa: E402
from ecc.fake.client import schema_responder  # noqa: E402
from ecc.schema.model import ScalarType  # noqa: E402

quiet_streamlit_logs()
model = fake_schema.generated_schema({types}, {properties}, {modules})
model = dataclasses.replace(model, scalar_types=tuple(
    ScalarType(f"m{{i % {modules}}}::Enum{{i:03d}}", ("std::anyenum",),
               tuple(f"V{{j}}" for j in range(5))) for i in range({enums})))
responder = schema_responder(model)
clients = []

def factory():
    client = testing.FakeClient(responder, latency_s=0.005)
    clients.append(client)
    return client

testing.use_fake(factory)
parts = {{q.strip() for q in introspect.PARTS.values()}}
first_runs = []
for i in range(5):
    at = AppTest.from_file(ROOT + "/streamlit_app.py", default_timeout=300)
    at.secrets["connections"] = {{"gel": {{"fake_client": True}}}}
    start = time.perf_counter()
    at.run()
    first_runs.append(time.perf_counter() - start)
    deadline = time.monotonic() + 120
    while "schema_model" not in at.session_state and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
    assert not at.exception, at.exception
reads = sum(1 for c in clients for call in c.stats.calls if call[1].strip() in parts)
print(json.dumps({{
    "introspections": reads / len(parts),
    "probes": sum(1 for c in clients for call in c.stats.calls
                  if "schema::Migration" in call[1]),
    "in_flight_first_page": clients[0].stats.max_in_flight,
    "first_run_ms_first_session": first_runs[0] * 1000,
    "first_run_ms_later_sessions": sorted(first_runs[1:])[len(first_runs[1:]) // 2] * 1000,
}}))
"""


async def rerun(session: Session, timeout: float = 120) -> tuple[float, int]:
    """One whole-page rerun with nothing changed: (seconds to script_finished, bytes)."""
    await session.wait_quiet(3)
    before = session.bytes_received
    session._finished_event.clear()
    start = time.monotonic()
    await session._send()
    await asyncio.wait_for(session._finished_event.wait(), timeout)
    elapsed = time.monotonic() - start
    await session.wait_quiet(3)
    return elapsed, session.bytes_received - before


async def reruns(session: Session, count: int) -> tuple[float, float]:
    samples = [await rerun(session) for _ in range(count)]
    return (statistics.median(s for s, _ in samples) * 1000,
            statistics.median(b for _, b in samples))


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def page_figures(url: str, pid: int, bundle: int, repeats: int) -> dict[str, float]:
    out: dict[str, float] = {}
    first = await open_session(url)  # the process reads the schema here
    await first.wait_quiet(10)
    out["rerun_1_tab_ms"], out["rerun_1_tab_bytes"] = await reruns(first, repeats)
    before = first.bytes_received
    first.set_value("tab_count", "int_value", 2)
    await first.run_page(timeout=120)
    await first.wait_quiet(5)
    out["new_tab_bytes"] = first.bytes_received - before
    first.set_value("tab_count", "int_value", 10)
    await first.run_page(timeout=120)
    await first.wait_quiet(5)
    out["rerun_10_tabs_ms"], out["rerun_10_tabs_bytes"] = await reruns(first, repeats)
    # A new session once the schema is known: its page, until settled.
    start = time.monotonic()
    fresh = await open_session(url)
    out["new_session_ms"] = (time.monotonic() - start) * 1000
    await fresh.wait_quiet(5)
    out["new_session_bytes"] = fresh.bytes_received + (bundle if fresh.asset_paths else 0)
    await fresh.close()
    await asyncio.sleep(2)
    rss0 = rss_mib(pid)
    extra = [await open_session(url) for _ in range(EXTRA_SESSIONS)]
    await asyncio.gather(*(s.wait_quiet(5) for s in extra))
    out["rss_per_session_mib"] = (rss_mib(pid) - rss0) / EXTRA_SESSIONS
    await asyncio.gather(*(s.close() for s in extra))
    await first.close()
    return out


def measure(root: Path, repeats: int) -> dict[str, float]:
    # dist/editor.js before content-hashed names, dist/editor.<hash>.js after: the one file.
    bundle = sum(f.stat().st_size for f in (root / "frontend" / "edgeql_editor" / "dist")
                 .glob("editor*.js"))
    with tempfile.TemporaryDirectory(prefix="bench_schema_scale_") as tmp:
        wrapper = Path(tmp) / "bench_page.py"
        wrapper.write_text(WRAPPER.format(root=str(root), types=TYPES, properties=PROPERTIES,
                                          modules=MODULES, enums=ENUMS))
        with streamlit_server(root=root, script=str(wrapper)) as server:
            figures = asyncio.run(page_figures(server.ws_url, server.pid, bundle, repeats))
        print(f"  {root}: page figures {json.dumps(figures)}", flush=True)
        script = Path(tmp) / "in_process.py"
        script.write_text(textwrap.dedent(IN_PROCESS.format(
            types=TYPES, properties=PROPERTIES, modules=MODULES, enums=ENUMS)))
        done = subprocess.run([sys.executable, str(script), str(root)], cwd=root,
                              capture_output=True, text=True, timeout=900)
        if done.returncode:
            raise RuntimeError(f"the in-process part failed: {done.stderr[-3000:]}")
        figures.update(json.loads(done.stdout.strip().splitlines()[-1]))
    return figures


ROWS: list[Row] = [
    # key, label, unit, goal (after)
    ("rerun_1_tab_ms", "page rerun, nothing changed, 1 tab", "ms", None),
    ("rerun_1_tab_bytes", "  bytes sent per rerun", "B", None),
    ("rerun_10_tabs_ms", "page rerun, nothing changed, 10 tabs", "ms", 50),
    ("rerun_10_tabs_bytes", "  bytes sent per rerun", "B", 10_000),
    ("new_session_ms", "new session (schema known): page settled", "ms", None),
    ("new_session_bytes", "  bytes it received (websocket + bundle file)", "B", 420_000),
    ("new_tab_bytes", "new tab (1 -> 2 tabs): bytes", "B", 30_000),
    ("rss_per_session_mib", f"server RSS per extra open session ({EXTRA_SESSIONS})", "MiB", 1),
    ("introspections", "schema introspections, 5 sessions, 1 process", "reads", 1),
    ("probes", "  schema probes meanwhile", "", None),
    ("in_flight_first_page", "queries in flight at the first page load (pool connections)",
     "", 2),
    ("first_run_ms_first_session", "first page run, first session (AppTest)", "ms", None),
    ("first_run_ms_later_sessions", "first page run, later sessions (AppTest, median)", "ms",
     None),
]


def main(argv: list[str] | None = None) -> bool:
    args = before_after_parser(__doc__).parse_args(argv)
    print(f"schema: {TYPES} object types x {PROPERTIES} properties, 2 links each, {ENUMS} "
          f"enums, {MODULES} modules; load average {load_average()} on {os.cpu_count()} cores",
          flush=True)
    results: dict[str, dict[str, float]] = {}
    if args.before is not None:
        results["before"] = measure(args.before.resolve(), args.repeats)
        print(f"before measured; load average {load_average()}", flush=True)
    results["after"] = measure(ROOT, args.repeats)
    print(f"after measured; load average {load_average()}", flush=True)
    return print_before_after(results, ROWS)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
