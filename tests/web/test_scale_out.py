"""Two `ivig serve` processes over one PostgreSQL (the production setup in docs/web.md):
a login made on one works on the other, a lockout earned on one holds on the other, and what
one records the other shows. Nothing lives only in one process's memory.

PostgreSQL pass only (scripts/test.sh): SQLite is one file on one machine, not scale-out.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from ivig.web.patients.models import Measurement

pytestmark = pytest.mark.postgres


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_url() -> str:
    s = connection.settings_dict
    user = urllib.parse.quote(s["USER"] or "")
    password = urllib.parse.quote(s["PASSWORD"] or "")
    return f"postgres://{user}:{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def _serve(environment: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "from ivig.cli import main; main()", "serve",
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    output, deadline = "", time.monotonic() + 120
    assert process.stdout is not None
    while "IVIG planner running at" not in output:
        assert time.monotonic() < deadline and process.poll() is None, output
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            output += process.stdout.readline()
    return process, f"http://127.0.0.1:{port}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """One person's cookies, used against any of the servers (cookies ignore the port)."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect
        )

    def go(self, url: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=body), timeout=30) as r:
                return r.status, r.headers.get("Location", ""), r.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def token(self, page: str) -> str:
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert found, page[:500]
        return found.group(1)

    def login(self, base: str, email: str, password: str) -> tuple[int, str, str]:
        _, _, page = self.go(base + "/accounts/login/")
        return self.go(
            base + "/accounts/login/",
            {"username": email, "password": password, "csrfmiddlewaretoken": self.token(page)},
        )


@pytest.fixture(autouse=True)
def _production_hasher(settings: Any) -> None:
    """The servers check passwords with the production hashers: store them with Argon2."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory, django_db_setup: None):
    tmp_path = tmp_path_factory.mktemp("scale-out")
    if connection.vendor != "postgresql":
        pytest.skip("scale-out runs over PostgreSQL (the PostgreSQL pass of scripts/test.sh)")
    common = {
        k: v for k, v in os.environ.items()
        if not k.startswith("IVIG_")
        and k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    common.update(
        DATABASE_URL=_database_url(),
        IVIG_SECRET_KEY=secrets.token_urlsafe(40),  # every server of a site shares its key
        IVIG_STATIC_ROOT=str(tmp_path / "static"),
    )
    processes = []
    try:
        bases = []
        for name in ("a", "b"):  # one after the other: the second finds the static files
            environment = {**common, "IVIG_DATA_DIR": str(tmp_path / name)}
            process, base = _serve(environment)
            processes.append(process)
            bases.append(base)
        yield bases
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_log_in_on_one_server_and_work_on_the_other(two_servers, build):
    a, b = two_servers
    team = build.make_team()
    nurse = build.make_nurse(team)
    nurse.set_password(build.PASSWORD)
    nurse.save()
    patient = build.make_patient(team, nurse, name="Scale Out Child")
    browser = Browser()
    status, location, _ = browser.login(a, nurse.email, build.PASSWORD)
    assert status == 302 and "/accounts/login/" not in location

    status, _, page = browser.go(f"{b}/patients/{patient.pk}/")  # the session is in the database
    assert status == 200 and "Scale Out Child" in page
    _, _, form = browser.go(f"{b}/patients/{patient.pk}/measurements/new/?kind=weight")
    taken_at = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    status, _, answer = browser.go(
        f"{b}/patients/{patient.pk}/measurements/new/?kind=weight",
        {"kind": "weight", "value": "31.5 kg", "taken_at": taken_at,
         "csrfmiddlewaretoken": browser.token(form)},
    )
    assert status == 302, " ".join(re.sub(r"<[^>]+>", " ", answer).split())[-1500:]
    assert Measurement.objects.filter(patient=patient, unit="kg").count() == 1
    status, _, page = browser.go(f"{a}/patients/{patient.pk}/")  # and server A shows it
    assert status == 200 and "31.5" in page

    # logging out on A ends the session on B too
    _, _, page = browser.go(f"{a}/patients/{patient.pk}/")
    status, _, _ = browser.go(f"{a}/accounts/logout/", {"csrfmiddlewaretoken": browser.token(page)})
    assert status == 302
    status, location, _ = browser.go(f"{b}/patients/{patient.pk}/")
    assert status == 302 and location.startswith("/accounts/login/")


@pytest.mark.django_db(transaction=True)
def test_a_lockout_earned_on_one_server_holds_on_the_other(two_servers, build, settings):
    a, b = two_servers
    nurse = build.make_nurse(build.make_team())
    nurse.set_password(build.PASSWORD)
    nurse.save()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        status, _, _ = Browser().login(a, nurse.email, "wrong password, wrong")
        assert status in (200, 429)  # the form again with the error; the last one locks
    # the right password, on the other server
    status, _, page = Browser().login(b, nurse.email, build.PASSWORD)
    assert status != 302 and "Too many attempts" in page
