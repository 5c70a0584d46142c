"""Driving the real page with AppTest, with the shipped fake client wired in."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from ecc.fake import client as testing
from ecc.fake.client import FakeClient, FakeClientFactory
from tests.conftest import wait_until as wait_until  # the page tests take it from here

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


FakeFactory = FakeClientFactory  # the name the page tests use


def shown(markdown: str) -> str:
    """What a reader sees of Markdown the page escaped (``ecc.display.safe_text``): the backslash
    escapes resolved and the invisible word joiners gone."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


@contextmanager
def console(
    factory: Callable[[], FakeClient] | None = None, **settings: Any
) -> Iterator[AppTest]:
    """An AppTest of the page configured with the fake client (and extra settings). The
    benchmarks drive the page through it too (``bench/common.py``)."""
    import st_utils

    testing.use_fake(factory)
    st_utils._describe_cache_for.clear()  # descriptions from another test's fake server
    st_utils.schema_store().clear()  # and its schema
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["connections"] = {"gel": {"fake_client": True, **settings}}
    try:
        yield at
    finally:
        testing.use_fake(None)
        st_utils.session_registry.clear()
        st_utils._describe_cache_for.clear()
        st_utils.schema_store().clear()


def run_query(
    at: AppTest,
    text: str,
    *,
    args: str | None = None,
    kwargs: str | None = None,
    params: dict[str, Any] | None = None,
    cardinality: str | None = None,
    as_json: bool = False,
    tab: int = 0,
) -> AppTest:
    """Fill one tab and submit, as a user would. ``args``/``kwargs`` use the argument-language
    fields (text mode). ``params`` fills typed inputs, which appear as soon as the text
    reaches the page (no Run needed first).

    AppTest runs no JavaScript, so it cannot type into the editor component: the text is
    written to ``q_text_{tab}``, the contract the editor and the history/links share."""
    if args is not None or kwargs is not None:
        at.session_state[f"q_mode_{tab}"] = "text"
    set_query_text(at, text, tab=tab)
    if args is not None or kwargs is not None:
        at.text_area(key=f"q_args_{tab}").input(args or "")
        at.text_area(key=f"q_kwargs_{tab}").input(kwargs or "")
    if cardinality is not None:
        at.radio(key=f"q_card_{tab}").set_value(cardinality)
    if as_json:
        at.toggle(key=f"q_json_{tab}").set_value(True)
    if params:
        for name, value in params.items():
            widget_key = f"p_{tab}_{name}"
            if isinstance(value, bool):
                at.checkbox(key=widget_key).set_value(value)
            else:
                at.text_input(key=widget_key).input(value)
    return submit(at)


def set_query_text(at: AppTest, text: str, *, tab: int = 0) -> AppTest:
    """Put ``text`` into tab ``tab``'s editor (as history or a shared link would), then rerun:
    the page reads it, its typed inputs appear."""
    at.session_state[f"q_text_{tab}"] = text
    return at.run()


def editor_data(at: AppTest, tab: int = 0) -> dict[str, Any]:
    """What the editor component of tab ``tab`` received on the last run (its ``data``)."""
    for element in at.get("bidi_component"):
        if getattr(element, "key", None) == f"q_editor_{tab}":
            data: dict[str, Any] = json.loads(element.proto.json)
            return data
    raise KeyError(f"no editor for tab {tab}")


def submit(at: AppTest) -> AppTest:
    return at.button[0].click().run() if _run_button(at) is None else _run_button(at).click().run()


def _run_button(at: AppTest) -> Any:
    for button in at.button:
        if getattr(button, "label", None) == "Run":
            return button
    return None


def texts(at: AppTest) -> str:
    """Every markdown/caption/error/info text on the page as a reader sees it (escapes
    resolved), joined (for 'in' checks)."""
    parts: list[str] = []
    for kind in (
        "markdown",
        "caption",
        "error",
        "info",
        "success",
        "warning",
        "code",
        "title",
        "subheader",
        "header",
    ):
        parts.extend(str(el.value) for el in getattr(at, kind))
    return shown("\n".join(parts))
