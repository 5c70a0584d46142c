"""Widgets shared by several panels of the page: the error view, a run's result views (table,
JSON, text, chart, plan) and downloads, the EdgeQL editor component (registration and mount),
and ``widget_default``. Each function draws one part; none of them talks to the database.
Panels live in ``st_page/``; this module never imports them.

Invariant: nothing here runs inside a query task. Queries run on the session's loop; these
functions only read immutable ``RunRecord`` snapshots and draw them.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from ecc.display import charts, plans, results
from ecc.display.plans import is_analyze_query, plan_document
from ecc.display.safe_text import escape_markdown
from ecc.driver.errors import ErrorView
from ecc.editor import sync as editor_sync
from ecc.editor.language import language_data
from ecc.running.runs import RunPhases, RunRecord
from ecc.schema.store import CompletionTree
from st_data_structures import UserPrefs

T = TypeVar("T")
STATUS_ICONS = {
    "queued": "⏳",
    "running": "🔄",
    "done": "✅",
    "failed": "❌",
    "cancelled": "🚫",
    "timed out": "⌛",
}


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


# --- where the time went, charts and plans ----------------------------------------------------
def phases_suffix(phases: RunPhases) -> str:
    """`` · ⏱ queued 0 ms / describe 3 ms / server 120 ms / shaping 1 ms`` (empty if none)."""
    items = phases.items()
    if not items:
        return ""
    return " · ⏱ " + " / ".join(f"{label} {format_elapsed(s)}" for label, s in items)


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
    A finished run's result never changes, and a run id names one run for the session's
    life (its ``RunBook`` lives in session state and outlives any runtime); the submission
    time in the key only guards against a book that starts again."""
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


# --- widget defaults on a page that moved ------------------------------------------------------
# A page that reconnects to a new server session (a replica failover, a restarted server) keeps
# its widgets and sends their values with the first run there; a default written into
# ``st.session_state`` before a widget would replace the value the browser sent (the user's
# text, tab count, settings). ``st_page.links.page_moved`` records, before the run's first
# widget, the keys the browser sent (``BROWSER_KEYS``); ``widget_default`` leaves them alone.

BROWSER_KEYS = "ecc_browser_widget_keys"  # user keys of the widgets the browser sent this run


def widget_default(key: str, value: object) -> None:
    """``st.session_state.setdefault`` for a keyed widget that takes its default from session
    state, except when the browser sent this widget's value with the run: the new session
    does not know the key yet, and a default written now would replace that value."""
    if key not in st.session_state.get(BROWSER_KEYS, frozenset()):
        st.session_state.setdefault(key, value)
