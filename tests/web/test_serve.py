"""``ivig serve`` for real: migrate, demo data, gunicorn with DEBUG off, static files."""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ivig.cli import app


def test_serve_options_are_documented():
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--demo", "--workers"):
        assert option in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        request = urllib.request.Request(url, headers=headers or {})
        with opener.open(request, timeout=10) as response:
            raw = response.read()
            body = raw.decode() if "Content-Encoding" not in response.headers else ""
            return response.status, dict(response.headers), body
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.mark.nopostgres  # it migrates a database of its own: keep it off the shared server
def test_ivig_serve_demo_runs_with_debug_off(tmp_path: Path):
    port = _free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("IVIG_")
        and key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    environment["IVIG_DATA_DIR"] = str(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-c", "from ivig.cli import main; main()", "serve", "--demo",
         "--port", str(port), "--workers", "1"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = ""
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while f"IVIG planner running at http://127.0.0.1:{port}/" not in output:
            assert time.monotonic() < deadline, output
            assert process.poll() is None, output
            ready, _, _ = select.select([process.stdout], [], [], 1)
            if ready:
                output += process.stdout.readline()
        assert re.search(r"caregiver@demo\.invalid\s+\S{8,}", output), output
        base = f"http://127.0.0.1:{port}"
        status, headers, _ = _get(base + "/")
        assert status == 302 and headers["Location"].startswith("/accounts/login/")
        status, _, body = _get(base + "/accounts/login/")
        assert status == 200 and "Email address" in body
        status, headers, body = _get(base + "/static/ivig/site.css")
        assert status == 200 and headers["Content-Type"].startswith("text/css")
        # Collected by `ivig serve`: hashed names, sent compressed and cached for a year.
        _, _, login_page = _get(base + "/accounts/login/")
        css = re.search(r'href="(/static/ivig/site\.[0-9a-f]{12}\.css)"', login_page)
        icon = re.search(r'href="(/static/ivig/favicon\.[0-9a-f]{12}\.svg)"', login_page)
        assert css and icon, login_page
        for encoding in ("br", "gzip"):
            status, headers, _ = _get(base + css.group(1), {"Accept-Encoding": encoding})
            assert status == 200 and headers["Content-Encoding"] == encoding
            assert "immutable" in headers["Cache-Control"]
        status, headers, _ = _get(base + "/favicon.ico")
        assert status == 302 and headers["Location"] == icon.group(1)
        status, headers, _ = _get(base + "/accounts/login/", {"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        status, _, body = _get(base + "/no-such-page/")
        assert status == 404 and "Not found" in body and "Traceback" not in body
        assert _get(base + "/healthz/")[0] == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@pytest.mark.django_db
def test_demo_loads_twice_with_new_passwords():
    from ivig.web.accounts.models import Membership, User
    from ivig.web.demo import load_demo
    from ivig.web.patients.models import Patient

    first = load_demo()
    second = load_demo()
    assert [login.email for login in first] == [login.email for login in second]
    assert first[0].password != second[0].password
    assert User.objects.get(email=second[0].email).check_password(second[0].password)
    assert Patient.objects.count() == 1 and Membership.objects.count() == 4
    patient = Patient.objects.get()
    assert patient.latest_weight() is not None and patient.latest_height() is not None
