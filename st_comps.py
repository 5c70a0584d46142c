"""The page's widgets. Each function draws one part; none of them talks to the database.

Invariant: nothing here runs inside a query task. Queries run on the session's loop; these
functions only read immutable ``RunRecord`` snapshots and draw them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st
from streamlit.components.v2.bidi_component.constants import EVENT_DELIM
from streamlit.delta_generator import DeltaGenerator
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.state.common import is_keyed_element_id, user_key_from_element_id
from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX

from ecc.arguments.params import QueryParameter, scan_parameters
from ecc.arguments.typed_inputs import TypedInputs
from ecc.display import charts, plans, results
from ecc.display.plans import is_analyze_query, plan_document
from ecc.display.safe_text import escape_markdown, label_markdown
from ecc.driver.errors import ErrorView
from ecc.editor import sync as editor_sync
from ecc.editor.language import language_data
from ecc.running.runs import RunPhases, RunRecord
from ecc.running.sessions import RegistryTotals, RuntimeStatus
from ecc.schema import view as schema_view
from ecc.schema.model import ObjectType, SchemaModel, short_name
from ecc.schema.store import CompletionTree
from ecc.settings.config import ConsoleSettings
from st_data_structures import CARDINALITY_LABELS, FormContent, QueryTabContent, UserPrefs

T = TypeVar("T")

DOCS_LINKS = (
    ("EdgeQL overview", "https://docs.geldata.com/reference/edgeql"),
    ("Query parameters", "https://docs.geldata.com/reference/edgeql/parameters"),
    ("Python driver", "https://docs.geldata.com/reference/clients/python"),
)
STATUS_ICONS = {
    "queued": "⏳",
    "running": "🔄",
    "done": "✅",
    "failed": "❌",
    "cancelled": "🚫",
    "timed out": "⌛",
}

SETUP_TEXT = """
**This console is not connected to a database yet.** Tell it where your Gel (EdgeDB) server is
in `.streamlit/secrets.toml` (on Streamlit Community Cloud: *App settings → Secrets*):

```toml
[connections.gel]
dsn = "gel://USER:PASSWORD@HOST:5656/BRANCH"   # or: instance = "...", secret_key = "..."
# or: host = "...", port = 5656, user = "admin", password = "...", branch = "main"
# tls_security = "strict"        # "insecure" only for local development
```

Or set the driver's environment variables (`GEL_DSN`, or `GEL_HOST`/`GEL_PORT`/`GEL_USER`/
`GEL_PASSWORD`/`GEL_BRANCH`), then reload this page. See `.streamlit/secrets.toml.example`
for every setting, and the README for deployment.
"""


def setup_panel(problem: str | None = None) -> None:
    st.title("Gel query console")
    if problem:
        st.error(f"The console's settings need fixing: {escape_markdown(problem)}", icon="⚙️")
    st.info(SETUP_TEXT, icon="🔌")


def render_error(view: ErrorView) -> None:
    """The one error component: class, message, caret excerpt, hint, details. Every part can
    come from the server or the user's text, so each is escaped (or shown as code)."""
    subject = f"{view.subject}: " if view.subject and view.subject not in view.message else ""
    st.error(f"**{escape_markdown(view.title)}** — {escape_markdown(subject + view.message)}",
             icon="⚠️")
    if view.excerpt:
        where = f"line {view.line}, column {view.column}" if view.line else "here"
        st.code(view.excerpt, language=None)
        st.caption(f"Error at {where}.")
    if view.hint:
        st.caption(f"Hint: {escape_markdown(view.hint)}")
    if view.details:
        # Plain text: the server's or driver's words keep their lines and are never Markdown.
        st.caption("Details:")
        st.text(view.details)
    if view.retryable:
        st.caption("Retrying may help.")


InputsFor = Callable[[str], TypedInputs]


def submitted_form(tab_count: int, inputs_for: InputsFor, *, max_query_chars: int = 100_000
                   ) -> FormContent | ErrorView | None:
    """What this run submits, read before anything is drawn (so the batch is queued first and
    runs while the page draws): the form's content when Run, Analyze or Ctrl/Cmd+Enter started
    this run (their values come with the run), the refusal when a text is too long, else None.
    Every value is what the widgets hold; ``query_form`` then draws the same values."""
    state = st.session_state
    clicked = state.get("run_queries") is True
    analyze = state.get("analyze_queries") is True
    requested = editor_sync.take_run_request(state)  # once per Ctrl/Cmd+Enter
    if not (clicked or requested or analyze):
        return None
    tabs = tuple(_tab_content(index, inputs_for, max_query_chars) for index in range(tab_count))
    too_long = [i for i, tab in enumerate(tabs, start=1) if len(tab.text) > max_query_chars]
    if too_long:
        return ErrorView(kind="input", title="Query too long",
                         message=f"Nothing was run: query {', '.join(map(str, too_long))} is "
                         f"longer than {max_query_chars:,} characters (max_query_chars).")
    return FormContent(tabs=tabs, analyze=analyze and not (clicked or requested))


def _tab_content(index: int, inputs_for: InputsFor, max_query_chars: int) -> QueryTabContent:
    """Tab ``index`` as its widgets hold it (state of the previous draw, or their defaults)."""
    default = QueryTabContent()
    state = st.session_state

    def held(key: str, fallback: Any) -> Any:
        value = state.get(f"{key}_{index}")
        return fallback if value is None else value

    text = held("q_text", default.text)
    text = text if isinstance(text, str) else ""
    mode = str(held("q_mode", default.mode))
    raw: dict[str, str | bool | None] = {}
    if mode == "typed" and len(text) <= max_query_chars:
        memory = state.get("param_memory", {})
        for param in inputs_for(text).parameters:
            key = f"p_{index}_{param.name}"
            raw[param.name] = state[key] if key in state else \
                _param_default(param, memory.get(param.name))
    return QueryTabContent(
        text=text,
        args_text=str(held("q_args", default.args_text)) if mode == "text" else "",
        kwargs_text=str(held("q_kwargs", default.kwargs_text)) if mode == "text" else "",
        cardinality=str(held("q_card", default.cardinality)),
        as_json=bool(held("q_json", default.as_json)),
        mode=mode,
        raw_params=raw,
    )


