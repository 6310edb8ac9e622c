"""Server time, queries and bytes on the wire for the main pages, small and large records.

Run:  .venv/bin/python benchmarks/pages.py [--repeat 9] [--database-url postgres://...]

Builds a throwaway database (SQLite in a temporary data folder, or the PostgreSQL database
named by --database-url, which must be a throwaway one: the script adds a care team to it),
collects the static files as `ivig serve` does, then measures every page in-process through
Django's test client (the whole middleware stack, no network):

- each page's median server time as a ratio to the login page measured in the same run, and
  its number of database queries;
- a small patient (5 infusions, 50 events on the open infusion, 5 weights, 12 check-ins)
  against a large one (500 infusions, 5,000 events, 500 weights, 1,497 check-ins, 300 of
  them never answered) on the same pages;
- the plan PDF against a minimal WeasyPrint page;
- bytes on the wire: the page gzipped as the server sends it, plus its CSS and JavaScript as
  WhiteNoise sends them (brotli) on a first visit.

Prints figures; asserts nothing (timings on a shared machine are noisy: read the ratios).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

EXPORTS = {"summary.csv"}  # files holding every record: they grow with the records by design
SMALL = {"infusions": 5, "events": 50, "weights": 5}
LARGE = {"infusions": 500, "events": 5000, "weights": 500}


def setup_django(database_url: str | None) -> Path:
    data = Path(tempfile.mkdtemp(prefix="ivig-bench-"))
    os.environ["IVIG_DATA_DIR"] = str(data)
    os.environ["DJANGO_SETTINGS_MODULE"] = "ivig.web.settings"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    from ivig.web.server import collect_static

    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    collect_static()
    return data


def build(sizes: dict[str, int], label: str, team: Any, nurse: Any, prescriber: Any) -> Any:
    """A patient with an approved plan, `infusions` infusions (4 events each, the newest one
    started 6 hours ago, still running, with `events` events), 3 check-ins after each ended
    infusion (one in five never answered) and `weights` weights."""
    from django.utils import timezone

    from ivig.core.infusion_checks import parse_vitals
    from ivig.core.plan import build_plan
    from ivig.render.plan_json import plan_to_dict
    from ivig.web.infusions.models import (
        CheckIn,
        CheckInAnswer,
        EventKind,
        Infusion,
        InfusionEvent,
    )
    from ivig.web.infusions.records import run_vitals_triage
    from ivig.web.patients.models import Measurement, MeasurementKind, Patient
    from ivig.web.plans.models import Approval, PlanKind, PlanVersion

    patient = Patient.objects.create(
        team=team, name=f"Patient {label}", birth_date=date(2016, 5, 1), sex="female",
        blood_group="A+", conditions=["immunodeficiency"], created_by=nurse,
    )
    now = timezone.now()
    for i in range(sizes["weights"]):
        Measurement.objects.create(
            patient=patient, kind=MeasurementKind.WEIGHT, value=Decimal("20.0") + i % 10,
            unit="kg", taken_at=now - timedelta(days=sizes["weights"] - i), recorded_by=nurse,
        )
    document = {
        "patient": {"weight": "44 lb", "height": "112 cm", "sex": "female",
                    "birth_date": "2016-05-01", "first_infusion": False},
        "order": {"product": "privigen", "indication": "pi", "dose": "0.4 g/kg", "days": 1,
                  "dosing_weight": "actual", "vial_rounding": "none",
                  "start": "2026-12-01T08:30",
                  "titration": [{"rate": "0.5 mL/kg/h", "minutes": 30},
                                {"rate": "1 mL/kg/h", "minutes": 30},
                                {"rate": "2 mL/kg/h"}]},
    }
    version = PlanVersion.objects.create(
        patient=patient, kind=PlanKind.PRESCRIBED, label="Monthly course",
        order_document=document, author=prescriber,
    )
    plan = build_plan(document, today=date(2026, 11, 20))
    approval = Approval.objects.create(
        plan_version=version, snapshot=plan_to_dict(plan), catalogue_version=plan.catalogue.version,
        approved_by=prescriber, language="en",
    )
    count = sizes["infusions"]
    # one every 4 weeks, ended after 3 h; the newest started 6 h ago and is still running
    infusions = Infusion.objects.bulk_create(
        Infusion(approval=approval, patient=patient, day=1, started_by=nurse,
                 started_at=now - timedelta(days=28 * (count - i)),
                 ended_at=now - timedelta(days=28 * (count - i), hours=-3))
        for i in range(count - 1)
    )
    infusions.append(Infusion.objects.create(approval=approval, patient=patient, day=1,
                                             started_by=nurse,
                                             started_at=now - timedelta(hours=6)))
    events = []
    for infusion in infusions[:-1]:
        t = infusion.started_at
        events += [
            InfusionEvent(infusion=infusion, kind=EventKind.VIAL, at=t, recorded_by=nurse,
                          data={"brand": "Privigen", "size": "5 g", "lot_number": "P123",
                                "expiry": "2027-06-30"}),
            InfusionEvent(infusion=infusion, kind=EventKind.RATE_CHANGE, at=t, recorded_by=nurse,
                          data=_rate(10.0)),
            InfusionEvent(infusion=infusion, kind=EventKind.RATE_CHANGE,
                          at=t + timedelta(minutes=60), recorded_by=nurse, data=_rate(40.0)),
            InfusionEvent(infusion=infusion, kind=EventKind.STOP,
                          at=t + timedelta(minutes=180), recorded_by=nurse,
                          data={"reason": "finished"}),
        ]
    running = infusions[-1]
    # vital signs as the page's form records them: the values, the signs and their triage
    vitals = parse_vitals({"heart_rate": "98 /min", "temperature": "37.1 °C"})
    vitals_data = {
        **vitals.values,
        "signs": {k: str(v) for k, v in vars(vitals.signs).items() if isinstance(v, Decimal)},
        "triage": run_vitals_triage(patient, running, vitals.signs, running.started_at, "en"),
    }
    step = 6 * 3600 / sizes["events"]  # spread over the 6 hours so far
    for i in range(sizes["events"]):
        at = running.started_at + timedelta(seconds=step * i)
        if i % (sizes["events"] // 5):  # five steps up the titration, vitals between them
            events.append(InfusionEvent(infusion=running, kind=EventKind.VITALS, at=at,
                                        recorded_by=nurse, data=vitals_data))
        else:
            step_up = i // (sizes["events"] // 5)
            events.append(InfusionEvent(infusion=running, kind=EventKind.RATE_CHANGE, at=at,
                                        recorded_by=nurse, data=_rate(10.0 + 10 * step_up)))
    InfusionEvent.objects.bulk_create(events, batch_size=500)
    # check-ins 24, 48 and 72 h after each ended infusion, answered but for one in five (a
    # family that does not always answer: overdue check-ins accumulate)
    checkins = CheckIn.objects.bulk_create(
        (CheckIn(infusion=infusion, patient=patient, due_at=infusion.ended_at + timedelta(hours=h),
                 hours_after_end=Decimal(h), label=f"{h} hours after", focus={}, tiers=[])
         for infusion in infusions[:-1] for h in (24, 48, 72)),
        batch_size=500,
    )
    CheckInAnswer.objects.bulk_create(
        (CheckInAnswer(checkin=checkin, answered_at=checkin.due_at, answered_by=nurse,
                       report={"symptoms": []}, level="expected",
                       triage={"level": "expected", "heading": "EXPECTED EFFECT"})
         for n, checkin in enumerate(checkins) if n % 5),
        batch_size=500,
    )
    return patient, approval, running


def _rate(ml_h: float) -> dict[str, Any]:
    return {"rate": f"{ml_h} mL/h", "pump_rate_ml_h": f"{ml_h:.1f}",
            "rate_ml_kg_h": f"{ml_h / 20:.3f}", "planned_step": 1, "planned_ml_h": "10.0",
            "warnings": [], "reason": ""}


CLOCK: Callable[[], float] = time.perf_counter  # the server-time clock (set in main)


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    call()  # warm up (template and translation caches)
    times, result = [], None
    for _ in range(repeat):
        start = CLOCK()
        result = call()
        times.append(CLOCK() - start)
    return statistics.median(times), result


def queries(call: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        call()
    return len(context.captured_queries)


STATIC_RE = re.compile(r'(?:href|src)="(/static/[^"]+\.(?:css|js|svg))"')


def wire_bytes(response: Any, static_root: Path) -> tuple[int, int, int]:
    """(page bytes as sent, static bytes as sent on a first visit, raw page bytes)."""
    import gzip

    body = response.content
    raw = gzip.decompress(body) if response.get("Content-Encoding") == "gzip" else body
    static = 0
    for url in set(STATIC_RE.findall(raw.decode())):
        path = static_root / url.removeprefix("/static/")
        compressed = path.with_name(path.name + ".br")
        static += (compressed if compressed.exists() else path).stat().st_size
    return len(body), static, len(raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    data = setup_django(args.database_url)

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from ivig.web.accounts.models import CareTeam, Membership, Role, User

    settings.ALLOWED_HOSTS = ["testserver"]  # the test client's host name
    team = CareTeam.objects.create(name="Benchmark team")
    nurse = User.objects.create_user("bench-nurse@example.org", "x" * 20, name="Nurse")
    prescriber = User.objects.create_user("bench-doc@example.org", "x" * 20, name="Doctor")
    Membership.objects.create(user=nurse, team=team, role=Role.NURSE)
    Membership.objects.create(user=prescriber, team=team, role=Role.PRESCRIBER)
    t0 = time.perf_counter()
    built = {name: build(sizes, name, team, nurse, prescriber)
             for name, sizes in (("small", SMALL), ("large", LARGE))}
    if connection.vendor == "postgresql":
        # A live PostgreSQL database has been vacuumed and analyzed (autovacuum does both
        # within a minute of this many new rows, inserts included since PostgreSQL 13): just
        # after a bulk load it has no planner statistics and no visibility map, and plans and
        # reads rows as it would not in production.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(f"database: {connection.vendor}; data built in {time.perf_counter() - t0:.1f} s; "
          f"data folder {data}")

    client = Client(HTTP_ACCEPT_ENCODING="gzip")
    anonymous = Client(HTTP_ACCEPT_ENCODING="gzip")
    client.force_login(nurse)
    static_root = Path(settings.STATIC_ROOT)

    def get(c: Client, url: str) -> Callable[[], Any]:
        def call() -> Any:
            response = c.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response
        return call

    urls: dict[tuple[str, str], str] = {}
    for name in ("small", "large"):
        patient, approval, running = built[name]
        p = patient.pk
        pages = {
            "patients": "/patients/",
            "patient": f"/patients/{p}/",
            "history": f"/patients/{p}/history/",
            "plans": f"/patients/{p}/plans/",
            "plan": f"/patients/{p}/plans/{approval.plan_version_id}/",
            "infusions (summary)": f"/patients/{p}/infusions/",
            "infusion": f"/patients/{p}/infusions/{running.pk}/",
            "timeline": f"/patients/{p}/infusions/{running.pk}/timeline/",
            "hydration": f"/patients/{p}/hydration/",
            "calendar": f"/patients/{p}/calendar/",
            "summary.csv": f"/patients/{p}/infusions/summary.csv",
            "between courses": f"/patients/{p}/between-courses/",
            "today (home)": "/",
            "teams": "/teams/",
        }
        urls.update({(name, page): url for page, url in pages.items()})

    # Rounds: every page once per round, the login page between them, so that a burst of load
    # from elsewhere on the machine falls on all pages alike; medians over the rounds.
    login = get(anonymous, "/accounts/login/")
    calls = {key: get(client, url) for key, url in urls.items()}
    # Server time: on SQLite the database runs inside the serving process, so its CPU time is
    # the whole server time and does not count the time other programs on a shared machine take
    # the CPU away (wall-clock time is printed too); on PostgreSQL the database is another
    # process, so wall-clock time is the server time.
    sqlite = connection.vendor == "sqlite"
    clock = time.process_time if sqlite else time.perf_counter
    global CLOCK
    CLOCK = clock
    clock_name = "CPU time of the server process" if sqlite else "wall-clock time"
    times: dict[Any, list[float]] = {key: [] for key in [*calls, "login"]}
    walls: dict[Any, list[float]] = {key: [] for key in [*calls, "login"]}
    responses = {key: call() for key, call in calls.items()}  # warm up
    login()
    for _round in range(args.repeat):
        for key, call in calls.items():
            for what, fn in (("login", login), (key, call)):
                start, wall = clock(), time.perf_counter()
                fn()
                times[what].append(clock() - start)
                walls[what].append(time.perf_counter() - wall)
    login_time = statistics.median(times["login"])
    print(f"\nserver time = {clock_name}; medians over {args.repeat} rounds")
    print(f"login page: median {login_time * 1000:.2f} ms "
          f"(wall {statistics.median(walls['login']) * 1000:.2f} ms) over {len(times['login'])} "
          f"requests (the unit of the ratios below), {queries(login)} queries")
    rows = []
    for (name, page), call in calls.items():
        sent, static, raw = wire_bytes(responses[(name, page)], static_root)
        median = statistics.median(times[(name, page)])
        rows.append((name, page, median, queries(call), sent, static, raw))
    wall_of = {key: statistics.median(values) for key, values in walls.items()}

    print(f"\n{'records':<7} {'page':<20} {'server ms':>9} {'x login':>8} {'wall ms':>8} "
          f"{'queries':>7} {'page KB':>8} {'+static KB':>10} {'=wire KB':>8} {'raw KB':>7}")
    for name, page, median, count, sent, static, raw in rows:
        print(f"{name:<7} {page:<20} {median * 1000:9.2f} {median / login_time:8.2f} "
              f"{wall_of[(name, page)] * 1000:8.1f} {count:7d} "
              f"{sent / 1024:8.1f} {static / 1024:10.1f} {(sent + static) / 1024:8.1f} "
              f"{raw / 1024:7.1f}")

    print("\nlarge / small (500 vs 5 infusions, 5,000 vs 50 events, 500 vs 5 weights):")
    by = {(n, page): median for n, page, median, *_ in rows}
    for page in dict.fromkeys(page for _n, page, *_ in rows):
        print(f"  {page:<20} {by[('large', page)] / by[('small', page)]:5.2f}x")

    # The targets, page by page (exports are files that hold every record: they grow
    # with the records by design and are listed apart).
    wire = {(n, page): sent + static for n, page, _m, _c, sent, static, _r in rows}
    print("\ntargets: page <= 3x login (small and large), large/small <= 1.5x, "
          "<= 60 KB on the wire")
    missed = 0
    for page in dict.fromkeys(page for _n, page, *_ in rows):
        worst = max(by[("small", page)], by[("large", page)]) / login_time
        growth = by[("large", page)] / by[("small", page)]
        kb = max(wire[("small", page)], wire[("large", page)]) / 1024
        export = page in EXPORTS
        ok = export or (worst <= 3 and growth <= 1.5 and kb <= 60)
        missed += not ok
        verdict = "export: grows with the records by design" if export else (
            "met" if ok else "NOT MET")
        print(f"  {page:<20} {worst:5.2f}x login  {growth:5.2f}x growth  {kb:5.1f} KB  {verdict}")
    print(f"  pages not meeting every target: {missed}")

    # An event POST: the htmx fragment it answers with, against the old redirect + full page.
    patient, approval, running = built["large"]
    post_url = f"/patients/{patient.pk}/infusions/{running.pk}/record/vitals/"
    at = (running.started_at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")

    def post(htmx: bool) -> Callable[[], Any]:
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

        def call() -> Any:
            return client.post(post_url, {"vitals-at": at, "vitals-heart_rate": "101 /min"},
                               **headers)
        return call

    for htmx in (True, False):
        median, response = timed(post(htmx), max(3, args.repeat // 3))
        follow = ""
        if response.status_code == 302:
            follow_time, follow_response = timed(get(client, response["Location"]), 3)
            follow = (f"; then GET {response['Location']}: {follow_time * 1000:.1f} ms, "
                      f"{len(follow_response.content) / 1024:.1f} KB")
        print(f"\nevent POST (large, {'htmx' if htmx else 'no JavaScript'}): "
              f"median {median * 1000:.1f} ms, {median / login_time:.2f}x login, "
              f"status {response.status_code}, {len(response.content) / 1024:.1f} KB{follow}")

    # The plan PDF against the smallest WeasyPrint page.
    from weasyprint import HTML

    patient, approval, running = built["small"]
    pdf_url = f"/patients/{patient.pk}/plans/{approval.plan_version_id}/pdf/"
    minimal, _ = timed(lambda: HTML(string="<p>IVIG</p>").write_pdf(), 5)
    pdf_time, pdf = timed(get(client, pdf_url), 5)
    print(f"\nplan PDF: median {pdf_time * 1000:.0f} ms ({len(pdf.content) / 1024:.0f} KB); "
          f"minimal WeasyPrint page {minimal * 1000:.0f} ms; ratio {pdf_time / minimal:.1f}x")
    for name in ("small", "large"):
        patient, *_ = built[name]
        url = f"/patients/{patient.pk}/infusions/summary.pdf"
        pdf_time, pdf = timed(get(client, url), 3)
        print(f"summary PDF ({name}): median {pdf_time * 1000:.0f} ms, "
              f"{len(pdf.content) / 1024:.0f} KB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
