"""The Plan value: what the engine computed for one order (days, schedules, findings).

A plain record with no behaviour beyond reading itself. ``plan.build_plan`` fills it and runs
``checks`` on it; ``checks``, ``compare`` and ``timeline`` read it. Keeping the record here lets
each of those modules depend one way: plan_model <- checks <- plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ivig.core import titration
from ivig.core.catalogue import Catalogue, Indication, IndicationLabel, Product
from ivig.core.dosing import Course, DayDose, DosingWeight
from ivig.core.findings import Finding
from ivig.core.order import OrderDocument
from ivig.core.titration import ResolvedStep, Schedule

STATEMENT_EN = (
    "This plan was prescribed by {prescriber}. This software only computes and checks it: "
    "it never chooses a dose or a rate. Check every number against the prescription."
)
STATEMENT_ES = (
    "Este plan fue prescrito por {prescriber}. Este programa solo lo calcula y lo revisa: "
    "nunca elige una dosis ni una velocidad. Compare cada cifra con la prescripción."
)
UNNAMED_PRESCRIBER_EN = "the treating clinician (name not given)"
UNNAMED_PRESCRIBER_ES = "el médico tratante (nombre no indicado)"


@dataclass(frozen=True)
class DayPlan:
    day: int
    date: date | None
    dose: DayDose
    volume_ml: Decimal
    schedule: Schedule
    start: datetime | None
    end: datetime | None
    saline_ml: Decimal | None


@dataclass(frozen=True)
class Plan:
    document: OrderDocument
    catalogue: Catalogue
    product: Product
    concentration_mg_ml: Decimal
    indication: Indication | None
    label: IndicationLabel | None
    dosing: DosingWeight
    course: Course
    steps: tuple[ResolvedStep, ...]
    days: tuple[DayPlan, ...]
    today: date
    age_years: Decimal | None
    findings: tuple[Finding, ...] = ()

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    @property
    def course_dose_g_per_kg(self) -> Decimal:
        """The course dose GIVEN (after any vial rounding) per kg of dosing weight: what the dose
        checks use."""
        return self.course.dose_g / self.dosing.weight_kg

    @property
    def prescribed_course_dose_g_per_kg(self) -> Decimal:
        """The course dose as prescribed (before rounding) per kg of dosing weight."""
        return self.course.prescribed_g / self.dosing.weight_kg

    @property
    def first_day_steps(self) -> tuple[titration.ScheduleStep, ...]:
        return self.days[0].schedule.steps if self.days else ()

    def statement(self, language: str = "en") -> str:
        prescriber = self.document.order.prescriber
        if language == "es":
            return STATEMENT_ES.format(prescriber=prescriber or UNNAMED_PRESCRIBER_ES)
        return STATEMENT_EN.format(prescriber=prescriber or UNNAMED_PRESCRIBER_EN)
