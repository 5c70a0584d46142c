"""Security headers without a proxy (``ecc.settings.security_headers``,
``deploy/streamlit_asgi.py``)
and their agreement with the guide's nginx (``deploy/nginx.conf``, run for real by
test_replicas.py)."""

from __future__ import annotations

import asyncio
import re
import urllib.request
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from ecc.settings.security_headers import (
    HSTS,
    IMMUTABLE,
    IMMUTABLE_PATH,
    SECURITY_HEADERS,
    Message,
    Scope,
    SecurityHeaders,
)
from tests.browser_support import (
    REPO_ROOT,
    RESULT_TIMEOUT_MS,
    VIEWPORT,
    StreamlitServer,
    assert_no_traceback,
    missing_requirement,
    open_console,
    run_query,
    serving,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

EXPECTED = {name.lower(): value for name, value in SECURITY_HEADERS}


def response_headers(scope: Scope, app_headers: list[tuple[bytes, bytes]],
                     status: int = 200) -> list[Message]:
    """The messages a client receives from ``SecurityHeaders`` around an app answering
    ``status`` with ``app_headers``."""
    sent: list[Message] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": app_headers})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(SecurityHeaders(app)(scope, receive, send))
    return sent


def header_values(message: Message, name: str) -> list[str]:
    return [v.decode() for k, v in message["headers"] if k.decode().lower() == name.lower()]


def test_every_http_response_gets_each_header_once() -> None:
    start, body = response_headers({"type": "http", "scheme": "http"},
                                   [(b"content-type", b"text/html"),
                                    (b"X-Content-Type-Options", b"nosniff")])
    for name, value in EXPECTED.items():
        assert header_values(start, name) == [value], name
    assert header_values(start, "content-type") == ["text/html"]
    assert body == {"type": "http.response.body", "body": b"ok"}


def test_hsts_only_over_https() -> None:
    plain, _ = response_headers({"type": "http", "scheme": "http"}, [])
    tls, _ = response_headers({"type": "http", "scheme": "https"}, [])
    assert header_values(plain, HSTS[0]) == []
    assert header_values(tls, HSTS[0]) == [HSTS[1]]


def test_the_editors_bundle_is_kept_for_good_and_nothing_else() -> None:
    import st_comps

    bundle = "/_stcore/bidi-components/ecc.edgeql_editor/" + st_comps.BUNDLE.name
    streamlits = [(b"cache-control", b"public")]
    kept, _ = response_headers({"type": "http", "scheme": "http", "path": bundle}, streamlits)
    assert header_values(kept, "cache-control") == [IMMUTABLE[1]]
    assert header_values(kept, "x-frame-options") == ["DENY"]
    missing, _ = response_headers({"type": "http", "scheme": "http", "path": bundle},
                                  streamlits, status=404)
    page, _ = response_headers({"type": "http", "scheme": "http", "path": "/"}, streamlits)
    for answer in (missing, page):
        assert header_values(answer, "cache-control") == ["public"]
    # The guide's nginx keeps the same file under the same pattern, for a year.
    nginx = (REPO_ROOT / "deploy" / "nginx.conf").read_text()
    assert f'location ~ "{IMMUTABLE_PATH.pattern}"' in nginx
    assert f'add_header {IMMUTABLE[0]} "{IMMUTABLE[1]}";' in nginx


def test_websocket_traffic_passes_untouched() -> None:
    seen: list[Scope] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        seen.append(scope)
        await send({"type": "websocket.accept", "headers": []})

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    scope: Scope = {"type": "websocket", "scheme": "ws"}
    asyncio.run(SecurityHeaders(app)(scope, receive, send))
    assert seen == [scope]
    assert sent == [{"type": "websocket.accept", "headers": []}]


def test_the_guides_nginx_sends_the_same_policy() -> None:
    conf = (REPO_ROOT / "deploy" / "nginx.conf").read_text()
    added = dict(re.findall(r'^\s*add_header\s+(\S+)\s+"([^"]*)"\s+always;', conf, re.M))
    assert {name.lower(): value for name, value in added.items()
            if name != "Set-Cookie"} == {**EXPECTED, HSTS[0].lower(): HSTS[1]}


@pytest.fixture(scope="module")
def asgi_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    yield from serving(StreamlitServer.start(tmp_path_factory.mktemp("asgi"),
                                             script="deploy/streamlit_asgi.py"))


def fetch(url: str) -> tuple[int, Any, str]:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.status, answer.headers, answer.read().decode(errors="replace")


def test_streamlit_asgi_serves_the_page_with_the_headers(asgi_server: StreamlitServer) -> None:
    status, headers, page = fetch(asgi_server.url + "?q=select%201")
    assert status == 200 and "<html" in page.lower()
    asset = re.search(r'src="\./(static/js/[^"]+\.js)"', page)
    assert asset, page[:2000]
    answers = {"page": headers, "static asset": fetch(asgi_server.url + asset.group(1))[1],
               "health": fetch(asgi_server.url + "_stcore/health")[1]}
    for what, got in answers.items():
        for name, value in EXPECTED.items():
            assert got.get_all(name) == [value], (what, name)
        assert got.get(HSTS[0]) is None, what  # plain HTTP


@pytest.mark.browser
@pytest.mark.skipif(missing_requirement() is not None, reason="needs Chromium and Playwright")
def test_the_console_served_this_way_runs_and_no_other_page_can_frame_it(
        asgi_server: StreamlitServer, browser: Browser) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        open_console(page, asgi_server.url)
        run_query(page, "select 1")
        expect(page.get_by_text(re.compile(r"· 1 row ·"))).to_be_visible(
            timeout=RESULT_TIMEOUT_MS)
        assert_no_traceback(page)
        import st_comps  # the page has run: its editor's asset directory is declared

        status, headers, _ = fetch(f"{asgi_server.url}_stcore/bidi-components/"
                                   f"ecc.edgeql_editor/{st_comps.BUNDLE.name}")
        assert status == 200 and headers.get_all("cache-control") == [IMMUTABLE[1]]
        framer = context.new_page()  # another page framing a shared link
        with framer.expect_console_message(lambda msg: "frame-ancestors" in msg.text,
                                           timeout=RESULT_TIMEOUT_MS):
            framer.set_content(f'<iframe src="{asgi_server.url}?q=select%201"></iframe>')
    finally:
        context.close()