def query_form(tab_count: int, inputs_for: InputsFor, *, max_query_chars: int = 100_000,
               completion: CompletionTree | None = None) -> None:
    """The query editors (one per tab) and the Run button; no ``st.form``, so typed inputs
    and the argument-language fields follow the text as it is typed. Run (button, or
    Ctrl/Cmd+Enter in an editor) is the only way a query is sent: ``submitted_form`` reads
    it before the page is drawn."""
    containers = st.tabs([f"Query {i + 1}" for i in range(tab_count)]) if tab_count > 1 \
        else [st.container()]
    for index, box in enumerate(containers):
        with box:
            _query_tab(index, tab_count, inputs_for, max_query_chars, completion)
    run_col, analyze_col, _ = st.columns([1, 1, 6])
    run_col.button("Run", type="primary", icon="▶️", key="run_queries",
                   help="Or Ctrl/Cmd+Enter in the editor.")
    analyze_col.button(
        "Analyze", icon="🔬", key="analyze_queries", help="Runs `analyze` of the query: its "
        "plan, with the time each part took (the query itself runs, under the same read-only "
        "rules).")


def _query_tab(index: int, tab_count: int, inputs_for: InputsFor, max_query_chars: int,
               completion: CompletionTree | None) -> QueryTabContent:
    # Defaults go into session state, never as value=: history and shared links set these
    # keys too, and a widget may not get both.
    default = QueryTabContent()
    state = st.session_state
    for key, value in (("q_mode", default.mode), ("q_text", default.text),
                       ("q_card", default.cardinality), ("q_json", default.as_json),
                       ("q_args", default.args_text), ("q_kwargs", default.kwargs_text)):
        widget_default(f"{key}_{index}", value)  # never over a value the browser sent
    mode = st.segmented_control(
        "Arguments", ["typed", "text"], key=f"q_mode_{index}",
        format_func=lambda m: {"typed": "Typed inputs", "text": "Argument language (advanced)"}[m],
        label_visibility="collapsed",
    ) or "typed"
    text = state.get(f"q_text_{index}")
    text = text if isinstance(text, str) else ""
    args_text, kwargs_text = default.args_text, default.kwargs_text
    raw_params: dict[str, str | bool | None] = {}
    inputs: TypedInputs | None = None
    if len(text) > max_query_chars:
        params: list[str] = []
    elif mode == "typed":
        inputs = inputs_for(text)
        params = [p.name for p in inputs.parameters]
    else:
        params = parameter_names(index, text)
    query_editor(
        editor_data(index, tab_count, params, completion, max_query_chars), index)
    if len(text) > max_query_chars:
        st.error(f"This query is {len(text):,} characters long; the limit is "
                 f"{max_query_chars:,} (max_query_chars). Shorten it: it will not run.",
                 icon="✂️")
    elif inputs is not None:
        raw_params = typed_parameter_inputs(index, inputs)
    elif mode == "text":
        args_text, kwargs_text = _argument_text_areas(index)
    # One horizontal block, not columns (three blocks): every block goes out again on every
    # rerun (~100 B each, never cached), and a page draws this row once per tab.
    row = st.container(horizontal=True, horizontal_alignment="distribute",
                       vertical_alignment="bottom")
    cardinality = row.radio(
        "Result cardinality",
        options=list(CARDINALITY_LABELS),
        key=f"q_card_{index}",
        horizontal=True,
    )
    as_json = row.toggle("JSON", key=f"q_json_{index}")
    return QueryTabContent(
        text=text,
        args_text=args_text or "",
        kwargs_text=kwargs_text or "",
        cardinality=str(cardinality),
        as_json=bool(as_json),
        mode=str(mode),
        raw_params=raw_params,
    )


def _argument_text_areas(index: int) -> tuple[str, str]:
    left, right = st.columns(2)
    args_text = left.text_area(
        "Positional arguments ($0, $1 …)",
        key=f"q_args_{index}",
        height=68,
        placeholder="2014, 'text', uuid('…'), [1, 2]",
        help="Comma or newline separated values in the argument language (see the README).",
    )
    kwargs_text = right.text_area(
        "Named arguments ($name)",
        key=f"q_kwargs_{index}",
        height=68,
        placeholder="title = 'Dune'\nsince = datetime('2024-01-01T00:00:00Z')",
    )
    return args_text or "", kwargs_text or ""


PLACEHOLDERS = {
    "std::datetime": "2024-02-29T12:30:00Z",
    "cal::local_date": "2024-02-29",
    "cal::local_time": "12:30:00",
    "cal::local_datetime": "2024-02-29T12:30:00",
    "std::duration": "PT1H30M or 1 hour 30 minutes",
    "cal::relative_duration": "P1M2D",
    "cal::date_duration": "P1M2D",
    "std::uuid": "00000000-0000-0000-0000-000000000000",
    "std::json": '{"key": [1, 2]}',
    "std::bytes": "hex, e.g. 68656c6c6f",
    "std::decimal": "1.50",
}


