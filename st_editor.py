"""The EdgeQL editor component (Streamlit components v2) and its glue.

The bundle (``frontend/edgeql_editor/dist/editor.js``, CodeMirror 6 built by esbuild) is read
once at import and registered once; no Node and no CDN at run time. One editor per query tab,
keyed ``q_editor_{i}``; the tab's text stays in ``st.session_state[f"q_text_{i}"]`` (see
``ecc.editor_sync`` for who wins when both the editor and a callback write it).

AppTest cannot type into the component (it runs no JavaScript): tests write
``q_text_{i}`` and call the callbacks' logic in ``ecc.editor_sync`` directly.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import streamlit as st

from ecc import editor_sync
from ecc.completions import completion_data
from ecc.edgeql_lang import language_data
from ecc.params import scan_parameters
from ecc.schema import SchemaModel

FRONTEND = Path(__file__).resolve().parent / "frontend" / "edgeql_editor"
BUNDLE = FRONTEND / "dist" / "editor.js"
STYLES = FRONTEND / "src" / "editor.css"
COMPONENT_NAME = "ecc.edgeql_editor"
DEBOUNCE_MS = 300  # a pause in typing this long sends the text (blur sends it at once)
PLACEHOLDER = "select Movie { title, release_year } filter .release_year > <int64>$year"

# A leading comment line: Streamlit reads a one-line string as an asset path.
_editor = st.components.v2.component(
    COMPONENT_NAME,
    js="// ECC EdgeQL editor\n" + BUNDLE.read_text(encoding="utf-8"),
    css="/* ECC EdgeQL editor */\n" + STYLES.read_text(encoding="utf-8"),
)
_LANGUAGE = language_data()


def _schema_completion(model: SchemaModel | None) -> dict[str, Any]:
    """Completion data per model, built once per model object (reruns reuse it)."""
    cached = st.session_state.get("_completion_cache")
    if not (isinstance(cached, tuple) and cached[0] is model):
        data = completion_data(model)
        cached = (model, data)
        st.session_state["_completion_cache"] = cached
    return dict(cached[1])


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


def editor_data(index: int, tab_count: int, params: list[str], model: SchemaModel | None,
                max_chars: int) -> dict[str, Any]:
    """Everything the editor of tab ``index`` receives on this run."""
    seed = editor_sync.seed_for_render(st.session_state, index)
    completion = _schema_completion(model)
    completion["params"] = [f"${name}" for name in dict.fromkeys(params)]
    seen = editor_sync.reported_value(st.session_state.get(editor_sync.editor_key(index)),
                                      "seen")
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
    _editor(
        key=editor_sync.editor_key(index),
        data=data,
        on_text_change=functools.partial(_on_text, index),
        on_run_change=functools.partial(_on_run, index),
        on_seen_change=_acknowledged,
    )


def _acknowledged() -> None:
    """The editor shows a version (state value ``seen``); read at the next render."""
