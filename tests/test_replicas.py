"""The deployment guide run for real: two `streamlit run` replicas behind nginx, in Chromium.

nginx serves `deploy/nginx.conf` (the file the guide includes), with only ports and paths
substituted (tests/replica_support.py), TLS on a throwaway certificate. Chromium resolves the
guide's host name, console.example.com, to 127.0.0.1: the page's origin is then not localhost,
so Streamlit accepts the websocket only if nginx forwards the public Host (on a localhost
origin it accepts anything), and the affinity cookie is `Secure` over HTTPS as in production.
The replicas use the test fake (`ECC_TEST_FAKE_CLIENT=1`). Everything started here is stopped
by PID (process group) when the module ends, also when a test fails.

Which replica served a request comes from nginx's access log: the affinity key and
`$upstream_addr` of every request (a websocket's line is written when it closes).
"""

from __future__ import annotations

import http.client
import re
import shutil
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.browser_support import (
    RESULT_TIMEOUT_MS,
    VIEWPORT,
    StreamlitServer,
    assert_no_traceback,
    chromium,
    grid_cell,
    load_from_history,
    open_console,
    open_panel,
    query_box,
    run_query,
    skip_without_browser,
    type_query,
    wait_until_idle,
)
from tests.conftest import wait_until
from tests.replica_support import LogLine, NginxProxy, https_response_head, nginx_binary

pytestmark = pytest.mark.replicas

skip_without_browser("replica tests")
NGINX = nginx_binary()
if NGINX is None:
    pytest.skip("replica tests need nginx (scripts/test.sh installs Debian's nginx)",
                allow_module_level=True)
if shutil.which("openssl") is None:
    pytest.skip("replica tests need openssl for a throwaway certificate", allow_module_level=True)

from playwright.sync_api import Browser, BrowserContext, Page, expect  # noqa: E402

import st_comps  # noqa: E402
from ecc.arguments.drafts import MAX_LINK_BYTES, DraftLimits, link_problem  # noqa: E402
from st_page import links  # noqa: E402
from tests.test_limits import a_link_of  # noqa: E402

HOST = "console.example.com"  # the guide's server_name, resolved to 127.0.0.1 by Chromium
MOVE_TIMEOUT_MS = 45_000  # reconnect back-off plus the new session's first run


@dataclass
class Deployment:
    replicas: list[StreamlitServer]  # the fixture stops every server in this list
    proxy: NginxProxy
    workdir: Path

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.proxy.ports.https}/"

    def replica_addr(self, index: int) -> str:
        return f"127.0.0.1:{self.proxy.ports.replicas[index]}"

    def lines_of(self, route: str) -> list[LogLine]:
        return [line for line in self.proxy.access_log() if line.route == route]

    def closed_page_lines(self, route: str, websockets: int = 1) -> list[LogLine]:
        """A closed page's lines, once nginx has logged its `websockets` websockets (it logs
        one when the connection ends, a moment after the browser closed it)."""
        def logged() -> bool:
            lines = self.lines_of(route)
            return sum(line.request == "GET /_stcore/stream" for line in lines) >= websockets

        wait_until(logged, timeout=10, what=f"nginx logs the websocket of route {route}")
        return self.lines_of(route)