def typed_parameter_inputs(index: int, inputs: TypedInputs) -> dict[str, str | bool | None]:
    """One input per parameter. Values are remembered by parameter name in the session, so
    they survive edits of the query and reruns."""
    for note in inputs.notes:
        st.info(f"The server's description wins: {escape_markdown(note)}", icon="ℹ️")
    for problem in inputs.problems:
        st.warning(escape_markdown(problem), icon="⚠️")
    memory: dict[str, str | bool | None] = st.session_state.setdefault("param_memory", {})
    raw: dict[str, str | bool | None] = {}
    if not inputs.parameters:
        return raw  # no empty block: it would go out on every rerun, once per tab
    columns = st.columns(2) if len(inputs.parameters) > 1 else [st.container()]
    for position, param in enumerate(inputs.parameters):
        box = columns[position % len(columns)]
        # Names and types come from the query text (a shared link's too): a label is Markdown.
        label = label_markdown(
            f"${param.name} · {'optional ' if param.optional else ''}{param.type.label()}"
        )
        key = f"p_{index}_{param.name}"
        remembered = _param_default(param, memory.get(param.name))
        if param.type.name == "std::bool" and not param.optional:
            value: str | bool | None = box.checkbox(label, value=bool(remembered), key=key)
        elif param.type.kind == "enum" and param.type.enum_members:
            options: list[str] = _enum_options(param)
            value = box.selectbox(label, options, index=options.index(str(remembered)), key=key)
        else:
            value = box.text_input(
                label, value=str(remembered), key=key,
                placeholder=PLACEHOLDERS.get(param.type.name, param.type.label()),
                help="Leave empty to send the empty set." if param.optional else None,
            )
        raw[param.name] = value
        memory[param.name] = value
    return raw


def _enum_options(param: QueryParameter) -> list[str]:
    return ([""] if param.optional else []) + list(param.type.enum_members)


def _param_default(param: QueryParameter, remembered: str | bool | None) -> str | bool:
    """What an input of ``param`` shows before it is touched: the remembered value as that
    widget holds it (a checkbox's bool, a valid enum choice, text)."""
    if param.type.name == "std::bool" and not param.optional:
        return bool(remembered)
    if param.type.kind == "enum" and param.type.enum_members:
        options = _enum_options(param)
        return remembered if isinstance(remembered, str) and remembered in options \
            else options[0]
    return "" if remembered is None else str(remembered)


def format_elapsed(seconds: float) -> str:
    """One format everywhere: milliseconds under a second, then seconds with one decimal."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def render_record(record: RunRecord, prefs: UserPrefs, now: float) -> None:
    """One run: its status line, then its result or its error."""
    elapsed = record.elapsed_s(now)
    elapsed_text = format_elapsed(elapsed) if elapsed is not None else "not started"
    method = record.request.method.value
    icon = STATUS_ICONS[record.status]
    if record.result is not None:
        result = record.result
        shown = min(prefs.row_limit, result.kept_rows)
        rows = f"{result.total_rows:,} row{'s' if result.total_rows != 1 else ''}"
        if result.more_rows:
            rows = f"showing {shown:,} of more than {result.kept_rows:,} rows"
        elif result.total_rows > shown:
            rows = f"showing {shown:,} of {result.total_rows:,} rows"
        st.markdown(f"{icon} **{record.request.name}** · {rows} · {elapsed_text} · `{method}()`"
                    + phases_suffix(record.phases))
        if result.more_rows:
            st.caption(
                f"The result was cut: the server sent the first {result.kept_rows:,} rows "
                "(max_kept_rows) and stopped. Add a filter or a limit to see the rest; "
                "downloads hold those rows."
            )
        elif result.truncated:
            st.caption(
                f"The session keeps the first {result.kept_rows:,} rows; downloads hold those."
            )
        _render_result(record, result, prefs)
    else:
        st.markdown(f"{icon} **{record.request.name}** · {record.status} · {elapsed_text} "
                    f"· `{method}()`" + phases_suffix(record.phases))
        if record.error is not None:
            render_error(record.error)
        elif record.not_kept is not None:
            st.warning(record.not_kept.message(), icon="📦")  # numbers only: no escaping
        elif record.result_dropped:
            st.caption("This result is no longer kept in memory; run the query again.")


def _render_result(record: RunRecord, result: results.ShapedResult, prefs: UserPrefs) -> None:
    view = prefs.view
    analyze = is_analyze_query(record.request.query)
    if analyze and view in ("table", "chart"):
        plan_view(record, result)
    elif analyze and view == "json" and (found := plan_document(result.value)) is not None:
        st.json(found[1], expanded=1)  # the whole answer, parsed (not one long string)
    elif view == "chart":
        result_chart(record, result, prefs)
    elif view == "json":
        st.json(results.to_plain(_limited(result.value, prefs.row_limit)), expanded=2)
    elif view == "text":
        st.code(results.driver_text(result, prefs.row_limit), language=None)
    else:
        table = results.table_data(result, prefs.row_limit)
        config = {name: st.column_config.JsonColumn(name) for name in table.json_columns}
        st.dataframe(table.columns, column_config=config or None, hide_index=False)
    d1, d2, _ = st.columns([1, 1, 4])
    d1.download_button(
        "CSV", data=_lazy(results.to_csv_text, result), file_name=f"result-{record.run_id}.csv",
        mime="text/csv", key=f"csv_{record.run_id}", on_click="ignore", icon="⬇️",
    )
    d2.download_button(
        "JSON", data=_lazy(results.to_json_text, result),
        file_name=f"result-{record.run_id}.json", mime="application/json",
        key=f"json_{record.run_id}", on_click="ignore", icon="⬇️",
    )


def _lazy(render: Callable[[results.ShapedResult], str], result: results.ShapedResult
          ) -> Callable[[], str]:
    return lambda: render(result)


def _limited(value: object, limit: int) -> object:
    return value[:limit] if isinstance(value, list) else value


def running_list(active: list[RunRecord], now: float,
                 on_cancel: Callable[[list[int] | None], None]) -> None:
    """Queued and running queries with live elapsed times and cancel buttons."""
    running_rows(active, now, on_cancel)


def running_line(record: RunRecord, now: float) -> str:
    """One run's line in the running list (its name, run id, status and elapsed time)."""
    elapsed = record.elapsed_s(now)
    waited = now - record.submitted_at
    timing = format_elapsed(elapsed) if elapsed is not None else \
        f"queued {format_elapsed(waited)}"
    return (f"{STATUS_ICONS[record.status]} **{record.request.name}** "
            f"(run {record.run_id}) · {record.status} · {timing}")


