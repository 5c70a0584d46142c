"""The console with security headers (framing, referrer, nosniff) for a deployment without a
reverse proxy: ``streamlit run streamlit_asgi.py`` from the repository root serves
``streamlit_app.py`` as Streamlit's ``st.App`` wrapped in ``ecc.security_headers``. Behind a
proxy, run ``streamlit_app.py`` and let the proxy add the headers (``deploy/nginx.conf``)."""

import streamlit as st
from starlette.middleware import Middleware

from ecc.security_headers import SecurityHeaders

app = st.App("streamlit_app.py", middleware=[Middleware(SecurityHeaders)])
