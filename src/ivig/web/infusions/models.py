"""Records of what happened in the chair and in the days after, against an approved plan.

- ``Infusion``: one day of an approved plan (the ``Approval`` snapshot is the plan it follows).
- ``InfusionEvent``: an append-only log (rate changes, pauses, vitals, symptoms, vials...). A
  correction is a *new* event pointing at the one it corrects; nothing is edited or deleted.
- ``CheckIn``: a follow-up due after the last day ends. Each answer is a new ``CheckInAnswer``
  (append-only, with its triage): a later answer never replaces an earlier one, and two people
  answering at once both keep theirs; the check-in shows the highest level of all its answers.
- ``HydrationEntry`` and ``FluidLimit``: drinks recorded by the family, and a limit the care team
  may set for heart or kidney patients (shown instead of "drink plenty").

Models store inputs and records only; numbers are computed by ``ivig.core.infusion_checks``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypeVar

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KT
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ivig.web.patients.models import Patient
from ivig.web.plans.models import Approval


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete a record of the append-only log."""


class Infusion(models.Model):
    approval = models.ForeignKey(
        Approval,
        on_delete=models.PROTECT,
        related_name="infusions",
        verbose_name=_("approved plan"),
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="infusions", verbose_name=_("patient")
    )
    day = models.PositiveSmallIntegerField(_("day of the course"))
    started_at = models.DateTimeField(_("started"))
    # The date the approved plan gives this day (None when the plan has no dates); the pages
    # warn when the day was started on another date.
    planned_date = models.DateField(_("date in the approved plan"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("infusion")
        verbose_name_plural = _("infusions")
        ordering = ["-started_at", "-pk"]
        constraints = [
            # One running infusion per patient at a time (the start view says why it refuses;
            # this holds even when two people press Start at the same moment).
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(ended_at__isnull=True),
                name="one_running_infusion_per_patient",
            )
        ]
        # the latest infusions of a patient, the first of a course and the end of its last day
        # are found in the index, not by sorting every infusion of a long history
        indexes = [
            models.Index(fields=["patient", "started_at"], name="infusion_patient_started"),
            models.Index(fields=["approval", "started_at"], name="infusion_approval_started"),
            models.Index(fields=["approval", "day", "ended_at"], name="infusion_approval_day_end"),
            # the patient's infusions counted by plan and day, and their plans (the infusions
            # page's groups and by-brand figures), read from the index alone: a long history
            # has hundreds of infusions
            models.Index(
                fields=["patient", "approval", "day", "started_at", "ended_at", "id"],
                name="infusion_patient_plan_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} – day {self.day} – {self.started_at:%Y-%m-%d}"

    @property
    def snapshot(self) -> dict[str, Any]:
        return dict(self.approval.snapshot)

    @property
    def off_plan_date(self) -> bool:
        """True when the day was started on a different date than the approved plan gives."""
        from django.utils import timezone

        return (
            self.planned_date is not None
            and timezone.localtime(self.started_at).date() != self.planned_date
        )

    @property
    def is_last_day(self) -> bool:
        days = [int(d["day"]) for d in self.snapshot.get("days", [])]
        return not days or self.day >= max(days)

    def current_events(self, kinds: Iterable[str] | None = None) -> list[InfusionEvent]:
        """Events in time order, without the ones a later correction replaced; only events of
        these ``kinds`` when given (a long day has thousands of vitals a caller may not need)."""
        if kinds is None:
            events = list(self.events.select_related("recorded_by").order_by("at", "pk"))
            return without_withdrawn(events)
        return _standing_events(self.pk, list(kinds))


class EventKind(models.TextChoices):
    RATE_CHANGE = "rate_change", _("Rate change")
    PAUSE = "pause", _("Pause")
    RESUME = "resume", _("Resume")
    STOP = "stop", _("Stop")
    VITALS = "vitals", _("Vitals")
    SYMPTOM = "symptom", _("Symptoms")
    PREMEDICATION = "premedication", _("Premedication")
    FLUID = "fluid", _("Fluids")
    VIAL = "vial", _("Vial")
    NOTE = "note", _("Note")
    CORRECTION = "correction", _("Correction (withdraws an entry)")


class _Entry(Protocol):
    """What ``without_withdrawn`` reads of an entry (an InfusionEvent, or the parts of one that
    a summary reads: ``history_sql.SummaryEvent``)."""

    @property
    def pk(self) -> Any: ...

    @property
    def kind(self) -> str: ...

    @property
    def corrects_id(self) -> int | None: ...


_E = TypeVar("_E", bound=_Entry)


def without_withdrawn(events: Iterable[_E]) -> list[_E]:
    """The entries among ``events`` that still stand: without the corrections themselves and
    without the entries one of these corrections withdrew (pass the corrections along)."""
    events = list(events)
    corrected = {e.corrects_id for e in events if e.corrects_id}
    return [e for e in events if e.pk not in corrected and e.kind != EventKind.CORRECTION]


class InfusionEvent(models.Model):
    infusion = models.ForeignKey(
        Infusion, on_delete=models.PROTECT, related_name="events", verbose_name=_("infusion")
    )
    at = models.DateTimeField(_("time"))
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    data = models.JSONField(_("data"), default=dict)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects"),
    )
    # The triage level stored in ``data`` ("emergency", "call_doctor", ...), computed by the
    # database from ``data`` itself (always in step, bulk inserts included) and indexed, so
    # that the reactions of a long day are found without reading its thousands of vitals.
    triage_level = models.GeneratedField(
        expression=KT("data__triage__level"),
        output_field=models.CharField(max_length=20, null=True),
        db_persist=True,
        verbose_name=_("triage level"),
    )
    history = HistoricalRecords(excluded_fields=["triage_level"])

    class Meta:
        verbose_name = _("infusion event")
        verbose_name_plural = _("infusion events")
        ordering = ["at", "pk"]
        indexes = [
            # the log's pages in time order (the newest read backwards, not past an offset)
            models.Index(fields=["infusion", "at", "id"], name="event_infusion_at"),
            # one kind's entries by time: the vitals schedule's "a reading in this window"
            # look-ups, the latest triage, the stop, the summaries' rate changes and symptoms
            # (a long day has thousands of vitals)
            # (with the id: "the latest" is by time then id, so PostgreSQL reads a few rows
            # backwards instead of sorting every vitals entry of the day)
            models.Index(fields=["infusion", "kind", "at", "id"], name="event_infusion_kind_at_id"),
            # the entries that were a reaction (summaries, the by-brand figures)
            models.Index(fields=["triage_level", "infusion"], name="event_triage_level"),
            # the corrections alone (a few among thousands of entries): "was this entry
            # withdrawn?" (live_log.withdrawn_sql) is read from this small index; with only
            # the index of every event's corrects_id, PostgreSQL hashed all of them to answer
            # a page of the log
            models.Index(
                fields=["corrects"],
                condition=models.Q(corrects__isnull=False),
                name="event_corrections",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise AppendOnlyError("infusion events are append-only: record a correction")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("infusion events are never deleted: record a correction")


class CheckIn(models.Model):
    infusion = models.ForeignKey(
        Infusion, on_delete=models.PROTECT, related_name="checkins", verbose_name=_("infusion")
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="checkins", verbose_name=_("patient")
    )
    due_at = models.DateTimeField(_("due"))
    hours_after_end = models.DecimalField(_("hours after the end"), max_digits=6, decimal_places=1)
    label = models.CharField(_("label"), max_length=200)
    focus = models.JSONField(_("what to ask about"), default=dict)
    tiers = models.JSONField(_("tiers"), default=list)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        ordering = ["due_at", "pk"]
        # a patient's newest check-ins (overdue or not) read backwards from the newest, not
        # every check-in of a long history sorted
        indexes = [models.Index(fields=["patient", "due_at", "id"], name="checkin_patient_due")]

    def __str__(self) -> str:
        return f"{self.patient} – {self.label}"

    def answer_list(self) -> list[CheckInAnswer]:
        """Every answer, oldest first (uses a prefetch of ``answers`` when there is one)."""
        return sorted(self.answers.all(), key=lambda a: (a.answered_at, a.pk))

    def highest(self) -> CheckInAnswer | None:
        """The answer with the highest triage level (the latest of equals); None if unanswered."""
        found: CheckInAnswer | None = highest_answer(self.answer_list())
        return found


# Triage levels from the least to the most urgent; an unknown level ranks above all (be safe).
LEVEL_RANK = {"": 0, "expected": 1, "call_doctor": 2, "emergency": 3}


def highest_answer(answers: Sequence[Any]) -> Any:
    """Among a check-in's answers (oldest first; anything with ``level`` and ``answered_at``),
    the one with the highest triage level, the latest of equals; None if there is none."""
    if not answers:
        return None
    return max(answers, key=lambda a: (LEVEL_RANK.get(a.level, len(LEVEL_RANK)), a.answered_at))


class CheckInAnswer(models.Model):
    """One person's answers to a check-in and their triage: append-only, never replaced."""

    checkin = models.ForeignKey(
        CheckIn, on_delete=models.PROTECT, related_name="answers", verbose_name=_("check-in")
    )
    answered_at = models.DateTimeField(_("answered"))
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    report = models.JSONField(_("answers"), default=dict)
    triage = models.JSONField(_("triage result"), default=dict)
    level = models.CharField(_("triage level"), max_length=20, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("check-in answer")
        verbose_name_plural = _("check-in answers")
        ordering = ["answered_at", "pk"]

    def __str__(self) -> str:
        return f"{self.checkin} – {self.level} {self.answered_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("check-in answers are kept: record a new answer instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("check-in answers are never deleted")


class HydrationEntry(models.Model):
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="hydration", verbose_name=_("patient")
    )
    at = models.DateTimeField(_("time"))
    volume = models.CharField(_("volume as entered"), max_length=40)
    volume_ml = models.DecimalField(_("volume in mL"), max_digits=8, decimal_places=1)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("drink")
        verbose_name_plural = _("drinks")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.volume} {self.at:%Y-%m-%d %H:%M}"


class FluidLimit(models.Model):
    """A limit on fluids set by the care team (heart or kidney patients), with the reason."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="fluid_limits", verbose_name=_("patient")
    )
    limit = models.CharField(_("limit per 24 h"), max_length=40)
    limit_ml = models.DecimalField(_("limit in mL per 24 h"), max_digits=8, decimal_places=1)
    reason = models.CharField(_("reason"), max_length=300)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(_("set"), auto_now_add=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("fluid limit")
        verbose_name_plural = _("fluid limits")
        ordering = ["-set_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.limit} ({self.reason})"


class TemperatureUnit(models.TextChoices):
    CELSIUS = "°C", "°C"
    FAHRENHEIT = "°F", "°F"


class DisplayPreference(models.Model):
    """What a person last chose on a temperature field (°C or °F), remembered for next time."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="display_preference",
        verbose_name=_("user"),
    )
    temperature_unit = models.CharField(
        _("temperature unit"),
        max_length=2,
        choices=TemperatureUnit.choices,
        default=TemperatureUnit.CELSIUS,
    )

    class Meta:
        verbose_name = _("display preference")
        verbose_name_plural = _("display preferences")

    def __str__(self) -> str:
        return f"{self.user}: {self.temperature_unit}"


def _standing_events(infusion_id: int, kinds: list[str]) -> list[InfusionEvent]:
    """The infusion's entries of these kinds that no correction withdrew, in time order: one
    hand-written statement (``ivig.web.sql``; the live page asks on every visit), the same
    entries as ``without_withdrawn`` of these kinds and the corrections through the ORM
    (tests/web/test_live_log.py). Sorted here, not by the database: without an ORDER BY the
    database reads only these kinds through the (infusion, kind, at) index; with one, SQLite
    may walk every event of the day in time order to pick them out."""
    from ivig.web import sql
    from ivig.web.infusions.live_log import withdrawn_sql

    kinds = [kind for kind in kinds if kind != EventKind.CORRECTION]
    if not kinds:
        return []
    fields, columns = sql.columns(InfusionEvent, "e")
    q = sql.quote
    statement = (
        f"SELECT {columns} FROM {q(InfusionEvent._meta.db_table)} e "
        f"WHERE e.{q('infusion_id')} = %s AND e.{q('kind')} IN ({sql.marks(kinds)}) "
        f"AND NOT {withdrawn_sql('e')}"
    )
    events = [
        sql.instance(InfusionEvent, fields, row)
        for row in sql.sql_rows(statement, [infusion_id, *kinds], fields)
    ]
    return sorted(events, key=lambda e: (e.at, e.pk))