@dataclass
class RunningRows:
    """The running list's slots, for a page run that refreshes them while it streams."""

    header: DeltaGenerator
    lines: dict[int, DeltaGenerator]  # run id -> its line


def running_rows(active: list[RunRecord], now: float,
                 on_cancel: Callable[[list[int] | None], None]) -> RunningRows:
    """The running list, each heading and line in a slot that can be redrawn in place."""
    header = st.empty()
    header.subheader(f"Running ({len(active)})")
    lines: dict[int, DeltaGenerator] = {}
    for record in active:
        c1, c2 = st.columns([6, 1])
        lines[record.run_id] = c1.empty()
        lines[record.run_id].markdown(running_line(record, now))
        c2.button("Cancel", key=f"cancel_{record.run_id}", on_click=on_cancel,
                  args=([record.run_id],))
    if len(active) > 1:
        st.button("Cancel all", key="cancel_all", on_click=on_cancel, args=(None,))
    return RunningRows(header, lines)


def history_table(records: list[RunRecord]) -> None:
    rows = {
        "run": [r.run_id for r in records],
        "status": [r.status for r in records],
        "query": [r.request.query[:200] for r in records],
        "arguments": [_args_summary(r) for r in records],
        "method": [r.request.method.value for r in records],
        "elapsed ms": [
            round((r.elapsed_s() or 0) * 1000, 1) if not r.active else None for r in records
        ],
        "rows": [r.rows for r in records],
        "submitted": [time.strftime("%H:%M:%S", time.localtime(r.submitted_wall))
                      for r in records],
        **{f"{label} ms": [_phase_ms(r.phases, name) for r in records]
           for name, label in RunPhases.LABELS},
    }
    st.dataframe(rows, hide_index=True)


def _args_summary(record: RunRecord) -> str:
    request = record.request
    return "; ".join(t for t in (request.args_text.strip(), request.kwargs_text.strip()) if t)


def history_json(records: list[RunRecord]) -> str:
    return json.dumps(
        [
            {
                "run": r.run_id,
                "status": r.status,
                "query": r.request.query,
                "positional_arguments": r.request.args_text,
                "named_arguments": r.request.kwargs_text,
                "method": r.request.method.value,
                "elapsed_s": r.elapsed_s(),
                "rows": r.rows,
                "submitted": time.strftime("%Y-%m-%dT%H:%M:%S%z",
                                           time.localtime(r.submitted_wall)),
                "error": r.error.message if r.error else None,
                "phases_s": dict(r.phases.items()),
            }
            for r in records
        ],
        indent=2,
    )


def resources_panel(status: RuntimeStatus, totals: RegistryTotals) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("My queries", status.query_count)
    c2.metric("My running", status.active_runs)
    c3.metric("Sessions (process)", totals.sessions)
    c4.metric("Running (process)", totals.active_runs)
    st.caption(
        f"Session token `{status.token[:8]}…` · loop "
        f"{'running' if status.loop_alive else 'stopped'}"
        f" (restarts: {status.loop_restarts}) · client {status.client_state} · idle "
        f"{status.idle_s:.0f} s · process: {totals.live_loops} loops, {totals.clients} clients, "
        f"{totals.queries} queries, {totals.reaped} reaped, {totals.released} released"
    )


def connection_summary(settings: ConsoleSettings, *, sign_in_required: bool = False) -> None:
    mode = settings.shown_connection(sign_in_required)
    summary = settings.connection.summary_shown(mode)
    if settings.fake_client:
        summary = {"client": "test fake (no database)", **summary}
    lines = "\n".join(f"- {key}: `{value}`" for key, value in summary.items())
    empty = "- the driver's defaults" if mode == "full" else "- server details not shown"
    st.markdown("**Connection**\n\n" + (lines or empty))
    st.caption(
        f"Read-only: {'on' if settings.read_only else 'off (writes allowed)'} · query timeout "
        f"{settings.query_timeout_s:g} s · connect wait {settings.connect_wait_s:g} s · "
        f"idle reclaim after {settings.idle_threshold_s:g} s · up to {settings.max_running} "
        "running queries per session"
    )


def docs_links() -> None:
    st.markdown(" · ".join(f"[{label}]({url})" for label, url in DOCS_LINKS))


# --- schema explorer --------------------------------------------------------------------------
SCHEMA_SECTIONS = ("Object types", "Scalar types", "Functions", "Aliases & globals", "Graph")


def schema_summary(model: SchemaModel, read_ago_s: float | None) -> None:
    """Counts, how long the read took, and what could not be read (server text escaped)."""
    counts = " · ".join(_counted(n, label) for label, n in model.counts().items())
    ago = f" · read {format_elapsed(read_ago_s)} ago" if read_ago_s is not None else ""
    st.caption(f"{counts} · introspection took {format_elapsed(model.read_s)}{ago}")
    for problem in model.problems:
        st.warning(f"Could not read the schema's {problem.part}: "
                   f"{escape_markdown(problem.message)}. The rest is shown.",
                   icon="🔒")


def _counted(n: int, plural: str) -> str:
    singular = {"aliases": "alias", "globals": "global"}.get(plural, plural.removesuffix("s"))
    return f"{n} {plural if n != 1 else singular}"


def schema_matches(view: schema_view.SchemaView) -> None:
    """The search's matches, the matched part highlighted (everything else escaped)."""
    if not view.search:
        return
    if not view.match_count:
        st.caption("Nothing in the shown modules matches the search.")
        return
    more = view.match_count - len(view.matches)
    st.caption(f"{view.match_count} match{'es' if view.match_count != 1 else ''}"
               + (f" (first {len(view.matches)} listed)" if more > 0 else ""))
    lines = [
        f"- {m.kind} **{escape_markdown(m.where)}** {m.field}: "
        f"{schema_view.highlight_markdown(m.text, m.start, m.end)}"
        for m in view.matches
    ]
    with st.container(height=220 if len(lines) > 8 else "content"):
        st.markdown("\n".join(lines))


