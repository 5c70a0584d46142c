"""End-to-end sign-in: `streamlit run` with an `[auth]` section, an OpenID Connect provider on
loopback, headless Chromium clicking through the real redirect flow.

The provider is `oidc-provider-mock` (run in this process's thread on 127.0.0.1, any client id
and secret accepted). Its authorization page lists predefined users, each with the ID-token
claims given here, `email_verified` among them: one click signs that user in. Streamlit reads
`[auth]` from its secrets, which `--secrets.files` points at a temporary file (nothing is written
into the repo). Sign-out goes through the provider's end-session page and back.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest

from ecc.display.safe_text import WORD_JOINER
from tests.browser_support import (
    PAGE_LOAD_TIMEOUT_MS,
    REPO_ROOT,
    RESULT_TIMEOUT_MS,
    StreamlitServer,
    assert_no_traceback,
    free_loopback_port,
    open_console,
    open_panel,
    query_box,
    save_query,
    serving,
    skip_without_browser,
    type_query,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

skip_without_browser()
oidc_provider_mock = pytest.importorskip(
    "oidc_provider_mock", reason="pip install -r requirements-dev.txt (oidc-provider-mock)"
)

from playwright.sync_api import Browser, Page, expect  # noqa: E402

EVIL = "http://127.0.0.1:9"  # nothing listens there; only its appearance in the page matters
PAYLOAD_EMAIL = (f"[Session expired: sign in again]({EVIL}/login) ![px]({EVIL}/px.png) "
                 f"<img src={EVIL}/img.png> www.evil.example eve@evil.example")
USERS: dict[str, dict[str, object]] = {  # sub -> ID-token claims
    "ana": {"email": "ana@example.com", "email_verified": True},
    "uma": {"email": "uma@example.com", "email_verified": False},
    "max": {"email": "max@example.com"},  # no email_verified claim at all
    "eve": {"email": PAYLOAD_EMAIL, "email_verified": True},
    "bob": {"email": "bob@example.com", "email_verified": True},
}
ALLOWED = ["ana@example.com", "uma@example.com", "max@example.com", "bob@example.com"]


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The provider's base URL; its server thread stops when the module's tests end."""
    users = [oidc_provider_mock.User(sub=sub, claims=claims) for sub, claims in USERS.items()]
    with oidc_provider_mock.run_server_in_thread(port=0, user_claims=users) as server:
        yield f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def server(provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    port = free_loopback_port()
    secrets_text = f"""
[connections.gel]
fake_client = true
allowed_emails = {ALLOWED!r}

[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "{secrets.token_hex(32)}"
client_id = "ecc-browser-test"
client_secret = "{secrets.token_hex(16)}"
server_metadata_url = "{provider}/.well-known/openid-configuration"
"""
    yield from serving(StreamlitServer.start(
        tmp_path_factory.mktemp("streamlit-auth"), secrets_text=secrets_text, port=port
    ))


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context: no cookies, so nobody is signed in yet."""
    context = browser.new_context()
    opened = context.new_page()
    try:
        yield opened
        assert_no_traceback(opened)
    finally:
        context.close()


def sign_in(page: Page, server: StreamlitServer, provider: str, sub: str) -> None:
    """From the console's sign-in button through the provider's form back to the console."""
    page.goto(server.url)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(provider) + r"/oauth2/authorize"),
                      timeout=PAGE_LOAD_TIMEOUT_MS)
    page.get_by_role("button", name=sub, exact=True).click()  # a predefined user
    page.wait_for_url(server.url, timeout=PAGE_LOAD_TIMEOUT_MS)


def refusal(page: Page) -> str:
    """The page's refusal text, once it shows; and the console is not there."""
    notice = page.get_by_test_id("stAlertContentInfo")
    expect(notice).to_be_visible(timeout=PAGE_LOAD_TIMEOUT_MS)
    wait_until_idle(page, PAGE_LOAD_TIMEOUT_MS)
    expect(query_box(page)).to_have_count(0)
    return notice.inner_text().replace(WORD_JOINER, "")


def test_signed_out_visitors_see_only_a_sign_in_button(
    page: Page, server: StreamlitServer
) -> None:
    page.goto(server.url)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=PAGE_LOAD_TIMEOUT_MS)
    assert "Sign in to use this console." in refusal(page)


