"""Complete Spanish: no untranslated or fuzzy message in any catalogue, and no English UI word
left on any page (from the URL list) rendered in Spanish."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.web.conftest import build_world
from tests.web.pages import build_site, html_pages

SRC = Path(__file__).resolve().parents[2] / "src" / "ivig"
CATALOGUES = sorted(SRC.rglob("locale/es/LC_MESSAGES/django.po"))

# English words of the interface that must not appear on a Spanish page (case-sensitive, whole
# words). Data typed by people (names, labels) and cited document titles are removed first.
ENGLISH_UI_WORDS = [
    "Save", "Cancel", "Back", "Download", "Patients", "Weight", "Height", "Due", "Today",
    "Log out", "Language", "Check-in", "Findings", "Warning", "printed", "entered by",
    "Approve", "approved", "Record", "Step", "Edit", "History", "Add a", "Archive", "Next",
    "None", "overdue", "running", "planned", "Nothing", "Open", "Show", "Choose", "Enter",
    "Print", "Start", "Stop", "Answer", "Drinks", "TELL THE NURSE", "hours", "minutes",
    "Care team", "Plans", "Pump plan", "Prescription", "Source:", "Details", "When", "What",
    "yes", "no symptoms", "Infusion", "infusion", "before", "after", "per day", "Reason",
]


def _entries(text: str) -> list[dict[str, object]]:
    out = []
    for block in text.split("\n\n"):
        lines = block.strip().splitlines()
        entry: dict[str, object] = {"fuzzy": any(
            ln.startswith("#,") and "fuzzy" in ln for ln in lines)}
        key = None
        for line in lines:
            match = re.match(r"^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d\])?) (\".*\")$", line)
            if match:
                key = match.group(1)
                entry[key] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and key:
                entry[key] = str(entry[key]) + ast.literal_eval(line)
            elif line.startswith("#~"):
                key = None
        if entry.get("msgid"):
            out.append(entry)
    return out


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda p: str(p.relative_to(SRC)))
def test_every_message_is_translated(catalogue: Path) -> None:
    problems = []
    for entry in _entries(catalogue.read_text(encoding="utf-8")):
        strs = [v for k, v in entry.items() if k.startswith("msgstr")]
        if entry["fuzzy"] or not strs or not all(strs):
            problems.append(str(entry["msgid"]))
    assert not problems, f"{len(problems)} untranslated or fuzzy: {problems[:40]}"


def _visible_text(html: str, data: list[str]) -> str:
    html = re.sub(r"(?s)<(script|style|svg)\b.*?</\1>", " ", html)
    # Cited documents keep their own (English) titles: drop citations before looking.
    cited = r'(?s)<([a-z]+)[^>]*class="[^"]*\bsources?(?:-list)?\b[^"]*"[^>]*>.*?</\1>'
    html = re.sub(cited, " ", html)
    html = re.sub(r"(?s)<cite\b.*?</cite>", " ", html)
    # The history shows stored records item by item, as they were written.
    html = re.sub(r'(?s)<ul class="history-parts"[^>]*>.*?</ul>', " ", html)
    html = re.sub(r"Fuentes?:[^<]*", " ", html)
    html = re.sub(r'(?s)<([a-z]+)[^>]*\blang="en"[^>]*>.*?</\1>', " ", html)
    html = re.sub(r"(?s)<option\b.*?</option>", " ", html)  # product names, people
    text = re.sub(r"<[^>]+>", " ", html)
    text = text.replace("&nbsp;", " ")
    for value in data:
        text = text.replace(value, " ")
    return text


@pytest.mark.django_db
def test_no_english_words_on_spanish_pages() -> None:
    world = build_world()
    values = build_site(world)
    data = [
        world.team_a.name, world.patient.name, "Monthly course", "Alexandra",
        *(str(u) for u in (world.caregiver, world.nurse, world.prescriber, world.viewer)),
        world.caregiver.email, world.nurse.email, world.prescriber.email, world.viewer.email,
        "Privigen", "CSL Behring", "Check-in: 72 h after the infusion (day 2)", "IVIG",
    ]
    problems = []
    checked = 0
    for item, person in html_pages(values, [world.caregiver, world.prescriber]):
        client = Client()
        client.force_login(person)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
        response = client.get(item.url)
        html = response.content.decode()
        assert '<html lang="es"' in html, item.url
        checked += 1
        text = _visible_text(html, data)
        found = sorted(
            {w for w in ENGLISH_UI_WORDS if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)}
        )
        if found:
            problems.append(f"{item.url}: {found}")
    print(f"\n{checked} pages checked in Spanish")
    assert checked >= 30
    assert not problems, "\n".join(problems)
