"""GET /docs renders the served document in a real headless Chromium, with no network but the API."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support import missing

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.slow
def test_docs_page_renders_every_tag_offline(api_url: str) -> None:
    if shutil.which(CHROMIUM) is None:
        missing("Debian's chromium (`make chromium` installs it)")
    # Given the page and its assets come from the API only (any other host is unreachable)
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=15000",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--dump-dom", f"{api_url}/docs"],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    # Then Swagger UI has rendered the operations of the document
    dom = proc.stdout
    assert "swagger-ui" in dom, proc.stderr[-2000:]
    for text in ('class="opblock', "/customer/devices/{device_id}", "/device/v1/heartbeat", "Authorize",
                 "Register a device; the provision token is shown once"):
        assert text in dom, text
