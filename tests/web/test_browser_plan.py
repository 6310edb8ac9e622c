"""The plan flow in Debian's Chromium, from an empty installation to the nurse's faster plan.

A new user creates the first account, adds the seed chart's child (44 lb), enters the seed
chart's order and watches the plan appear beside the form, downloads the PDF and reads the pump
rates back out of it, enters the nurse's faster pump plan and sees the differences. axe-core
finds no serious or critical violation on these pages; screenshots go to test-artifacts/.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PASSWORD = "a long enough passphrase 42"
SEED_STEPS = [("0.5 mL/kg/h", "30"), ("1 mL/kg/h", "30"), ("1.5 mL/kg/h", "30"), ("2 mL/kg/h", "")]
NURSE_STEPS = [("0.5 mL/h", "15"), ("1 mL/kg/h", "15"), ("2 mL/kg/h", "30"), ("3 mL/kg/h", "")]


def serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} elements: "
        f"{[n.get('target') for n in v['nodes']][:3]})"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def fill_order(page: Any, steps: list[tuple[str, str]], *, kind: str, label: str) -> None:
    page.select_option("#id_kind", kind)
    page.fill("#id_label", label)
    page.select_option("#id_product", "privigen")
    page.select_option("#id_indication", "jdm")
    page.fill("#id_dose", "2 g/kg")
    page.fill("#id_days", "2")
    page.fill("#id_start", "2026-12-01T08:30")
    page.fill("#id_prescriber", "Dr. A. Rivera")
    page.check("#id_first_infusion_1")  # yes
    page.fill("#id_saline_amount", "10 mL/kg")
    page.fill("#id_premed-0-name", "acetaminophen")
    page.fill("#id_premed-0-dose", "15 mg/kg")
    page.fill("#id_premed-0-minutes_before", "30")
    for i, (rate, minutes) in enumerate(steps):
        page.fill(f"#id_step-{i}-rate", rate)
        page.fill(f"#id_step-{i}-minutes", minutes)


def test_plan_flow(page: Any, live_server: Any, artifacts_dir: Path) -> None:
    page.set_viewport_size(DESKTOP)
    base = live_server.url

    # The first account of an empty installation.
    page.goto(f"{base}/setup/")
    page.fill("#id_name", "Carmen Alvarez")
    page.fill("#id_email", "carmen@example.org")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.fill("#id_team_name", "Alvarez family")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/patients/")

    # The seed chart's child: 44 lb, 112 cm.
    page.get_by_role("link", name="Add a patient").click()
    page.fill("#id_name", "Seed Child")
    page.fill("#id_birth_date", "2020-06-15")
    page.select_option("#id_sex", "female")
    page.select_option("#id_blood_group", "O+")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("link", name="Record a weight").click()
    page.fill("#id_value", "44 lb")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Record a height").click()
    page.fill("#id_value", "112 cm")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("44 lb").first.is_visible()

    # The seed chart's order; the plan appears beside the form as it is typed (HTMX).
    page.get_by_role("link", name="Plans, comparison and printouts").click()
    page.get_by_role("link", name="New prescribed plan").click()
    fill_order(page, SEED_STEPS, kind="prescribed", label="Seed chart")
    preview = page.locator("#plan-preview")
    preview.locator("table.steps").first.wait_for(timeout=15000)
    assert "39.9" in preview.inner_text()
    assert "Starts faster than the label" in preview.inner_text()
    assert "prescribed by Dr. A. Rivera" in preview.inner_text()
    assert (preview.locator("svg title").first.text_content() or "").startswith("Day 1")
    # Adding a step with HTMX keeps what was typed.
    page.get_by_role("button", name="Add a step").click()
    page.locator("#id_step-4-rate").wait_for()
    assert page.input_value("#id_step-2-rate") == "1.5 mL/kg/h"
    assert serious_violations(page) == []
    page.screenshot(path=str(artifacts_dir / "plan-form.png"), full_page=True)
    page.get_by_role("button", name="Save plan").click()
    page.wait_for_url("**/plans/*/")
    assert page.get_by_role("heading", name="Plan as computed today").is_visible()
    assert serious_violations(page) == []
    page.screenshot(path=str(artifacts_dir / "plan-detail.png"), full_page=True)

    # The PDF: the pump rates read back out of it.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDF (English)").click()
    pdf = Path(download_info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    text = " ".join(
        " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    for number in ("9.9", "19.9", "29.9", "39.9", "199.6 mL"):
        assert number in text, number
    (artifacts_dir / "browser-plan.pdf").write_bytes(pdf)

    # The nurse's faster pump program, then the comparison.
    page.get_by_role("link", name="Plans of Seed Child").click()
    page.get_by_role("link", name="Enter the nurse's pump plan").click()
    fill_order(page, NURSE_STEPS, kind="pump", label="Pump program")
    page.get_by_role("button", name="Save plan").click()
    page.wait_for_url("**/plans/*/")
    page.get_by_role("link", name="Plans of Seed Child").click()
    page.get_by_role("link", name="Compare two versions").click()
    assert page.get_by_text("Faster than prescribed").first.is_visible()
    assert page.get_by_text("mL/h typed where mL/kg/h was meant?").first.is_visible()
    assert page.locator("td.diff").count() >= 3
    assert serious_violations(page) == []
    page.screenshot(path=str(artifacts_dir / "plan-compare.png"), full_page=True)

    # The plan list, and the blank family chart.
    page.get_by_role("link", name="Plans of Seed Child").click()
    assert serious_violations(page) == []
    page.screenshot(path=str(artifacts_dir / "plan-list.png"), full_page=True)
