"""The schema explorer panel (types, scalars, functions, aliases and globals, graphs, search,
"Query this type") and the schema the editor completes from: one model per server branch,
shared by the process (``st_utils.schema_store``), adopted by the session."""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import streamlit as st

import st_comps
from ecc.display.safe_text import escape_markdown
from ecc.driver.client import QueryClient
from ecc.driver.errors import ErrorView
from ecc.running.sessions import SessionRuntime
from ecc.schema import view as schema_view
from ecc.schema.introspect import read_standard
from ecc.schema.model import ObjectType, SchemaModel, short_name
from ecc.schema.store import CompletionTree, SchemaEntry
from ecc.schema.view import query_text
from ecc.settings.config import ConsoleSettings
from st_comps import format_elapsed
from st_utils import describe_cache, schema_key, schema_store, shown_error

log = logging.getLogger("ecc.page")

SCHEMA_KEY = "schema_model"  # contract: the session's current ecc.schema.model.SchemaModel
SCHEMA_PENDING_KEY = "schema_background_read"  # the completion's read, while under way
LARGE_GRAPH_TYPES = 60  # a module graph with more types shows fewer properties per node
LARGE_GRAPH_PROPERTIES = 4


SCHEMA_FIRST_WAIT_S = 1.0  # a session's first run waits this long for its schema names


def _adopt_entry(entry: SchemaEntry) -> SchemaModel:
    """The session shows the shared entry: its model (with the standard library once the
    explorer read it) is this session's ``SCHEMA_KEY``; nothing is copied."""
    state = st.session_state
    model = entry.standard or entry.model
    if state.get(SCHEMA_KEY) is not model:
        state[SCHEMA_KEY] = model
        state["schema_read_at"] = entry.read_at
    state.pop("schema_error", None)
    return model


def schema_for_completion(runtime: SessionRuntime, settings: ConsoleSettings
                          ) -> CompletionTree | None:
    """The editor's completion tree of this server branch's schema; keywords only (None)
    until there is one. The process keeps one model per branch: a session that finds it
    sends no introspection, and at most one page run per ``PROBE_INTERVAL_S`` of the process
    probes (in the background) whether the schema changed. Without a model, a session's
    first run starts the read (or joins the one under way) and waits at most
    ``SCHEMA_FIRST_WAIT_S``; a slower read is picked up by a later run. A failed read is not
    retried here (the explorer's Refresh does that): completion stays with keywords."""
    state = st.session_state
    store, key = schema_store(), schema_key(settings)
    entry = store.current(key)
    if entry is None:
        pending = state.get(SCHEMA_PENDING_KEY)
        if pending is None or pending.cancelled():  # cancelled: its loop went away
            pending = state[SCHEMA_PENDING_KEY] = store.read(key, runtime.start)
            with contextlib.suppress(Exception):  # slow or failed: see below
                pending.result(timeout=SCHEMA_FIRST_WAIT_S)
        if not pending.done() or pending.cancelled() or pending.exception() is not None:
            return None  # still reading, or failed: keywords only
        entry = pending.result()
    elif store.probe_due(key):
        store.refresh_if_changed(key, runtime.start)  # not awaited: the page never waits
    state.pop(SCHEMA_PENDING_KEY, None)
    _adopt_entry(entry)
    # A schema another client changed (the probe's token moved) drops the descriptions too:
    # typed inputs then offer what the server says now (an enum's new members).
    describe_cache(settings).follow_schema(entry.probe)
    return entry.completion()