def schema_object_types(view: schema_view.SchemaView) -> None:
    if not view.object_types:
        st.caption("No object types here.")
        return
    st.dataframe(schema_view.object_type_columns(view.object_types), hide_index=True)


def schema_type_details(model: SchemaModel, t: ObjectType,
                        on_query: Callable[[], None]) -> None:
    """One type: its fully qualified name (st.code has a copy button), bases, subtypes,
    annotations, properties and links, and the rest of its definition."""
    c1, c2 = st.columns([3, 1])
    with c1:
        st.code(t.name, language=None)
    c2.button("Query this type", key="schema_query_type", on_click=on_query, icon="📝",
              help="Puts a select of this type's properties into the first query tab.")
    facts = [("abstract", "yes" if t.abstract else "no"),
             ("extends", ", ".join(t.bases) or "—"),
             ("subtypes", ", ".join(model.subtypes(t.name)) or "—")]
    facts += [(short_name(a.name), a.value) for a in t.annotations]
    st.dataframe({"": [k for k, _ in facts], "value": [v for _, v in facts]},
                 hide_index=True)
    if t.pointers:
        # Narrow columns for flags, room for type names and expressions; every row shown.
        small = {name: st.column_config.Column(width="small")
                 for name in ("kind", "cardinality", "required", "readonly")}
        st.dataframe(schema_view.pointer_columns(t), hide_index=True, height="content",
                     column_config={**small, "type": st.column_config.Column(width="medium"),
                                    "constraints": st.column_config.Column(width="medium")})
    extras = [("constraint", schema_view.constraint_text(c)) for c in t.constraints]
    extras += [("index", expr) for expr in t.indexes]
    extras += [("access policy", name) for name in t.access_policies]
    extras += [("trigger", name) for name in t.triggers]
    extras += [("rewrite", name) for name in t.rewrites]
    if extras:
        st.dataframe({"kind": [k for k, _ in extras], "definition": [v for _, v in extras]},
                     hide_index=True)


def schema_scalars(view: schema_view.SchemaView) -> None:
    if not view.scalar_types:
        st.caption("No scalar types here.")
        return
    st.dataframe(schema_view.scalar_columns(view.scalar_types), hide_index=True)


def schema_functions(view: schema_view.SchemaView) -> None:
    if not view.functions:
        st.caption("No user-defined functions here.")
        return
    st.dataframe(schema_view.function_columns(view.functions), hide_index=True)


def schema_aliases_and_globals(view: schema_view.SchemaView, extensions: tuple[str, ...]
                               ) -> None:
    if view.aliases:
        st.dataframe(schema_view.alias_columns(view.aliases), hide_index=True)
    if view.globals:
        st.dataframe(schema_view.global_columns(view.globals), hide_index=True)
    if not (view.aliases or view.globals):
        st.caption("No aliases or globals here.")
    st.caption("Extensions of this branch:")
    st.text(", ".join(extensions) if extensions else "none")


def schema_graph(dot: str) -> None:
    st.graphviz_chart(dot, width="stretch")


# --- where the time went, charts and plans ----------------------------------------------------
def phases_suffix(phases: RunPhases) -> str:
    """`` · ⏱ queued 0 ms / describe 3 ms / server 120 ms / shaping 1 ms`` (empty if none)."""
    items = phases.items()
    if not items:
        return ""
    return " · ⏱ " + " / ".join(f"{label} {format_elapsed(s)}" for label, s in items)


def _phase_ms(phases: RunPhases, name: str) -> float | None:
    value: float | None = getattr(phases, name)
    return None if value is None else round(value * 1000, 1)


_NO_Y = "(count of rows)"
_NO_COLOUR = "(none)"


def result_chart(record: RunRecord, result: results.ShapedResult, prefs: UserPrefs) -> None:
    """The chart view: pickers for chart type, x, y and colour (per run), then the chart."""

    model = _per_run("chart_models", record, lambda: charts.chart_model(result))
    if not model.chartable:
        st.info("Nothing to chart: this result has no numeric or date/time column. "
                "Here is its table.", icon="📊")
        _chart_notes(model.notes)
        table = results.table_data(result, prefs.row_limit)
        st.dataframe(table.columns, hide_index=False)
        return
    default = charts.default_choice(model)
    assert default is not None  # chartable
    key = f"chart_{record.run_id}"
    names = charts.column_names(model)
    y_names = [_NO_Y, *charts.column_names(model, ("quantitative", "temporal"))]
    colour_names = [_NO_COLOUR, *names]
    c1, c2, c3, c4 = st.columns(4)
    chart = c1.selectbox("Chart", charts.CHART_TYPES, key=f"{key}_type",
                         index=charts.CHART_TYPES.index(default.chart))
    x = c2.selectbox("x", names, key=f"{key}_x", index=names.index(default.x))
    y = c3.selectbox("y", y_names, key=f"{key}_y",
                     index=y_names.index(default.y) if default.y in y_names else 0)
    colour = c4.selectbox("Colour", colour_names, key=f"{key}_colour",
                          index=colour_names.index(default.colour) if default.colour else 0)
    choice = charts.choice_from(model, str(chart), x, None if y == _NO_Y else y,
                                None if colour == _NO_COLOUR else colour)
    if choice is None:
        return
    try:
        spec = _per_run_choice("chart_specs", record, choice, lambda: _without_data(
            charts.chart_spec(model, choice)))
    except ValueError as exc:
        st.warning("This chart cannot be drawn with these columns.", icon="⚠️")
        st.text(str(exc))
        return
    # The rows go as the Arrow table Streamlit would make of them, made once per run: a rerun
    # only writes it out again (about 1 ms for 20 000 rows instead of a DataFrame's build).
    table = _per_run("chart_tables", record, lambda: _arrow_table(model.values))
    st.vega_lite_chart(table, spec, width="stretch", key=f"{key}_vega")
    shown = f"{model.charted_rows:,} row{'s' if model.charted_rows != 1 else ''}"
    of = f" of {model.total_rows:,}" if model.total_rows != model.charted_rows else ""
    st.caption(f"Charting {shown}{of}. The chart's menu (⋯) saves it as PNG or SVG.")
    _chart_notes(model.notes)


