"""The deployment guide shows the files it talks about exactly as they are in the repo."""

from __future__ import annotations

import re

from tests.browser_support import REPO_ROOT

GUIDE = REPO_ROOT / "docs" / "DEPLOYMENT.md"


def fenced_blocks(text: str, language: str) -> list[str]:
    """Contents of the ```language blocks of a Markdown text (fence lines excluded)."""
    pattern = re.compile(rf"^```{re.escape(language)}\n(.*?)^```$", re.S | re.M)
    return pattern.findall(text)


def test_the_guides_nginx_block_is_deploy_nginx_conf() -> None:
    blocks = fenced_blocks(GUIDE.read_text(), "nginx")
    assert len(blocks) == 1, "the guide should show exactly one nginx configuration"
    assert blocks[0] == (REPO_ROOT / "deploy" / "nginx.conf").read_text()


def test_the_nginx_file_gives_both_http2_forms() -> None:
    conf = (REPO_ROOT / "deploy" / "nginx.conf").read_text()
    assert re.search(r"^\s*listen 443 ssl http2;", conf, re.M)  # active: nginx < 1.25.1
    assert re.search(r"^\s*#\s*http2 on;", conf, re.M)  # the new form, for nginx >= 1.25.1
    assert re.search(r"^\s*keepalive \d+;", conf, re.M)


def test_the_guides_dependencies_block_is_requirements_txt() -> None:
    text = GUIDE.read_text()
    section = text[text.index("### Dependencies (`requirements.txt`)"):]
    blocks = fenced_blocks(section, "")
    assert blocks, "no code block under the Dependencies heading"
    assert blocks[0] == (REPO_ROOT / "requirements.txt").read_text()
    assert "streamlit[auth]" in blocks[0]
