"""The websocket bench plays the browser: what it sends must be what Chromium sends.

Offline: a ``Session`` with a recording socket, fed Streamlit's own element protos. The shapes
asserted here were recorded from Chromium driving the console (Playwright's ``framesent``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from streamlit.components.v2.bidi_component.main import _make_trigger_id
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element

from bench.bench_ws import Session, editor_events_id

EDITOR_ID = "$$ID-4781f43c30b5d8f9bb4ec2ff47959c61-q_editor_0"
RUN_ID = "$$ID-5603f47018e192e8009b521529c7237b-run_queries"


class RecordingSocket:
    def __init__(self) -> None:
        self.sent: list[BackMsg] = []

    async def send(self, raw: bytes) -> None:
        msg = BackMsg()
        msg.ParseFromString(raw)
        self.sent.append(msg)


def editor_element(text: str | None, version: int) -> Element:
    element = Element()
    element.bidi_component.id = EDITOR_ID
    element.bidi_component.component_name = "ecc.edgeql_editor"
    element.bidi_component.json = json.dumps({"id": "q_editor_0", "text": text,
                                              "version": version})
    return element


def run_button() -> Element:
    element = Element()
    element.button.id = RUN_ID
    element.button.label = "Run"
    return element


def drawn_session() -> tuple[Session, RecordingSocket]:
    """A session that received the page's editor (version 1, empty) and Run button."""
    socket = RecordingSocket()
    session = Session("ws://unused")
    session.ws = socket
    session._element(editor_element("", 1), 0.0)
    session._element(run_button(), 0.0)
    return session, socket


def widgets(msg: BackMsg) -> dict[str, tuple[str | None, Any]]:
    out: dict[str, tuple[str | None, Any]] = {}
    for widget in msg.rerun_script.widget_states.widgets:
        kind = widget.WhichOneof("value")
        out[widget.id] = (kind, getattr(widget, kind) if kind else None)
    return out


def test_the_editors_trigger_id_is_streamlits_trigger_aggregator() -> None:
    assert editor_events_id(EDITOR_ID) == _make_trigger_id(EDITOR_ID, "events")


def test_a_new_editor_version_is_shown_and_acknowledged_once() -> None:
    session, _ = drawn_session()
    assert session.editors["q_editor_0"] == {"text": "", "seen": 1}
    assert session.editor_changed
    session.editor_changed = False
    session.editors["q_editor_0"]["text"] = "select 1"  # typed
    session._element(editor_element(None, 1), 0.0)  # acknowledged: Python stops sending text
    assert session.editors["q_editor_0"] == {"text": "select 1", "seen": 1}
    assert not session.editor_changed
    session._element(editor_element("select 2", 2), 0.0)  # written elsewhere (history)
    assert session.editors["q_editor_0"] == {"text": "select 2", "seen": 2}
    assert session.editor_changed


def test_a_button_submission_sends_the_editor_state_and_the_run_trigger() -> None:
    session, socket = drawn_session()
    session.cached_hashes.add("abc123")
    asyncio.run(session.submit(["select sys::_sleep(0.2)"]))
    sent = widgets(socket.sent[-1])
    kind, value = sent[EDITOR_ID]
    assert kind == "json_value"
    assert json.loads(value) == {"text": "select sys::_sleep(0.2)", "seen": 1}
    assert sent[RUN_ID] == ("trigger_value", True)
    assert list(socket.sent[-1].rerun_script.cached_message_hashes) == ["abc123"]


def test_a_shortcut_submission_sends_the_editors_run_event() -> None:
    session, socket = drawn_session()
    asyncio.run(session.submit(["select 1"], via="shortcut"))
    sent = widgets(socket.sent[-1])
    assert json.loads(sent[EDITOR_ID][1]) == {"text": "select 1", "seen": 1}
    kind, value = sent[editor_events_id(EDITOR_ID)]
    assert kind == "json_trigger_value"
    assert json.loads(value) == [{"event": "run", "value": {"text": "select 1"}}]
    assert RUN_ID not in sent


def test_the_trigger_goes_out_with_one_message_only() -> None:
    session, socket = drawn_session()
    asyncio.run(session.submit(["select 1"]))
    asyncio.run(session._send())  # a later run (a fragment tick, another widget)
    assert RUN_ID not in widgets(socket.sent[-1])
    assert EDITOR_ID in widgets(socket.sent[-1])


def test_a_result_is_shown_when_its_final_status_line_arrives() -> None:
    session, _ = drawn_session()
    running, done = Element(), Element()
    running.markdown.body = "🔄 **Query 1** · running · 0.1 s"
    done.markdown.body = "✅ **Query 1** · 1 row · 0.2 s · `query()`"
    session._element(running, 1.0)
    assert "Query 1" not in session.shown
    session._element(done, 2.0)
    assert session.shown == {"Query 1": 2.0}


def test_the_byte_ledger_names_each_message_and_groups_the_tabs() -> None:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    from bench.bench_ws import ledger_summary, message_label

    editor, reference, block = ForwardMsg(), ForwardMsg(), ForwardMsg()
    editor.delta.new_element.CopyFrom(editor_element("", 1))
    reference.ref_hash = "0" * 32
    block.delta.add_block.allow_empty = True
    assert [message_label(m) for m in (editor, reference, block)] == [
        "element:bidi_component q_editor_0", "ref_hash", "delta:add_block"]
    summary = ledger_summary([(700, "element:bidi_component q_editor_0"),
                              (800, "element:bidi_component q_editor_1"), (77, "ref_hash")])
    assert summary.splitlines()[0].split() == ["element:bidi_component", "q_editor_N", "x2",
                                               "1,500", "B"]
    assert summary.splitlines()[1].split() == ["ref_hash", "x1", "77", "B"]