# Per-run caches: what a result's views are built from, made once per run and session. They are
# sized to what the page can show: ``keep_result_caches`` (each page run) keeps the entries of
# runs whose result the session still keeps (at most ``max_kept_results``); the bound below
# only guards against a caller that never prunes.
_PER_RUN_CACHES = ("chart_models", "chart_tables", "chart_specs", "plans", "plan_specs")
_PER_RUN_KEPT = 256


def keep_result_caches(records: list[RunRecord]) -> None:
    """Drop the per-run cache entries of runs whose result is no longer kept (of
    ``records``: the session's run book)."""
    kept = {(r.run_id, r.submitted_wall) for r in records if r.result is not None}
    for name in _PER_RUN_CACHES:
        cache = st.session_state.get(f"ecc_{name}")
        if cache:
            for key in [k for k in cache if k not in kept]:
                del cache[key]


def _per_run(name: str, record: RunRecord, build: Callable[[], T]) -> T:
    """``build()`` once per run and session: a rerun (every poll of the results) reuses it.
    A finished run's result never changes; the submission time is in the key because run
    ids start again at 1 when a session's runtime is rebuilt."""
    cache: dict[tuple[int, float], Any] = st.session_state.setdefault(f"ecc_{name}", {})
    key = (record.run_id, record.submitted_wall)
    if key not in cache:
        if len(cache) >= _PER_RUN_KEPT:
            cache.pop(next(iter(cache)))
        cache[key] = build()
    value: T = cache[key]
    return value


def _per_run_choice(name: str, record: RunRecord, choice: object, build: Callable[[], T]) -> T:
    """Like ``_per_run``, for what also depends on the user's ``choice`` (chart type,
    columns, picked node): the last choice's value per run is kept."""
    kept: tuple[object, T] = _per_run(name, record, lambda: (choice, build()))
    if kept[0] != choice:
        kept = (choice, build())
        st.session_state[f"ecc_{name}"][(record.run_id, record.submitted_wall)] = kept
    return kept[1]


def _without_data(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k != "data"}


def _arrow_table(values: tuple[dict[str, object], ...]) -> Any:
    """The chart's rows as the Arrow table ``st.vega_lite_chart`` would build from them."""
    import pyarrow as pa
    from streamlit import dataframe_util

    data = dataframe_util.convert_anything_to_arrow_bytes(list(values))
    return pa.ipc.open_stream(data).read_all()


def _chart_notes(notes: tuple[str, ...]) -> None:
    if notes:
        # Notes name result columns: server text, so escaped.
        st.caption(" · ".join(escape_markdown(note) for note in notes))


_GRAINS = {"coarse": "Coarse (per shape element)", "fine": "Fine (PostgreSQL nodes)"}
_PLAN_VIEWS = {"flame": "Flame graph", "icicle": "Icicle", "tree": "Tree table"}


def plan_view(record: RunRecord, result: results.ShapedResult) -> None:
    """An ``analyze`` answer: flame graph / icicle / tree table of the coarse (default) or
    fine plan; selecting a node shows the EdgeQL fragment it came from."""
    plan = _per_run("plans", record, lambda: plans.read_plan(result.value))
    if isinstance(plan, plans.UnreadablePlan):
        st.warning("This analyze answer is in a format the console cannot read (another "
                   "server version?). Here it is as JSON.", icon="🧭")
        st.caption(escape_markdown(plan.reason))
        parsed = plan.parsed()
        if parsed is not None:
            st.json(parsed, expanded=2)
        else:
            st.code(plan.raw[:100_000], language=None)
        return
    key = f"plan_{record.run_id}"
    c1, c2 = st.columns(2)
    grain = c1.segmented_control("Plan", list(_GRAINS), default="coarse", key=f"{key}_grain",
                                 format_func=_GRAINS.__getitem__) or "coarse"
    style = c2.segmented_control("Plan view", list(_PLAN_VIEWS), default="flame",
                                 key=f"{key}_style", format_func=_PLAN_VIEWS.__getitem__
                                 ) or "flame"
    tree = plan.tree("fine" if grain == "fine" else "coarse")
    node_key = f"{key}_{grain}_node"
    chart_key = f"{key}_{grain}_{style}_chart"
    _follow_plan_selection(chart_key, node_key, tree, style)
    current = int(st.session_state.get(node_key, 0))
    if not 0 <= current < len(tree.nodes):
        current = 0
    st.caption(
        f"Total {tree.total_ms:.3f} ms · {len(tree.nodes):,} nodes · server "
        f"{escape_markdown(plan.version or 'unknown')}. Hover a node for its figures; click "
        "it (or pick it below) to see its part of the query."
    )
    if style == "tree":
        st.dataframe(plans.tree_table(tree), hide_index=True, key=chart_key,
                     on_select="rerun", selection_mode="single-row")
    else:
        spec = _per_run_choice("plan_specs", record, (grain, style, current),
                               lambda: plans.flame_spec(plans.flame_rects(tree),
                                                        icicle=style == "icicle",
                                                        selected=current))
        st.vega_lite_chart(spec, width="stretch", key=chart_key, on_select="rerun",
                           selection_mode=["node", "node_label"])
    labels = dict(plans.node_choices(tree))
    st.session_state[node_key] = current  # the picker's value (no index=: state holds it)
    st.selectbox("Node", list(labels), key=node_key, format_func=labels.__getitem__)
    node = tree.nodes[current]
    mark = plans.highlight(plan, tree, current)
    if mark is None:
        st.caption("The server gave no query text for this node.")
        return
    whence = " (from an enclosing node)" if mark.inherited else ""
    st.caption(f"{escape_markdown(node.label)}: line {mark.line}, column {mark.column}{whence}")
    st.code(plans.marked_excerpt(mark), language=None)


