"""The sidebar (connection summary, Test connection, the session's settings, docs links) and
the Resources panel (loops, clients and queries of this session and the process)."""

from __future__ import annotations

import time

import streamlit as st

import st_comps
from ecc.driver.client import QueryClient
from ecc.driver.errors import ErrorView
from ecc.running.sessions import RegistryTotals, RuntimeStatus, SessionRuntime
from ecc.settings.config import ConsoleSettings
from st_comps import widget_default
from st_utils import auth_configured, session_registry, shown_error


def draw_sidebar(settings: ConsoleSettings, runtime: SessionRuntime) -> None:
    """The sidebar: the connection, Test connection, this session's settings, docs links."""
    st.header("Console")
    connection_summary(settings, sign_in_required=auth_configured())
    if st.button("Test connection", key="test_connection", icon="🔌"):
        outcome = test_connection(settings, runtime)
        if outcome is None:
            st.success("Connected: the server answered `select 1`.")
        else:
            st_comps.render_error(outcome)
    st.divider()
    st.markdown("**My settings**")
    widget_default("pref_row_limit", settings.row_limit)
    widget_default("pref_timeout_s", settings.query_timeout_s)
    widget_default("tab_count", 1)
    st.number_input("Rows shown per result", min_value=1, max_value=10_000, step=50,
                    key="pref_row_limit")
    st.number_input("Query timeout (s)", min_value=0.1, max_value=settings.query_timeout_s,
                    key="pref_timeout_s", help="At most the administrator's query_timeout_s.")
    st.radio("Result view", ["table", "json", "text", "chart"], key="pref_view",
             horizontal=True)
    st.number_input("Queries per submission (tabs)", min_value=1, max_value=settings.max_batch,
                    key="tab_count")
    st.divider()
    docs_links()


def test_connection(settings: ConsoleSettings, runtime: SessionRuntime) -> ErrorView | None:
    """None when the server answers ``select 1``; else the error's view."""
    bound = settings.page_wait_s("probe")

    async def probe(client: QueryClient) -> object:
        await client.ensure_connected()
        return await client.query_single("select 1")

    try:
        runtime.call(probe, timeout=bound)
    except Exception as exc:
        return shown_error(
            exc, settings, subject="Test connection", timeout_s=bound,
            server=settings.connection.address(), connect_wait_s=settings.connect_wait_s,
        )
    return None

DOCS_LINKS = (
    ("EdgeQL overview", "https://docs.geldata.com/reference/edgeql"),
    ("Query parameters", "https://docs.geldata.com/reference/edgeql/parameters"),
    ("Python driver", "https://docs.geldata.com/reference/clients/python"),
)


def resources(runtime: SessionRuntime) -> None:
    """The Resources toggle (drawn in the page's main column, under the history): this
    session's and the process's loops, clients and queries; reset the client; release idle
    sessions."""
    if st.toggle("Resources", key="show_resources"):
        with st.container(border=True):
            resources_panel(runtime.status(), session_registry().totals())
            c1, c2, c3 = st.columns(3)
            c1.button("Refresh", key="res_refresh")
            if c2.button("Reset my connection", key="res_reset"):
                runtime.reset_client()
                st.success("Closed this session's client; the next query opens a new one.")
            if c3.button("Release idle resources", key="res_release"):
                registry = session_registry()
                reaped = registry.reap_idle(
                    time.monotonic(), registry.idle_threshold_s, keep=runtime.token
                )
                st.success(f"Released {len(reaped)} idle session(s); running ones are kept.")


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
