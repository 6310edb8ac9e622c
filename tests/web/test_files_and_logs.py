"""Files and logs (issue 10): the data folder is 0700 and its files 0600, reset and invitation
tokens never reach a log, and a refused request (403) logs one line without a traceback."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import select
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ivig.web.logs import REDACTED, RedactSecrets, RefusedOneLine, redact

SECRET = "Zq9SECRETtoken-abc_123"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_redact_takes_tokens_out_of_paths():
    assert redact(f"GET /invite/{SECRET}/ HTTP/1.1") == f"GET /invite/{REDACTED}/ HTTP/1.1"
    assert SECRET not in redact(f"/accounts/reset/MQ/{SECRET}/")
    assert SECRET not in redact(f"Not Found: /accounts/reset/MQ/{SECRET}/set-password/")
    assert redact("/patients/3/") == "/patients/3/"


@pytest.mark.nopostgres  # it migrates a database of its own: keep it off the shared server
def test_served_app_keeps_its_folder_private_and_tokens_out_of_the_log(tmp_path: Path):
    data = tmp_path / "data"
    port = _free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("IVIG_")
        and key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    environment["IVIG_DATA_DIR"] = str(data)
    process = subprocess.Popen(
        [sys.executable, "-c", "import os; os.umask(0o022); from ivig.cli import main; main()",
         "serve", "--port", str(port), "--workers", "1"],
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
        while "IVIG planner running at" not in output:
            assert time.monotonic() < deadline, output
            assert process.poll() is None, output
            if select.select([process.stdout], [], [], 1)[0]:
                output += process.stdout.readline()
        base = f"http://127.0.0.1:{port}"
        for path in (f"/invite/{SECRET}/", f"/accounts/reset/MQ/{SECRET}/"):
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(base + path, timeout=30).read()
        time.sleep(0.5)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
        output += rest
    assert SECRET not in output
    assert f"/invite/{REDACTED}/" in output
    assert _mode(data) == 0o700
    for name in ("ivig.sqlite3", "secret_key"):
        assert _mode(data / name) == 0o600, name
    for extra in data.glob("ivig.sqlite3-*"):
        assert _mode(extra) & 0o077 == 0, extra


def test_an_existing_open_folder_is_tightened(tmp_path: Path):
    from ivig.web.env import private_data_dir

    folder = tmp_path / "old"
    folder.mkdir(mode=0o755)
    (folder / "ivig.sqlite3").write_text("")
    os.chmod(folder / "ivig.sqlite3", 0o644)
    private_data_dir(folder)
    assert _mode(folder) == 0o700 and _mode(folder / "ivig.sqlite3") == 0o600


@pytest.fixture
def console():
    """The stream of the app's console handler (the one that carries our filters)."""
    handler = next(
        h for h in logging.getLogger().handlers
        if any(isinstance(f, RedactSecrets) for f in h.filters)
    )
    assert any(isinstance(f, RefusedOneLine) for f in handler.filters)
    stream = io.StringIO()
    old = handler.setStream(stream)  # type: ignore[attr-defined]
    yield stream
    handler.setStream(old)  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_a_refused_request_logs_one_line(client, world, console):
    client.force_login(world.viewer)
    response = client.post(f"/patients/{world.patient.pk}/edit/", {"name": "X"})
    assert response.status_code == 403
    text = console.getvalue()
    assert "Forbidden" in text and "Traceback" not in text
    assert len(text.strip().splitlines()) == 1


@pytest.mark.django_db
def test_a_wrong_invitation_link_is_logged_without_its_token(client, console):
    assert client.get(f"/invite/{SECRET}/").status_code == 404
    assert client.get(f"/accounts/reset/MQ/{SECRET}/").status_code in (200, 302)
    assert SECRET not in console.getvalue()
    assert f"/invite/{REDACTED}/" in console.getvalue()