def _follow_plan_selection(chart_key: str, node_key: str, tree: plans.PlanTree,
                           style: str) -> None:
    """A node clicked in the chart (or a row picked in the table) becomes the picked node.

    Runs before the node picker is drawn, so setting its state is allowed; a selection is
    followed once (``_seen``), so picking another node in the picker afterwards wins."""
    state = st.session_state
    event = state.get(chart_key)
    if style == "tree":
        rows = getattr(getattr(event, "selection", None), "rows", None)
        if rows is None and isinstance(event, dict):
            rows = (event.get("selection") or {}).get("rows")
        picked = rows[0] if rows and 0 <= int(rows[0]) < len(tree.nodes) else None
    else:
        picked = plans.selected_node(event, tree)
    seen_key = f"{chart_key}_seen"
    if picked is not None and picked != state.get(seen_key):
        state[node_key] = int(picked)
    state[seen_key] = picked


# --- the query editor (components v2) -------------------------------------------------------------
# The EdgeQL editor component (Streamlit components v2) and its glue.
#
# The bundle (``frontend/edgeql_editor/dist/editor.<hash>.js``, CodeMirror 6 built by esbuild;
# the name carries the first 16 hex digits of its sha256) is found once at import and
# registered once; no Node and no CDN at run time. One editor per query tab,
# keyed ``q_editor_{i}``; the tab's text stays in ``st.session_state[f"q_text_{i}"]`` (see
# ``ecc.editor.sync`` for who wins when both the editor and a callback write it).
#
# AppTest cannot type into the component (it runs no JavaScript): tests write
# ``q_text_{i}`` and call the callbacks' logic in ``ecc.editor.sync`` directly.

FRONTEND = Path(__file__).resolve().parent / "frontend" / "edgeql_editor"
BUNDLE_HASH_DIGITS = 16  # frontend/edgeql_editor/build.mjs names the file so


def bundle_file(dist: Path) -> Path:
    """The one ``editor.<hash>.js`` in ``dist``, whose hash is its content's (a new bundle gets
    a new URL: caches may keep a file for good). Raises naming the fix otherwise."""
    found = sorted(dist.glob("editor.*.js"))
    fix = "rebuild it: cd frontend/edgeql_editor && npm ci && npm run build"
    if len(found) != 1:
        raise RuntimeError(f"{dist} must hold exactly one editor.<hash>.js, not "
                           f"{[f.name for f in found]}: {fix}")
    digest = hashlib.sha256(found[0].read_bytes()).hexdigest()[:BUNDLE_HASH_DIGITS]
    if found[0].name != f"editor.{digest}.js":
        raise RuntimeError(f"{found[0].name} is not named after its content "
                           f"(editor.{digest}.js): {fix}")
    return found[0]


BUNDLE = bundle_file(FRONTEND / "dist")
COMPONENT_NAME = "ecc.edgeql_editor"
DEBOUNCE_MS = 300  # a pause in typing this long sends the text (blur sends it at once)
PLACEHOLDER = "select Movie { title, release_year } filter .release_year > <int64>$year"

ASSET_DIR = "dist"  # served by Streamlit under /_stcore/bidi-components/<name>/


def _editor_assets_registered() -> bool:
    """Declare the editor's asset directory on the running server's component manager (once
    per manager: AppTest makes a runtime per test). False without a runtime."""
    from streamlit.components.v2.get_bidi_component_manager import get_bidi_component_manager
    from streamlit.components.v2.manifest_scanner import ComponentConfig, ComponentManifest
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return False
    manager = get_bidi_component_manager()
    if manager.get_component_asset_root(COMPONENT_NAME) is None:
        project, _, name = COMPONENT_NAME.partition(".")
        manager.register_from_manifest(
            ComponentManifest(project, "1", [ComponentConfig(name, ASSET_DIR)]), FRONTEND)
    return True


def _declare_editor() -> tuple[Any, bool]:
    """Register the editor once. Under a running server its bundle is an asset file: each
    element then carries its URL, not 350 KB of JavaScript, and the browser fetches the
    module once per page (one module instance, whatever the number of editors). Streamlit
    finds asset directories in installed packages' ``pyproject.toml``; this repository is no
    package, so the same manifest entry is registered here. Imported without a runtime (tests,
    bare imports) the bundle goes inline, as before. Returns (component, from a file)."""
    # The stylesheet is in the bundle (src/editor.css, loaded as text): no element carries it.
    if _editor_assets_registered():
        return st.components.v2.component(COMPONENT_NAME, js=BUNDLE.name), True
    # A leading comment line: Streamlit reads a one-line string as an asset path.
    return st.components.v2.component(
        COMPONENT_NAME, js="// ECC EdgeQL editor\n" + BUNDLE.read_text(encoding="utf-8")), False


_editor, _EDITOR_FROM_FILE = _declare_editor()
_LANGUAGE = language_data()


def parameter_names(index: int, text: str) -> list[str]:
    """Parameter names used in tab ``index``'s text, re-read only when the text changed
    (a scan of a 100 000-character text takes ~15 ms; reruns for other widgets are free)."""

    cache: dict[int, tuple[str, list[str]]] = st.session_state.setdefault("_q_param_names", {})
    hit = cache.get(index)
    if hit is None or hit[0] != text:
        hit = (text, [p.name for p in scan_parameters(text).parameters])
        cache[index] = hit
    return list(hit[1])


def _on_text(index: int) -> None:
    value = editor_sync.reported_value(st.session_state.get(editor_sync.editor_key(index)),
                                       "text")
    editor_sync.on_editor_text(st.session_state, index, value)


def _on_run(index: int) -> None:
    payload = editor_sync.reported_value(
        st.session_state.get(editor_sync.editor_key(index)), "run")
    editor_sync.on_editor_run(st.session_state, index, payload)