def ensure_schema_model(runtime: SessionRuntime, settings: ConsoleSettings,
                        *, refresh: bool = False) -> SchemaModel | ErrorView:
    """This branch's schema model, shared by the process (read once, then kept until the
    probe sees a change or Refresh forces a read); or the read's error view."""

    state = st.session_state
    store, key = schema_store(), schema_key(settings)
    entry = store.current(key)
    if not refresh and entry is not None:
        return _adopt_entry(entry)
    if not refresh and state.get("schema_error") is not None:
        # A failed read is retried on Refresh only: a page left open on a server that is
        # down must not wait out the bound on every rerun.
        return state["schema_error"]
    bound = settings.page_wait_s("schema")
    try:
        runtime.ensure_loop()
        runtime.touch()
        entry = store.read(key, runtime.start, force=refresh).result(timeout=bound)
    except Exception as exc:
        if isinstance(exc, concurrent.futures.TimeoutError):
            exc = TimeoutError(f"no answer within {bound:g} s")
        state.pop(SCHEMA_KEY, None)
        state["schema_error"] = shown_error(exc, settings, subject="Reading the schema",
                                            timeout_s=bound)
        return state["schema_error"]
    model = _adopt_entry(entry)
    log.info("schema read in %.0f ms (%s)", model.read_s * 1000,
             ", ".join(f"{k} {v}" for k, v in model.counts().items()))
    return model


def ensure_standard_schema(runtime: SessionRuntime, settings: ConsoleSettings,
                           model: SchemaModel) -> SchemaModel | ErrorView:
    """``model`` with the standard library added (read once per schema version in the
    process, when first asked for, and kept with the shared entry); or the read's error view
    (the model stays as it was)."""

    if model.standard_read:
        return model
    bound = settings.page_wait_s("schema")

    async def read(client: QueryClient) -> object:
        return await read_standard(client, model)

    try:
        merged = runtime.call(read, timeout=bound)
        if not isinstance(merged, SchemaModel):
            raise TypeError(f"the standard schema read returned {type(merged).__name__}")
    except Exception as exc:
        return shown_error(exc, settings, subject="Reading the standard library's schema",
                           timeout_s=bound)
    store, key = schema_store(), schema_key(settings)
    entry = store.current(key)
    if entry is not None and entry.model is model:
        store.set_standard(key, entry, merged)
    st.session_state[SCHEMA_KEY] = merged
    return merged


def _refresh_schema() -> None:
    st.session_state["schema_refresh"] = True


def _query_this_type() -> None:
    """Button callback (runs before the editor renders, so the text lands in it)."""

    model = st.session_state.get(SCHEMA_KEY)
    name = st.session_state.get("schema_type")
    if model is None or not name or model.object_type(name) is None:
        return
    st.session_state["q_text_0"] = query_text(model, name)
    st.session_state["schema_notice"] = name


def schema_explorer(runtime: SessionRuntime, settings: ConsoleSettings
                    ) -> Callable[[], None] | None:
    """The schema explorer, drawn only when opened (a toggle: an expander's content would be
    built on every rerun). Refresh re-reads; read-only consoles cannot change the schema, and
    with writes allowed Refresh is the way to see DDL the console ran. Returns what redraws
    its "queries ran since the read" note in place (writes allowed), for runs that end after
    it was drawn."""
    if not st.toggle("Schema", key="show_schema"):
        return None
    redraw_note: Callable[[], None] | None = None
    state = st.session_state
    with st.container(border=True):
        refresh = bool(state.pop("schema_refresh", False))
        model = ensure_schema_model(runtime, settings, refresh=refresh)
        top = st.columns([4, 1])
        top[1].button("Refresh", key="schema_refresh_button", on_click=_refresh_schema,
                      icon="🔄", help="Read the schema again (after a migration or DDL).")
        if isinstance(model, ErrorView):
            st_comps.render_error(model)
            return None
        notice = state.pop("schema_notice", None)
        if notice:
            st.success("Put a query of this type into the first query tab; check it, then "
                       "press Run.", icon="📝")
        c1, c2, c3 = st.columns([2, 2, 1])
        include_standard = c3.toggle("Standard modules", key="schema_standard",
                                     help="std, sys, cfg, schema, math, cal, fts, extensions")
        if include_standard:
            merged = ensure_standard_schema(runtime, settings, model)
            if isinstance(merged, ErrorView):
                st_comps.render_error(merged)
            else:
                model = merged
        read_at = state.get("schema_read_at")
        with top[0]:  # drawn above the controls, filled once the model is complete
            schema_summary(model, time.monotonic() - read_at if read_at else None)
            if not settings.read_only:
                note = st.empty()

                def redraw_note() -> None:
                    _runs_since_note(note, _runs_done_since(runtime, read_at))

                redraw_note()
        modules = schema_view.shown_modules(model, include_standard)
        if state.get("schema_module") not in ("", *modules):
            state["schema_module"] = ""
        c1.selectbox("Module", ["", *modules], key="schema_module",
                     format_func=lambda m: m or "All shown modules")
        search_text = c2.text_input("Search", key="schema_search",
                                    placeholder="name, type name or annotation")
        view = schema_view.build_view(model, include_standard=include_standard,
                                      module=state.get("schema_module") or "",
                                      search_text=search_text or "")
        schema_matches(view)
        section = st.segmented_control("Show", SCHEMA_SECTIONS, key="schema_section",
                                       default=SCHEMA_SECTIONS[0],
                                       label_visibility="collapsed") or \
            SCHEMA_SECTIONS[0]
        if section == "Object types":
            _schema_types(model, view)
        elif section == "Scalar types":
            schema_scalars(view)
        elif section == "Functions":
            schema_functions(view)
        elif section == "Aliases & globals":
            schema_aliases_and_globals(view, model.extensions)
        else:
            _schema_graph(model, view)
    return redraw_note