def _port(server: StreamlitServer) -> int:
    return int(server.url.rstrip("/").rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    assert NGINX is not None
    workdir = tmp_path_factory.mktemp("replicas")
    replicas: list[StreamlitServer] = []
    proxy: NginxProxy | None = None
    try:
        for name in ("a", "b"):
            (workdir / name).mkdir()
            replicas.append(StreamlitServer.start(workdir / name))
        proxy = NginxProxy.prepare(NGINX, workdir / "nginx",
                                   (_port(replicas[0]), _port(replicas[1])))
        proxy.start()
        yield Deployment(replicas, proxy, workdir)
    finally:
        if proxy is not None:
            proxy.stop()
        for replica in replicas:
            replica.stop()
    for replica in replicas:
        replica.assert_no_traceback_logged()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium(f"--host-resolver-rules=MAP {HOST} 127.0.0.1")


OpenPage = Callable[[], tuple[BrowserContext, Page]]


@pytest.fixture
def open_page(deployment: Deployment, browser: Browser) -> Iterator[OpenPage]:
    contexts: list[BrowserContext] = []

    def open_new() -> tuple[BrowserContext, Page]:
        # The certificate is a throwaway self-signed one; everything else is as deployed.
        context = browser.new_context(viewport=VIEWPORT, ignore_https_errors=True)
        contexts.append(context)
        page = context.new_page()
        open_console(page, deployment.url)
        return context, page

    try:
        yield open_new
        for context in contexts:
            for page in context.pages:
                assert_no_traceback(page)
    finally:
        for context in contexts:
            context.close()


def route_of(context: BrowserContext) -> str:
    cookies = [c for c in context.cookies() if c["name"] == "ecc_route"]
    assert len(cookies) == 1, cookies
    assert cookies[0].get("secure") is True
    return cookies[0]["value"]


def replicas_of(lines: list[LogLine]) -> set[str]:
    """The replica that finally answered each request (nginx lists every one it tried)."""
    return {line.upstream.split(", ")[-1] for line in lines}


def test_nginx_accepts_the_guides_configuration(deployment: Deployment) -> None:
    checked = deployment.proxy.check()
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


# What the guide's nginx adds to every response of the console (issue 17).
SECURITY_HEADERS = {
    "content-security-policy": "frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "strict-transport-security": "max-age=31536000",
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
}


def a_static_asset(deployment: Deployment) -> str:
    """The path of a script the page loads (its name is hashed per Streamlit build)."""
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE  # the throwaway certificate
    connection = http.client.HTTPSConnection("127.0.0.1", deployment.proxy.ports.https,
                                             timeout=30, context=tls)
    try:
        connection.request("GET", "/", headers={"Host": HOST})
        page = connection.getresponse().read().decode()
    finally:
        connection.close()
    found = re.search(r'src="\./(static/js/[^"]+\.js)"', page)
    assert found, page[:2000]
    return "/" + found.group(1)


def test_every_location_sends_the_security_headers_once(deployment: Deployment) -> None:
    port = deployment.proxy.ports.https
    websocket = {"Upgrade": "websocket", "Connection": "Upgrade",
                 "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13",
                 "Origin": f"https://{HOST}:{port}"}
    answers = {
        "page": https_response_head(port, HOST, "/?q=select%201"),
        "static asset": https_response_head(port, HOST, a_static_asset(deployment)),
        "websocket handshake": https_response_head(port, HOST, "/_stcore/stream", websocket),
        # Streamlit refuses a path naming a drive (its path-security middleware): an error.
        "refused path": https_response_head(port, HOST, "/C:/Windows/win.ini"),
    }
    assert answers["page"].status == 200
    assert answers["static asset"].status == 200
    assert answers["websocket handshake"].status == 101
    assert answers["refused path"].status == 400
    for what, head in answers.items():
        for name, value in SECURITY_HEADERS.items():
            assert head.values(name) == [value], (what, name, head.headers)
        # The affinity cookie, from the same add_header level: still sent everywhere.
        assert any(v.startswith("ecc_route=") for v in head.values("set-cookie")), what


def test_the_longest_link_the_console_writes_opens_through_nginx(deployment: Deployment
                                                                 ) -> None:
    port = deployment.proxy.ports.https
    for fill in ("é", "a"):  # 6 encoded bytes per character, and 1
        params = a_link_of(MAX_LINK_BYTES, fill)
        assert link_problem(params, DraftLimits(100_000, 65_536),
                            max_link_bytes=MAX_LINK_BYTES) is None  # the console writes it
        address = f"https://{HOST}:{port}/?{urlencode(params)}"
        page = https_response_head(port, HOST, f"/?{urlencode(params)}")
        assert page.status == 200, fill
        # The page's own requests carry the whole address as their Referer (same-origin).
        asset = https_response_head(port, HOST, a_static_asset(deployment),
                                    {"Referer": address})
        assert asset.status == 200, fill
    # What the console wrote before it had a byte bound (a query up to max_query_chars):
    # nginx refused it.
    old_bound = urlencode({"q": "select '" + "a" * 10_000 + "'", "mode": "text"})
    assert https_response_head(port, HOST, f"/?{old_bound}").status == 414


def test_a_reload_takes_the_editor_bundle_from_the_browsers_cache(
        deployment: Deployment, open_page: OpenPage) -> None:
    """The bundle's name is its content's hash: nginx marks it immutable for a year (with the
    security headers of every location), so a reload of the page does not fetch it again."""
    context, page = open_page()
    bundle = "/_stcore/bidi-components/ecc.edgeql_editor/" + st_comps.BUNDLE.name
    route = route_of(context)
    head = https_response_head(deployment.proxy.ports.https, HOST, bundle,
                               {"Cookie": f"ecc_route={route}"})  # the page's replica
    assert head.status == 200
    assert head.values("cache-control") == ["public, max-age=31536000, immutable"]
    for name, value in SECURITY_HEADERS.items():
        assert head.values(name) == [value], (name, head.headers)
    assert any(v.startswith("ecc_route=") for v in head.values("set-cookie"))
    page.reload()
    open_console(page, page.url)
    run_query(page, "select 'after reload'")  # the editor works: its module was loaded
    expect(grid_cell(page, 1, 0)).to_have_text("after reload", timeout=RESULT_TIMEOUT_MS)
    context.close()
    lines = deployment.closed_page_lines(route, websockets=2)
    browser_fetches = [line for line in lines if line.request == f"GET {bundle}"]
    # One by the browser (the first load), one by this test: none at the reload.
    assert [line.status for line in browser_fetches] == ["200", "200"], lines


def test_plain_http_only_redirects_to_https(deployment: Deployment) -> None:
    # HSTS is set where TLS terminates; over plain HTTP a browser would ignore it.
    connection = http.client.HTTPConnection("127.0.0.1", deployment.proxy.ports.http, timeout=30)
    try:
        connection.request("GET", "/?q=select%201", headers={"Host": HOST})
        response = connection.getresponse()
    finally:
        connection.close()
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/?q=select%201"
    assert response.getheader("Strict-Transport-Security") is None


def test_all_requests_of_one_page_go_to_one_replica(
    deployment: Deployment, open_page: OpenPage
) -> None:
    context, page = open_page()
    run_query(page, "select 'sticky'")
    expect(grid_cell(page, 1, 0)).to_have_text("sticky", timeout=RESULT_TIMEOUT_MS)
    open_panel(page, re.compile(r"History \(\d+\)"))  # more reruns over the websocket
    wait_until_idle(page)
    route = route_of(context)
    context.close()
    lines = deployment.closed_page_lines(route)
    requests = {line.request for line in lines}
    assert "GET /" in requests and "GET /_stcore/stream" in requests, requests
    assert any(r.startswith("GET /static/") for r in requests), requests
    assert {line.status for line in lines if line.request == "GET /_stcore/stream"} == {"101"}
    served_by = replicas_of(lines)
    assert len(served_by) == 1, served_by
    assert served_by <= {deployment.replica_addr(0), deployment.replica_addr(1)}


def test_ten_pages_spread_over_both_replicas(
    deployment: Deployment, open_page: OpenPage
) -> None:
    # Each page's key is nginx's random $request_id, hashed onto two replicas: all ten on one
    # replica has a probability of about 2 × 2^-10 (0.2 %) with an even split.
    routes = []
    for _ in range(10):
        context, _page = open_page()
        routes.append(route_of(context))
        context.close()
    assert len(set(routes)) == 10
    per_page = [replicas_of(deployment.closed_page_lines(route)) for route in routes]
    assert all(len(served) == 1 for served in per_page), per_page
    assert set().union(*per_page) == {deployment.replica_addr(0), deployment.replica_addr(1)}


def test_a_shared_link_fills_the_editor_when_a_page_is_opened_and_typing_wins(
    deployment: Deployment, browser: Browser
) -> None:
    from urllib.parse import quote

    context = browser.new_context(viewport=VIEWPORT, ignore_https_errors=True)
    try:
        page = context.new_page()
        open_console(page, deployment.url + "?q=" + quote("select 'shared'"))
        expect(query_box(page)).to_have_text("select 'shared'")
        loaded = page.get_by_text("Loaded a shared query")
        wait_until_idle(page)  # after the rerun the editor's acknowledgement asks for
        expect(loaded).to_be_visible()
        expect(page.get_by_text(re.compile(r"^History \(0\)$"))).to_be_visible()  # not run
        run_query(page, "select 'mine'")
        expect(grid_cell(page, 1, 0)).to_have_text("mine", timeout=RESULT_TIMEOUT_MS)
        wait_until_idle(page)
        expect(query_box(page)).to_have_text("select 'mine'")
        expect(loaded).to_have_count(0)
        assert "mine" in page.url
        assert_no_traceback(page)
    finally:
        context.close()


def test_a_stopped_replicas_pages_move_and_run_what_the_user_typed(
    deployment: Deployment, open_page: OpenPage
) -> None:
    """Stop the replica behind a page, then bring it back (the guide describes both)."""
    context, page = open_page()
    run_query(page, "select 'first'")
    expect(grid_cell(page, 1, 0)).to_have_text("first", timeout=RESULT_TIMEOUT_MS)
    assert "q=select" in page.url  # the address now holds the previous run's query
    # "Load into form" over other text makes the editor show a later version than a new
    # session's first: the new session must continue from it, not replace the typing.
    type_query(page, "select 'draft'")
    wait_until_idle(page)
    load_from_history(page, "select 'first'")
    open_panel(page, re.compile(r"History \(\d+\)"))  # closed again
    wait_until_idle(page)
    type_query(page, "select 'typed'")
    route = route_of(context)
    (served_by,) = replicas_of(deployment.lines_of(route))
    index = [deployment.replica_addr(0), deployment.replica_addr(1)].index(served_by)
    survivor = deployment.replica_addr(1 - index)

    deployment.replicas[index].stop()
    deployment.closed_page_lines(route)  # the old websocket's line: it ended with its replica

    # The page reconnects through nginx to the other replica and says so, without a click.
    notice = page.get_by_text(links.MOVED_NOTICE)
    expect(notice).to_be_visible(timeout=MOVE_TIMEOUT_MS)
    wait_until_idle(page)
    expect(notice).to_have_count(1)
    # A new session: none of its own runs, the browser's kept run handed over to it.
    expect(page.get_by_text("History (0) · 1 kept in this browser", exact=True)).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)  # the old result is gone
    expect(page.get_by_test_id("stDownloadButton")).to_have_count(0)  # its dead downloads too
    expect(query_box(page)).to_have_text("select 'typed'")  # what the user typed is kept

    # The Run button, not Ctrl+Enter: Ctrl+Enter sends the editor's text with the run, a
    # click sends nothing new (the text was sent before the replica stopped), so it runs
    # only if the new session took the typed text from what the browser sent on reconnect.
    page.get_by_role("button", name=re.compile("Run")).click()
    expect(grid_cell(page, 1, 0)).to_have_text("typed", timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(page)
    assert page.get_by_text("Loaded a shared query").count() == 0
    expect(notice).to_have_count(0)  # said once
    expect(page.get_by_text("History (1) · 2 kept in this browser", exact=True)).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)
    assert "typed" in page.url  # the address follows the run again

    # The stopped replica comes back at its address (docs/DEPLOYMENT.md, "When a replica stops
    # or comes back"): the page's cookie hashes to it again, but the page's websocket and
    # session stay on the survivor, so its downloads (/media) now fail there with 404.
    (deployment.workdir / "returned").mkdir()
    returned = StreamlitServer.start(deployment.workdir / "returned",
                                     port=deployment.proxy.ports.replicas[index])
    deployment.replicas.append(returned)
    wait_for_route_to(deployment, page, route, served_by)
    with page.expect_download(timeout=RESULT_TIMEOUT_MS) as download:
        page.get_by_test_id("stDownloadButton").first.click()
    assert download.value.failure() is not None, "the download should fail after the return"
    media = [line for line in deployment.lines_of(route) if "/media/" in line.request]
    assert media and media[-1].status == "404" and replicas_of(media[-1:]) == {served_by}
    run_query(page, "select 'still'")  # queries keep working on the survivor
    expect(grid_cell(page, 1, 0)).to_have_text("still", timeout=RESULT_TIMEOUT_MS)
    context.close()
    streams = [line for line in deployment.closed_page_lines(route, websockets=2)
               if line.request == "GET /_stcore/stream"]
    assert streams[-1].status == "101" and replicas_of(streams[-1:]) == {survivor}, streams


def wait_for_route_to(deployment: Deployment, page: Page, route: str, replica: str) -> None:
    """Until nginx sends this page's plain requests to `replica` again (after its
    `fail_timeout`). Each probe is a same-origin fetch from the page, with its cookie."""
    deadline = time.monotonic() + 30
    while True:
        status = page.evaluate("url => fetch(url).then(r => r.status)",
                               deployment.url + "_stcore/health")
        health = [line for line in deployment.lines_of(route)
                  if line.request == "GET /_stcore/health"]
        if status == 200 and health and replicas_of(health[-1:]) == {replica}:
            return
        assert time.monotonic() < deadline, f"nginx never routed {route} to {replica} again"
        time.sleep(0.5)  # one probe per half second: nginx retries a failed server after 10 s