def editor_data(index: int, tab_count: int, params: list[str], tree: CompletionTree | None,
                max_chars: int) -> dict[str, Any]:
    """Everything the editor of tab ``index`` receives on this run. The schema's completion
    tree (shared by the process, ``ecc/schema/store.py``) goes by its hash, and whole only
    until the page acknowledged it (``editor_sync.tree_to_send``)."""
    seed = editor_sync.seed_for_render(st.session_state, index)
    reported = st.session_state.get(editor_sync.editor_key(index))
    completion: dict[str, Any] = {"params": [f"${name}" for name in dict.fromkeys(params)]}
    if tree is not None:
        completion["hash"] = tree.hash
        if editor_sync.tree_to_send(st.session_state, tree.hash,
                                    editor_sync.reported_value(reported, "schema")):
            completion["tree"] = tree.tree
    seen = editor_sync.reported_value(reported, "seen")
    return {
        "id": editor_sync.editor_key(index),
        "text": editor_sync.text_to_send(seed, seen),
        "version": seed.version,
        "label": "EdgeQL" if tab_count == 1 else f"EdgeQL, query {index + 1}",
        "placeholder": PLACEHOLDER,
        "debounce_ms": DEBOUNCE_MS,
        "max_chars": max_chars,
        "language": _LANGUAGE,
        "completion": completion,
    }


def query_editor(data: dict[str, Any], index: int) -> None:
    """Mount tab ``index``'s editor with ``data`` (from ``editor_data``)."""
    if _EDITOR_FROM_FILE:
        _editor_assets_registered()  # this runtime's manager knows the directory
    _editor(
        key=editor_sync.editor_key(index),
        data=data,
        on_text_change=functools.partial(_on_text, index),
        on_run_change=functools.partial(_on_run, index),
        on_seen_change=_acknowledged,
        on_schema_change=_acknowledged,
    )


def _acknowledged() -> None:
    """The editor shows a version (state value ``seen``), or holds a schema's completion
    tree (``schema``: its hash); read at the next render."""


# --- what the browser sent with this run ----------------------------------------------------------
# What the browser sent with this script run: widget values of a page it has already drawn.
#
# A page that reconnects to a new server session (a replica failover, a restarted server) keeps
# its widgets and sends their values with the first run there; that session has none of the
# page's other state. Two things must then not happen: a default written into
# ``st.session_state`` before a widget replaces the value the browser sent (the user's text,
# tab count, settings), and the page address (``?q=``) must not look like a link being opened.
#
# Streamlit 1.67 has no public API for this; its run context keeps the browser's values (by
# element id, ``$$ID-<hash>-<user key>``) until the widgets claim them. ``remember_browser_keys``
# must therefore run before the first widget of a run, which adds its own value.
# tests/test_app_replicas.py checks this against the real Streamlit.

BROWSER_KEYS = "ecc_browser_widget_keys"  # user keys of the widgets the browser sent this run


def browser_widget_states() -> list[WidgetState]:
    """The widget values that came with this run, as sent (before any widget drew)."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return []
    return list(ctx.session_state.get_widget_states())


def browser_widget_ids() -> list[str]:
    """Element ids of the widget values that came with this run (before any widget drew)."""
    return [state.id for state in browser_widget_states()]


# A custom component (components v2) sends two values: its state values as one JSON object
# under its element id, and the trigger events of this run as a JSON list of
# {"event", "value"} under "$$STREAMLIT_INTERNAL_KEY_<element id>__events".
_EVENTS_PREFIX = f"{STREAMLIT_INTERNAL_KEY_PREFIX}_"
_EVENTS_SUFFIX = f"{EVENT_DELIM}events"


@dataclass(frozen=True)
class BrowserComponent:
    """What the browser sent for one keyed custom component with this run."""

    state: dict[str, Any] = field(default_factory=dict)  # its state values
    events: tuple[tuple[str, Any], ...] = ()  # (trigger name, value), in the order sent


def browser_components(states: list[WidgetState]) -> dict[str, BrowserComponent]:
    """The keyed custom components among ``states``, by user key. A session that never drew
    the page cannot deserialize these (it has no widget metadata, so no callback runs): this
    reads them as the components' own deserializers would. Values are the browser's: the
    caller treats them as user input."""
    values: dict[str, dict[str, Any]] = {}
    events: dict[str, list[tuple[str, Any]]] = {}
    for state in states:
        kind = state.WhichOneof("value")
        if kind == "json_value" and is_keyed_element_id(state.id):
            key = user_key_from_element_id(state.id)
            parsed = _json(state.json_value)
            if key is not None and isinstance(parsed, dict):
                values[key] = parsed
        elif kind == "json_trigger_value" and state.id.startswith(_EVENTS_PREFIX) and \
                state.id.endswith(_EVENTS_SUFFIX):
            base = state.id[len(_EVENTS_PREFIX):-len(_EVENTS_SUFFIX)]
            key = user_key_from_element_id(base) if is_keyed_element_id(base) else None
            parsed = _json(state.json_trigger_value)
            payloads = parsed if isinstance(parsed, list) else [parsed]
            if key is not None:
                events[key] = [(p["event"], p.get("value")) for p in payloads
                               if isinstance(p, dict) and isinstance(p.get("event"), str)]
    return {key: BrowserComponent(values.get(key, {}), tuple(events.get(key, ())))
            for key in values.keys() | events.keys()}


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def remember_browser_keys(ids: list[str]) -> None:
    """Keep, for this run, the user keys of the widgets whose values the browser sent while
    the server session did not know them yet. Call at the top of every run."""
    keys = {user_key_from_element_id(i) for i in ids if is_keyed_element_id(i)}
    st.session_state[BROWSER_KEYS] = frozenset(k for k in keys if k is not None)


def widget_default(key: str, value: object) -> None:
    """``st.session_state.setdefault`` for a keyed widget that takes its default from session
    state, except when the browser sent this widget's value with the run: the new session
    does not know the key yet, and a default written now would replace that value."""
    if key not in st.session_state.get(BROWSER_KEYS, frozenset()):
        st.session_state.setdefault(key, value)
