"""Who gets the console: the setup panel while the connection is not configured (or the
settings are wrong), and the sign-in gate (``[auth]`` and the allow-list)."""

from __future__ import annotations

import streamlit as st

from ecc.display.safe_text import escape_markdown
from ecc.settings.access import access_decision
from ecc.settings.config import ConsoleSettings
from st_page.browser_memory import forget_in_browser
from st_utils import auth_configured


def sign_in_gate(settings: ConsoleSettings) -> None:
    """With an ``[auth]`` section, only signed-in users on the allow-list get the console;
    without it, say plainly that the page is open to anyone who can reach it."""
    if not auth_configured():
        if settings.allowed_emails or settings.allowed_domains:
            # read_settings refuses this; the gate fails closed on its own all the same.
            st.error("An allow-list is set but sign-in ([auth]) is not configured.", icon="🔒")
            st.stop()
        st.sidebar.caption(
            "🔓 Sign-in is not configured: anyone who can reach this page can use it. "
            "Add an [auth] section to secrets to require sign-in."
        )
        return
    user = st.user
    logged_in = bool(getattr(user, "is_logged_in", False))
    raw_email = user.get("email") if logged_in else None
    email = raw_email if isinstance(raw_email, str) else None
    decision = access_decision(logged_in, email, settings.allowed_emails,
                               settings.allowed_domains,
                               email_verified=user.get("email_verified") if logged_in else None)
    # The e-mail (and so the reason) is whatever the identity provider says: hostile text.
    if decision.allowed:
        with st.sidebar:
            st.caption(escape_markdown(f"Signed in as {email}." if email else "Signed in."))
            st.button("Sign out", on_click=st.logout, key="sign_out")
        return
    st.title("Gel query console")
    # Nobody the console serves is signed in (signed out, or refused): this browser keeps
    # nobody's history or saved queries any longer.
    forget_in_browser()
    st.info(escape_markdown(decision.reason), icon="🔒")
    if logged_in:
        st.button("Sign out", on_click=st.logout, key="sign_out")
    else:
        st.button("Sign in", on_click=st.login, key="sign_in", type="primary")
    st.stop()

SETUP_TEXT = """
**This console is not connected to a database yet.** Tell it where your Gel (EdgeDB) server is
in `.streamlit/secrets.toml` (on Streamlit Community Cloud: *App settings → Secrets*):

```toml
[connections.gel]
dsn = "gel://USER:PASSWORD@HOST:5656/BRANCH"   # or: instance = "...", secret_key = "..."
# or: host = "...", port = 5656, user = "admin", password = "...", branch = "main"
# tls_security = "strict"        # "insecure" only for local development
```

Or set the driver's environment variables (`GEL_DSN`, or `GEL_HOST`/`GEL_PORT`/`GEL_USER`/
`GEL_PASSWORD`/`GEL_BRANCH`), then reload this page. See `.streamlit/secrets.toml.example`
for every setting, and the README for deployment.
"""


def setup_panel(problem: str | None = None) -> None:
    st.title("Gel query console")
    if problem:
        st.error(f"The console's settings need fixing: {escape_markdown(problem)}", icon="⚙️")
    st.info(SETUP_TEXT, icon="🔌")
