"""Printouts: the plan sheet (HTML and PDF, English and Spanish) and the blank family chart."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from pypdf import PdfReader

from tests.web.test_plans import make_seed_child, save_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def child(world: Any) -> Any:
    return make_seed_child(world)


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return " ".join(text.split())  # table cells wrap words onto lines


def test_plan_pdf_has_the_step_rates(
    client: Any, world: Any, child: Any, artifacts_dir: Path
) -> None:
    client.force_login(world.caregiver)
    version = save_plan(client, child)
    response = client.get(reverse("plans:pdf", args=[child.pk, version.pk]) + "?lang=en")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    (artifacts_dir / "plan-en.pdf").write_bytes(response.content)
    text = pdf_text(response.content)
    for number in ("9.9", "19.9", "29.9", "39.9", "199.58", "0.833", "3.333"):
        assert number in text, number
    assert "08:30" in text and "10:00" in text
    assert "Programmed" in text and "Checked by" in text
    assert "Lot number" in text
    assert "prescribed by Dr. A. Rivera" in text
    assert "24–48 hours" in text  # hydration, from print.toml
    assert "Cure JM" in text
    assert "15 minutes after the start" in text  # vitals schedule


def test_plan_pdf_in_spanish(client: Any, world: Any, child: Any, artifacts_dir: Path) -> None:
    client.force_login(world.caregiver)
    version = save_plan(client, child)
    response = client.get(reverse("plans:pdf", args=[child.pk, version.pk]) + "?lang=es")
    assert response.content.startswith(b"%PDF")
    (artifacts_dir / "plan-es.pdf").write_bytes(response.content)
    text = pdf_text(response.content)
    assert "prescrito por Dr. A. Rivera" in text
    assert "Plan de infusión de IgIV" in text
    assert "Programado" in text and "Signos vitales" in text
    assert "39.9" in text


def test_print_page_is_html(client: Any, world: Any, child: Any) -> None:
    client.force_login(world.viewer)
    client.force_login(world.caregiver)
    version = save_plan(client, child)
    client.force_login(world.viewer)  # read-only people may print
    response = client.get(reverse("plans:print", args=[child.pk, version.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body and "39.9" in body and "plans/print.css" in body  # no inline style


def test_pdf_of_a_broken_stored_order_says_so(client: Any, world: Any) -> None:
    client.force_login(world.caregiver)
    response = client.get(reverse("plans:pdf", args=[world.patient.pk, world.plan.pk]))
    assert response.content.startswith(b"%PDF")
    assert "cannot be computed" in pdf_text(response.content)


@pytest.mark.parametrize("paper", ["a4", "letter"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_blank_chart(client: Any, language: str, paper: str, artifacts_dir: Path) -> None:
    # No login: the chart holds no patient data.
    url = reverse("plans:blank_chart") + f"?lang={language}&format=pdf&paper={paper}"
    response = client.get(url)
    assert response.content.startswith(b"%PDF")
    path = artifacts_dir / f"blank-chart-{language}-{paper}.pdf"
    path.write_bytes(response.content)
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1, "the chart fits one page"
    width_pt = float(reader.pages[0].mediabox.width)
    assert round(width_pt) == (612 if paper == "letter" else 595)
    text = pdf_text(response.content)
    assert "g/kg" in text
    if language == "es":
        assert "libras × 0.454" in text and "2 mg por kg" in text and "Marca de IgIV" in text
        assert "máximo de 2 mL/kg/h en la primera infusión" in text
        assert "Plan del médico" in text and "Plan de la bomba" in text
    else:
        assert "pounds × 0.454" in text and "it means 2 g/kg" in text
        assert "maximum of 2 mL/kg/h for a first infusion" in text
        assert "Doctor's plan" in text and "Nurse's pump plan" in text
        assert text.count("Increase ") >= 5
        assert "Blood pressure" in text and "30 to 60 minutes before" in text
        assert "15 minutes after the start" in text
    if shutil.which("pdftoppm"):
        out = artifacts_dir / f"blank-chart-{language}-{paper}"
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(out)], check=True)


def test_blank_chart_is_open_without_login_and_linked_from_login(client: Any, world: Any) -> None:
    response = client.get(reverse("plans:blank_chart"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "style=" not in body and "<style" not in body
    login = client.get(reverse("accounts:login")).content.decode()
    assert reverse("plans:blank_chart") in login
