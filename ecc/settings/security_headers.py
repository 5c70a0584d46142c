"""Security headers for a deployment without a reverse proxy.

Streamlit 1.67 has no setting that adds response headers (none of its ``server.*`` options
does), so a console served straight from ``streamlit run`` can be framed by any site. The
guide's nginx (``deploy/nginx.conf``) adds these headers; without a proxy,
``deploy/streamlit_asgi.py`` serves the page as Streamlit's ``st.App`` wrapped in
``SecurityHeaders``. Plain ASGI, no Streamlit import: it wraps any ASGI app. It also lets
browsers keep the editor's bundle for good, as the guide's nginx does: its file name is its
content's hash.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The policy of deploy/nginx.conf (tests/test_security_headers.py keeps the two equal).
# frame-ancestors / X-Frame-Options: no other site frames the console (a shared ?q= link);
# same-origin: no other origin receives a page's URL (and its ?q=) as a Referer.
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", "frame-ancestors 'none'"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("X-Content-Type-Options", "nosniff"),
)
# Only over TLS: a browser ignores it on plain HTTP, where it would mean nothing.
HSTS: tuple[str, str] = ("Strict-Transport-Security", "max-age=31536000")
# The editor's bundle is named after its content (frontend/edgeql_editor/build.mjs): a new
# bundle has a new URL, so a successful answer may be kept for a year and never revalidated.
# Streamlit sends "Cache-Control: public" only (no max-age, no validator): every reload of a
# page would fetch it again. The same path pattern as deploy/nginx.conf's location.
IMMUTABLE_PATH = re.compile(r"^/_stcore/bidi-components/ecc\.edgeql_editor/"
                            r"editor\.[0-9a-f]{16}\.js$")
IMMUTABLE: tuple[str, str] = ("Cache-Control", "public, max-age=31536000, immutable")


def _encoded(headers: tuple[tuple[str, str], ...]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


class SecurityHeaders:
    """ASGI middleware: every HTTP response gets ``SECURITY_HEADERS`` (and ``HSTS`` when the
    request came over HTTPS), each once: a header the app already sent is left as it is.
    Websocket and lifespan traffic passes untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = _encoded(SECURITY_HEADERS + ((HSTS,) if scope.get("scheme") == "https" else ()))

        immutable = bool(IMMUTABLE_PATH.match(scope.get("path", "")))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if immutable and message.get("status") == 200:  # an error is never kept
                    headers = [(n, v) for n, v in headers if bytes(n).lower() != b"cache-control"]
                    headers += _encoded((IMMUTABLE,))
                present = {bytes(name).lower() for name, _ in headers}
                headers += [(name, value) for name, value in added if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
