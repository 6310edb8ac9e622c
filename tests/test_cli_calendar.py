"""`ivig calendar`: the .ics parses back, has the events, and names the patient only on request."""

from __future__ import annotations

from pathlib import Path

from icalendar import Calendar
from typer.testing import CliRunner

from ivig.cli import app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "seed-chart.toml"
runner = CliRunner()


def _calendar(tmp_path: Path, *args: str) -> Calendar:
    out = tmp_path / "care.ics"
    result = runner.invoke(app, ["calendar", str(EXAMPLE), "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return Calendar.from_ical(out.read_bytes())


def _events(cal: Calendar) -> list[dict[str, str]]:
    return [
        {"summary": str(e["SUMMARY"]), "kind": str(e["CATEGORIES"].cats[0]), "uid": str(e["UID"])}
        for e in cal.walk("VEVENT")
    ]


def test_calendar_parses_back_with_the_events(tmp_path: Path) -> None:
    cal = _calendar(tmp_path, "--next-course-days", "28")
    assert str(cal["X-WR-CALNAME"]) == "IVIG care plan"
    assert "ivig" in str(cal["PRODID"]).lower()
    kinds = [e["kind"] for e in _events(cal)]
    for kind in ("hydrate_start", "premedication", "infusion", "hydrate_until", "check_in"):
        assert kind in kinds
    assert "next_course" in kinds and "vaccine_caution" in kinds
    assert kinds.count("infusion") == 2
    uids = [e["uid"] for e in _events(cal)]
    assert len(uids) == len(set(uids))
    for event in cal.walk("VEVENT"):
        assert event.get("DTSTART") is not None
        assert "Source" in str(event["DESCRIPTION"])
        alarms = event.walk("VALARM")
        assert bool(alarms) == (str(event["CATEGORIES"].cats[0]) == "check_in")


def test_no_patient_name_by_default(tmp_path: Path) -> None:
    out = tmp_path / "care.ics"
    assert runner.invoke(app, ["calendar", str(EXAMPLE), "--out", str(out)]).exit_code == 0
    assert b"Example child" not in out.read_bytes()  # the name in the plan file stays out


def test_name_only_when_asked(tmp_path: Path) -> None:
    cal = _calendar(tmp_path, "--name", "Ana")
    assert all(e["summary"].startswith("Ana: ") for e in _events(cal))


def test_uids_are_stable(tmp_path: Path) -> None:
    first = [e["uid"] for e in _events(_calendar(tmp_path))]
    assert first == [e["uid"] for e in _events(_calendar(tmp_path))]


def test_spanish(tmp_path: Path) -> None:
    cal = _calendar(tmp_path, "--language", "es")
    assert any("Infusión" in e["summary"] for e in _events(cal))


def test_stdout_when_no_out() -> None:
    result = runner.invoke(app, ["calendar", str(EXAMPLE)])
    assert result.exit_code == 0
    assert result.stdout.startswith("BEGIN:VCALENDAR")


def test_bad_input_exits_2_with_one_line(tmp_path: Path) -> None:
    no_start = tmp_path / "plan.toml"
    no_start.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace('start = "2026-12-01T08:30"\n', ""),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["calendar", str(no_start)])
    assert result.exit_code == 2
    assert "order.start" in result.output
    assert runner.invoke(app, ["calendar", str(EXAMPLE), "--language", "fr"]).exit_code == 2
    assert runner.invoke(app, ["calendar", str(tmp_path / "missing.toml")]).exit_code == 2
