"""Shared by scripts/load_test.py and scripts/crash_test.py: a throwaway database with a care
team, a patient and a running infusion; real `ivig serve` processes on 127.0.0.1; a small
HTTP client that logs in like a browser (cookies, CSRF token) and records an entry.

Loopback only: servers bind 127.0.0.1 and the client refuses any other host.
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
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class World:
    email: str
    password: str
    patient_id: int
    infusion_id: int


def environment(database_url: str | None, data_dir: Path | None = None) -> dict[str, str]:
    """The servers' environment: one data folder (SQLite) or one PostgreSQL, one secret key."""
    data = data_dir or Path(tempfile.mkdtemp(prefix="ivig-live-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVIG_")}
    env.pop("DATABASE_URL", None)
    env["IVIG_DATA_DIR"] = str(data)
    env["IVIG_SECRET_KEY"] = secrets.token_urlsafe(40)
    env["IVIG_LOG_LEVEL"] = "ERROR"
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def build_world(env: dict[str, str], patients: int = 1) -> list[World]:
    """Migrate and add a team with a nurse (a known password), patients, an approved plan and
    a running infusion each. Runs in a child process so this one keeps no Django state."""
    code = f"""
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivig.web.settings")
import django
django.setup()
from datetime import date
from django.core.management import call_command
from django.utils import timezone
call_command("migrate", interactive=False, verbosity=0)
call_command("createcachetable", verbosity=0)
from ivig.core.plan import build_plan
from ivig.render.plan_json import plan_to_dict
from ivig.web.accounts.models import CareTeam, Membership, Role, User
from ivig.web.infusions.models import Infusion
from ivig.web.patients.models import Patient
from ivig.web.plans.models import Approval, PlanKind, PlanVersion
import secrets
team = CareTeam.objects.create(name="Load team " + secrets.token_hex(3))
password = secrets.token_urlsafe(16) + "Aa1!"
email = "nurse-" + secrets.token_hex(4) + "@example.org"
nurse = User.objects.create_user(email, password, name="Load nurse")
Membership.objects.create(user=nurse, team=team, role=Role.NURSE)
doc = User.objects.create_user("doc-" + secrets.token_hex(4) + "@example.org",
                               secrets.token_urlsafe(16), name="Load doctor")
Membership.objects.create(user=doc, team=team, role=Role.PRESCRIBER)
document = {{"patient": {{"weight": "20 kg", "height": "112 cm", "sex": "female",
             "birth_date": "2016-05-01", "first_infusion": False}},
             "order": {{"product": "privigen", "indication": "pi", "dose": "0.4 g/kg",
             "days": 1, "dosing_weight": "actual", "vial_rounding": "none",
             "titration": [{{"rate": "0.5 mL/kg/h", "minutes": 30}}, {{"rate": "2 mL/kg/h"}}]}}}}
out = []
for i in range({patients}):
    patient = Patient.objects.create(team=team, name=f"Load patient {{i}}",
        birth_date=date(2016, 5, 1), sex="female", blood_group="A+", conditions=[],
        created_by=nurse)
    version = PlanVersion.objects.create(patient=patient, kind=PlanKind.PRESCRIBED,
        label="Course", order_document=document, author=doc)
    plan = build_plan(document, today=timezone.localdate())
    approval = Approval.objects.create(plan_version=version, snapshot=plan_to_dict(plan),
        catalogue_version=plan.catalogue.version, approved_by=doc, language="en")
    infusion = Infusion.objects.create(approval=approval, patient=patient, day=1,
        started_at=timezone.now() - timezone.timedelta(minutes=5), started_by=nurse)
    out.append([email, password, patient.pk, infusion.pk])
print("WORLD " + json.dumps(out))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith("WORLD ")), None)
    if result.returncode != 0 or line is None:
        sys.exit(f"could not build the test data:\n{result.stdout}\n{result.stderr}")
    import json

    return [World(*row) for row in json.loads(line.removeprefix("WORLD "))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One `ivig serve` (gunicorn, sync workers) on 127.0.0.1, in its own process group."""

    def __init__(self, env: dict[str, str], workers: int = 2) -> None:
        self.env, self.workers = env, workers
        self.port = free_port()
        self.process: subprocess.Popen[str] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> Server:
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from ivig.cli import main; main()", "serve",
             "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )
        output, deadline = "", time.monotonic() + timeout
        assert self.process.stdout is not None
        while "IVIG planner running at" not in output:
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                sys.exit(f"ivig serve did not start:\n{output}")
            ready, _, _ = select.select([self.process.stdout], [], [], 0.5)
            if ready:
                output += self.process.stdout.readline()
        # keep reading the access log so the pipe never fills up
        subprocess.Popen(["cat"], stdin=self.process.stdout, stdout=subprocess.DEVNULL)
        return self

    def kill(self) -> None:
        """SIGKILL the whole server (gunicorn's master and its workers) at once."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Client:
    """A browser-like session against one server: cookies, CSRF token, no redirects followed."""

    def __init__(self, base: str, timeout: float = 30) -> None:
        host = urllib.parse.urlsplit(base).hostname
        if host != "127.0.0.1":
            raise SystemExit(f"loopback only: refusing {base}")
        self.base, self.timeout = base, timeout
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect
        )

    def request(
        self, path: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def login(self, email: str, password: str) -> int:
        status, page = self.request("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or token is None:
            return status
        status, _ = self.request(
            "/accounts/login/",
            {"username": email, "password": password, "csrfmiddlewaretoken": token.group(1)},
        )
        return status  # 302 when logged in

    def record_premedication(self, world: World, name: str) -> int:
        """An entry in the infusion log through the htmx form; 200 = acknowledged."""
        now = time.strftime("%Y-%m-%dT%H:%M", time.gmtime())
        status, _ = self.request(
            f"/patients/{world.patient_id}/infusions/{world.infusion_id}/record/premedication/",
            {"premedication-at": now, "premedication-name": name,
             "premedication-dose": "5 mL"},
            {"X-CSRFToken": self.csrf(), "HX-Request": "true"},
        )
        return status


def count_entries(env: dict[str, str], names: list[str]) -> set[str]:
    """Which of these premedication entries are in the database (read by a fresh process)."""
    code = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivig.web.settings")
import django
django.setup()
from ivig.web.infusions.models import InfusionEvent
names = json.load(sys.stdin)
found = InfusionEvent.objects.filter(kind="premedication", data__name__in=names)
print("FOUND " + json.dumps(sorted({e.data["name"] for e in found})))
"""
    import json

    result = subprocess.run(
        [sys.executable, "-c", code], env=env, input=json.dumps(names), capture_output=True,
        text=True, timeout=300,
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith("FOUND ")), None)
    if line is None:
        sys.exit(f"could not read the database:\n{result.stdout}\n{result.stderr}")
    return set(json.loads(line.removeprefix("FOUND ")))

