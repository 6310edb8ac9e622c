"""Family sheets: About IVIG (every statement sourced, both languages, PDF), the care team's
contact numbers (on the team page and every triage result) and the team's own prices."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from ivig.web.accounts.models import ProductPrice
from tests.web.test_plans import make_seed_child, save_plan
from tests.web.test_print import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def child(world: Any) -> Any:
    return make_seed_child(world)


class _Statements(HTMLParser):
    """Collects each <li class="stmt"> with its data-sources, and the numbered source list."""

    def __init__(self) -> None:
        super().__init__()
        self.statements: list[tuple[str, str]] = []
        self.source_keys: list[str] = []
        self._in: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "li" and a.get("class") == "stmt":
            self._in, self._text = a.get("data-sources") or "", []
        if tag == "li" and a.get("data-key"):
            self.source_keys.append(a["data-key"] or "")

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self._in is not None:
            self.statements.append((self._in, "".join(self._text).strip()))
            self._in = None


def about_url(child: Any, version: Any, language: str, fmt: str = "") -> str:
    url = reverse("plans:about", args=[child.pk, version.pk]) + f"?lang={language}"
    return url + (f"&format={fmt}" if fmt else "")


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_statement_on_the_about_sheet_has_a_source(
    client: Any, world: Any, child: Any, language: str
) -> None:
    client.force_login(world.caregiver)
    version = save_plan(client, child)
    client.force_login(world.viewer)  # read-only members may read it
    response = client.get(about_url(child, version, language))
    assert response.status_code == 200
    body = response.content.decode()
    assert "style=" not in body and "<style" not in body and "<script" not in body
    parser = _Statements()
    parser.feed(body)
    assert len(parser.statements) > 30
    for keys, text in parser.statements:
        assert keys.split(), f"statement without a source: {text!r}"
        assert set(keys.split()) <= set(parser.source_keys), text
        assert re.search(r"\[\d+(, \d+)*\]", text), text
    words = {"en": ("Why IVIG is given", "Vaccines", "Cost"), "es": ("Por qué", "Vacunas", "Coste")}
    for word in words[language]:
        assert word in body
    assert "Seed Child" in body
    assert ("several weeks" in body) if language == "en" else ("varias semanas" in body)


@pytest.mark.parametrize("language", ["en", "es"])
def test_about_sheet_pdf(
    client: Any, world: Any, child: Any, language: str, artifacts_dir: Path
) -> None:
    client.force_login(world.caregiver)
    version = save_plan(client, child)
    response = client.get(about_url(child, version, language, "pdf"))
    assert response.content.startswith(b"%PDF")
    path = artifacts_dir / f"about-ivig-{language}.pdf"
    path.write_bytes(response.content)
    text = pdf_text(response.content)
    if language == "es":
        assert "Qué es la IVIG" in text and "11 meses" in text and "prescrito por" in text
    else:
        assert "What IVIG is" in text and "11 months" in text and "prescribed by" in text
    if shutil.which("pdftoppm"):
        out = artifacts_dir / f"about-ivig-{language}"
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(out)], check=True)


def test_about_sheet_is_private(client: Any, world: Any, child: Any) -> None:
    client.force_login(world.caregiver)
    version = save_plan(client, child)
    client.force_login(world.stranger)
    assert client.get(about_url(child, version, "en")).status_code in (403, 404)


def test_about_sheet_shows_the_teams_price_and_course_cost(
    client: Any, world: Any, child: Any
) -> None:
    client.force_login(world.caregiver)
    version = save_plan(client, child)
    response = client.post(
        reverse("accounts:price_create", args=[world.team_a.pk]),
        {
            "product_id": "privigen",
            "price_per_g": "80.00",
            "currency": "usd",
            "set_on": "2026-11-01",
        },
    )
    assert response.status_code == 302
    price = ProductPrice.objects.get()
    assert (price.price_per_g, price.currency, price.set_on) == (
        Decimal("80.00"),
        "USD",
        date(2026, 11, 1),
    )
    body = client.get(about_url(child, version, "en")).content.decode()
    assert "80.00 USD per gram (set by the team on 2026-11-01)" in body
    assert "opens 40.0 g of vials: about 3200 USD" in body
    assert "weak source" in body  # the weak reference range keeps its mark
    # A new price archives the old one (history kept, nothing deleted).
    client.post(
        reverse("accounts:price_create", args=[world.team_a.pk]),
        {"product_id": "privigen", "price_per_g": "90", "currency": "USD", "set_on": "2026-11-20"},
    )
    assert ProductPrice.objects.count() == 2
    assert ProductPrice.objects.active().get().price_per_g == Decimal("90.00")


def test_bad_price_names_the_field_and_saves_nothing(client: Any, world: Any) -> None:
    client.force_login(world.caregiver)
    response = client.post(
        reverse("accounts:price_create", args=[world.team_a.pk]),
        {"product_id": "privigen", "price_per_g": "-3", "currency": "dollars", "set_on": "x"},
        follow=True,
    )
    body = response.content.decode()
    assert "Price per gram" in body and "Currency" in body
    assert not ProductPrice.objects.exists()


def test_only_the_team_manager_sets_contacts_and_prices(client: Any, world: Any) -> None:
    for user in (world.nurse, world.viewer, world.stranger):
        client.force_login(user)
        response = client.post(
            reverse("accounts:team_contacts", args=[world.team_a.pk]),
            {"phone_day": "1", "phone_after_hours": "2", "emergency_number": "911"},
        )
        assert response.status_code in (403, 404)
    world.team_a.refresh_from_db()
    assert world.team_a.phone_day == ""


def test_contacts_saved_and_shown_on_the_team_page(client: Any, world: Any) -> None:
    client.force_login(world.caregiver)
    response = client.post(
        reverse("accounts:team_contacts", args=[world.team_a.pk]),
        {"phone_day": "+1 555 0100", "phone_after_hours": "+1 555 0199", "emergency_number": "9x1"},
        follow=True,
    )
    assert "only digits" in response.content.decode()
    world.team_a.refresh_from_db()
    assert world.team_a.phone_day == ""  # nothing saved from a bad form
    client.post(
        reverse("accounts:team_contacts", args=[world.team_a.pk]),
        {"phone_day": "+1 555 0100", "phone_after_hours": "+1 555 0199", "emergency_number": "911"},
    )
    world.team_a.refresh_from_db()
    assert world.team_a.emergency_number == "911"
    assert world.team_a.history.count() >= 2
    client.force_login(world.viewer)
    body = client.get(reverse("accounts:team", args=[world.team_a.pk])).content.decode()
    assert "+1 555 0100" in body and "tel:911" in body


@pytest.mark.parametrize("language", ["en", "es"])
def test_going_home_sheet_after_an_infusion_ends(
    client: Any, world: Any, language: str, artifacts_dir: Path
) -> None:
    from tests.core import builders
    from tests.web.test_care_checkins import approve_document, run_last_day

    world.team_a.phone_day, world.team_a.emergency_number = "+1 555 0100", "911"
    world.team_a.save()
    client.force_login(world.nurse)
    approval = approve_document(world, builders.document(indication="kawasaki"))
    infusion = run_last_day(client, world, approval)
    detail = client.get(reverse("infusions:detail", args=[world.patient.pk, infusion.pk]))
    assert reverse("infusions:going_home", args=[world.patient.pk, infusion.pk]) in (
        detail.content.decode()
    )
    url = reverse("infusions:going_home", args=[world.patient.pk, infusion.pk])
    body = client.get(url + f"?lang={language}").content.decode()
    assert "style=" not in body and "<style" not in body
    parser = _Statements()
    parser.feed(body)
    assert len(parser.statements) > 30
    for keys, text in parser.statements:
        assert keys.split() and set(keys.split()) <= set(parser.source_keys), text
    assert "tel:911" in body and "+1 555 0100" in body
    if language == "es":
        assert "Llame a emergencias" in body or "emergencia" in body
    else:
        assert "Call emergency services at once (911)" in body
        assert "Kawasaki" in body and "1 to 3 weeks after IVIG" in body
    assert infusion.checkins.count() > 0
    first = timezone_local(infusion.checkins.order_by("due_at").first().due_at)
    assert first in body
    response = client.get(url + f"?lang={language}&format=pdf")
    assert response.content.startswith(b"%PDF")
    path = artifacts_dir / f"going-home-{language}.pdf"
    path.write_bytes(response.content)
    if shutil.which("pdftoppm"):
        out = artifacts_dir / f"going-home-{language}"
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(out)], check=True)
    client.force_login(world.stranger)
    assert client.get(url).status_code in (403, 404)


def timezone_local(moment: Any) -> str:
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def test_triage_result_shows_the_team_numbers(client: Any, world: Any) -> None:
    from tests.core import builders
    from tests.web.test_care_checkins import approve_document

    world.team_a.phone_after_hours = "+1 555 0199"
    world.team_a.save()
    client.force_login(world.nurse)
    approval = approve_document(world, builders.document())
    from django.utils import timezone

    now = timezone.localtime()
    started = (now - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    client.post(
        f"/patients/{world.patient.pk}/infusions/start/",
        {"approval": approval.pk, "day": 1, "started_at": started},
    )
    from ivig.web.infusions.models import Infusion

    infusion = Infusion.objects.latest("pk")
    client.post(
        f"/patients/{world.patient.pk}/infusions/{infusion.pk}/record/symptom/",
        {"symptom-symptoms": ["itching_or_flushing"], "symptom-at": now.strftime("%Y-%m-%dT%H:%M")},
    )
    body = client.get(reverse("infusions:detail", args=[world.patient.pk, infusion.pk])).content
    text = body.decode()
    assert 'id="triage"' in text
    assert "+1 555 0199" in text and "not entered: use your local emergency number" in text


def test_infusion_cost_from_recorded_vials_at_the_team_price(client: Any, world: Any) -> None:
    from tests.web.test_infusions import approve, at, start, stop_data, url

    client.force_login(world.caregiver)
    client.post(
        reverse("accounts:price_create", args=[world.team_a.pk]),
        {"product_id": "privigen", "price_per_g": "70", "currency": "USD", "set_on": "2026-11-01"},
    )
    client.force_login(world.nurse)
    running = start(client, world, approve(world))
    for size in ("10 g", "10 g"):
        client.post(
            url(world, running, "record/vial/"),
            {"vial-at": at(running, 1), "vial-brand": "Privigen", "vial-size": size,
             "vial-lot_number": "L1", "vial-expiry": "2030-01-31"},
        )
    client.post(url(world, running, "record/stop/"), stop_data(running, 100))
    body = client.get(url(world, running)).content.decode()
    assert "2 vials recorded" in body and "20.0 g opened" in body
    assert "70.00 USD per gram" in body or "70 USD per gram" in body
    assert "left in opened vials (waste)" in body


def test_plan_page_shows_setting_repeats_and_indication_notes(
    client: Any, world: Any, child: Any
) -> None:
    from ivig.web.plans.models import PlanVersion
    from tests.core import builders

    document = builders.document(
        setting="home",
        premedication=[{"name": "acetaminophen", "dose": "15 mg/kg", "minutes_before": 30,
                        "repeat_every": "4 h"}],
    )
    version = PlanVersion.objects.create(
        patient=child, kind="prescribed", label="x", order_document=document,
        author=world.prescriber,
    )
    client.force_login(world.nurse)
    body = client.get(reverse("plans:detail", args=[child.pk, version.pk])).content.decode()
    assert "repeated every 4 h" in body and "Where it is given" in body
    assert "Second-line after steroids and methotrexate" in body  # JDM indication note
    assert "First infusion at home" in body  # the home_first_infusion finding
