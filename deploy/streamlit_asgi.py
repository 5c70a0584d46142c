"""The console with security headers (framing, referrer, nosniff) for a deployment without a
reverse proxy: ``streamlit run deploy/streamlit_asgi.py`` from the repository root serves
``streamlit_app.py`` as Streamlit's ``st.App`` wrapped in ``ecc.settings.security_headers``.
Behind a
proxy, run ``streamlit_app.py`` and let the proxy add the headers (``deploy/nginx.conf``)."""

import sys
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

# Streamlit puts this file's folder on sys.path; the console's modules sit one level up.
REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from ecc.settings.security_headers import SecurityHeaders  # noqa: E402

app = st.App(str(REPO_ROOT / "streamlit_app.py"), middleware=[Middleware(SecurityHeaders)])