def _runs_since_note(slot: Any, since: int) -> None:
    # The console does not read query text, and with writes allowed it does not ask the
    # server to describe queries: it cannot tell which one was DDL.
    if since:
        slot.info(f"{since} quer{'y' if since == 1 else 'ies'} ran since the schema was read, "
                  "and writes are allowed: if one changed the schema, press Refresh.", icon="🔄")


def _runs_done_since(runtime: SessionRuntime, since: float | None) -> int:
    if since is None:
        return 0
    return sum(1 for r in runtime.book.newest_first()
               if r.status == "done" and r.finished_at is not None and r.finished_at > since)


def _keep_valid_choice(key: str, options: list[str]) -> None:
    """A selectbox's remembered choice, or its first option when the choice is gone."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]


def _schema_types(model: SchemaModel, view: schema_view.SchemaView) -> None:

    schema_object_types(view)
    names = [t.name for t in view.object_types]
    if not names:
        return
    _keep_valid_choice("schema_type", names)
    st.selectbox("Type", names, key="schema_type")
    chosen = model.object_type(st.session_state["schema_type"])
    if chosen is not None:
        schema_type_details(model, chosen, _query_this_type)


def _schema_graph(model: SchemaModel, view: schema_view.SchemaView) -> None:

    scope = st.radio("Graph of", ["module", "one type and its neighbours"], horizontal=True,
                     key="schema_graph_scope")
    if scope == "module":
        modules = [view.module] if view.module else list(view.modules)
        if not modules:
            st.caption("No module to draw.")
            return
        _keep_valid_choice("schema_graph_module", modules)
        module = st.selectbox("Module", modules, key="schema_graph_module")
        size = sum(1 for t in model.object_types if t.module == module)
        if size > LARGE_GRAPH_TYPES:
            st.caption(f"{size} types in this module: each node lists its first "
                       f"{LARGE_GRAPH_PROPERTIES} properties. For a readable picture, draw "
                       "one type and its neighbours.")
        dot = schema_view.module_graph(
            model, module,
            max_properties=LARGE_GRAPH_PROPERTIES if size > LARGE_GRAPH_TYPES else
            schema_view.MAX_NODE_PROPERTIES)
    else:
        names = [t.name for t in view.object_types] or [t.name for t in model.object_types]
        if not names:
            st.caption("No object type to draw.")
            return
        _keep_valid_choice("schema_graph_type", names)
        name = st.selectbox("Type", names, key="schema_graph_type")
        dot = schema_view.type_graph(model, name)
    schema_graph(dot)


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