def test_an_allowed_verified_user_gets_the_console_and_can_sign_out(
    page: Page, server: StreamlitServer, provider: str
) -> None:
    sign_in(page, server, provider, "ana")
    open_console(page, server.url)
    sidebar = page.get_by_test_id("stSidebar")
    caption = sidebar.get_by_test_id("stCaptionContainer").filter(has_text="Signed in as")
    expect(caption).to_be_visible()
    assert caption.inner_text().replace(WORD_JOINER, "") == "Signed in as ana@example.com."
    assert caption.locator("a").count() == 0, "the address was rendered as a link"
    assert page.locator('a[href^="mailto:"], a[href*="example.com"]').count() == 0
    assert any(c["name"] == "_streamlit_user" for c in page.context.cookies())

    sidebar.get_by_role("button", name="Sign out").click()
    # Streamlit sends the browser to the provider's end-session page, then back.
    page.wait_for_url(re.compile(re.escape(provider) + r"/oauth2/end_session"),
                      timeout=PAGE_LOAD_TIMEOUT_MS)
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(server.url, timeout=PAGE_LOAD_TIMEOUT_MS)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=PAGE_LOAD_TIMEOUT_MS)
    assert "Sign in to use this console." in refusal(page)
    assert not any(c["name"].startswith("_streamlit_user") for c in page.context.cookies())
    page.reload()  # signed out for good, not just on this page load
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=PAGE_LOAD_TIMEOUT_MS)
    expect(query_box(page)).to_have_count(0)


def test_a_user_not_on_the_allow_list_is_refused_and_their_address_stays_text(
    page: Page, server: StreamlitServer, provider: str
) -> None:
    sign_in(page, server, provider, "eve")
    reason = refusal(page)
    assert "is not allowed to use this console" in reason
    assert PAYLOAD_EMAIL in reason  # shown literally, brackets and all
    assert page.locator(f'a[href^="{EVIL}/"], img[src^="{EVIL}/"]').count() == 0
    assert page.locator('a[href*="evil.example"], img').count() == 0
    notice = page.get_by_test_id("stAlert")
    assert notice.locator("a, img").count() == 0, notice.inner_html()
    (REPO_ROOT / "artifacts").mkdir(exist_ok=True)
    page.screenshot(path=str(REPO_ROOT / "artifacts" / "sign-in-refused.png"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.mark.parametrize(("sub", "state"), [("uma", "not true"), ("max", "missing")],
                         ids=["email_verified-false", "email_verified-absent"])
def test_a_listed_address_the_provider_does_not_confirm_is_refused(
    page: Page, server: StreamlitServer, provider: str, sub: str, state: str
) -> None:
    sign_in(page, server, provider, sub)
    reason = refusal(page)
    assert str(USERS[sub]["email"]) in reason
    assert f"email_verified claim is {state}" in reason
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page, server: StreamlitServer, provider: str) -> None:
    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(re.escape(provider) + r"/oauth2/end_session"),
                      timeout=PAGE_LOAD_TIMEOUT_MS)
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(server.url, timeout=PAGE_LOAD_TIMEOUT_MS)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=PAGE_LOAD_TIMEOUT_MS)
    wait_until_idle(page, PAGE_LOAD_TIMEOUT_MS)


def memory_keys(page: Page) -> list[str]:
    keys: list[str] = page.evaluate(
        "() => Object.keys(localStorage).filter(k => k.startsWith('ecc.mem.v1.'))")
    return keys


def test_another_user_on_the_same_browser_never_sees_the_first_user_s_queries(
    page: Page, server: StreamlitServer, provider: str
) -> None:
    sign_in(page, server, provider, "ana")
    open_console(page, server.url)
    type_query(page, "select 'ana-private-query'")
    save_query(page, "Ana's query", re.compile(r"^Saved queries \(0\)"))
    page.wait_for_function("() => Object.keys(localStorage).some(k => "
                           "k.startsWith('ecc.mem.v1.') && k.split('.')[4] === 's')",
                           timeout=RESULT_TIMEOUT_MS)
    ana_keys = memory_keys(page)
    assert ana_keys and not any("ana" in key for key in ana_keys)  # a keyed hash, not a name
    sign_out(page, server, provider)
    page.wait_for_function("() => !Object.keys(localStorage).some(k => "
                           "k.startsWith('ecc.mem.v1.'))", timeout=RESULT_TIMEOUT_MS)
    # (Had they stayed, another user's load would remove every other namespace: tested on
    # the component alone, tests/test_browser_memory_component.py.)
    sign_in(page, server, provider, "bob")
    open_console(page, server.url)
    open_panel(page, re.compile(r"^Saved queries \(0\)"))
    expect(page.get_by_text("Name the first query above and Save")).to_be_visible(
        timeout=RESULT_TIMEOUT_MS)
    assert not set(memory_keys(page)) & set(ana_keys)
    assert "ana-private-query" not in (page.locator("body").text_content() or "")
