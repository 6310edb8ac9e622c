"""When the patient's record is refused by triage (a condition code the vocabulary no longer
knows), the report is still triaged, and with the patient's age: a temperature without an age is
refused by triage, so dropping the birth date would turn a fever report into an error."""

from __future__ import annotations

import pytest

from ivig.web.infusions import records

from .conftest import make_caregiver, make_patient, make_team

pytestmark = pytest.mark.django_db


def test_a_refused_record_still_gives_the_age_to_triage():
    team = make_team("Fallback family")
    caregiver = make_caregiver(team, email="fallback@example.org", name="Carer")
    patient = make_patient(team, caregiver, conditions=["no_longer_a_condition"])
    report = {"symptoms": [], "temperature": "38.6 C", "infusion_running": False,
              "hours_since_infusion_end": 20}

    result = records.run_triage(patient, {}, report, "en")

    assert result["level"] in {"call_doctor", "emergency"}
    # the age came through: no question asks for it
    assert not any("age" in str(q).lower() for q in result.get("questions", []))
