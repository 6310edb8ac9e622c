"""The approval gate: the one place a plan version becomes approved.

Every way in (the plan page, the JSON API, anything later) calls ``approve``; none of them
writes an ``Approval`` itself. The gate:

- checks that the user may approve plans for this patient (``ivig.web.access``);
- refuses an archived version, and a version already approved (one approval per version; the
  version row is locked while approving, so two simultaneous clicks make one approval);
- recomputes the plan with the core and refuses a plan that cannot be computed;
- refuses when the caller says what was shown (``expected_digest``) and the plan changed since;
- refuses a plan with error findings unless ``overrides`` gives, for each error finding code, a
  reason in free text (not blank). The reasons are stored in the approval snapshot, next to the
  exact error messages they answer, so every printout and the infusion start list can show them.

It raises ``ApprovalRefused`` with a code, a message for people and, for missing overrides, the
error findings that still need a reason. It never approves silently and never changes a plan.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ivig.core.order import OrderError
from ivig.core.plan import build_plan
from ivig.render.plan_json import plan_to_dict
from ivig.web import access
from ivig.web.access import Action
from ivig.web.plans.models import OVERRIDES_KEY, Approval, PlanKind, PlanVersion

MAX_REASON_LENGTH = 1000


@dataclass
class ApprovalRefused(Exception):
    """Why a version was not approved. ``code`` is stable (for the API); ``message`` is for
    people; ``errors`` lists the error findings (code, message) still needing a reason."""

    code: str
    message: str
    errors: list[dict[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


def digest(plan_dict: Any) -> str:
    """A fingerprint of what was shown, so an approval can prove it approves exactly that."""
    text = json.dumps(plan_dict, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def error_findings(plan_dict: Mapping[str, Any]) -> list[dict[str, str]]:
    """The plan's error findings (code and message), in the order shown."""
    return [
        {"code": str(f.get("code")), "message": str(f.get("message"))}
        for f in plan_dict.get("findings") or []
        if f.get("severity") == "error"
    ]


def shown_plan(version: PlanVersion, language: str, today: date | None = None) -> dict[str, Any]:
    """The plan dict a prescriber sees for this version (raises OrderError on bad input)."""
    plan = build_plan(version.order_document, today=today or timezone.localdate())
    return plan_to_dict(plan, language)


def approve(
    version: PlanVersion,
    user: Any,
    overrides: Mapping[str, str] | None = None,
    *,
    language: str = "en",
    expected_digest: str | None = None,
    today: date | None = None,
) -> Approval:
    """Approve ``version`` as ``user``. ``overrides`` maps each error finding code to the
    prescriber's reason for approving despite it. Raises ``ApprovalRefused``, or the access
    helper's PermissionDenied / Http404 when the user may not approve for this patient."""
    access.check(user, version.patient, Action.APPROVE_PLANS)
    overrides = dict(overrides or {})
    with transaction.atomic():
        locked = PlanVersion.objects.select_for_update().get(pk=version.pk)
        if locked.archived_at is not None:
            raise ApprovalRefused(
                "archived", _("This plan version is archived: bring it back before approving.")
            )
        if locked.approvals.exists():
            raise ApprovalRefused(
                "already_approved",
                _("This plan version is already approved. A version is approved once."),
            )
        try:
            plan = build_plan(locked.order_document, today=today or timezone.localdate())
        except OrderError as exc:
            raise ApprovalRefused(
                "invalid", _("This plan has problems and cannot be approved.")
            ) from exc
        plan_dict = plan_to_dict(plan, language)
        if expected_digest is not None and expected_digest != digest(plan_dict):
            raise ApprovalRefused(
                "changed",
                _("The plan changed since the page was shown. Read it again, then approve."),
            )
        errors = error_findings(plan_dict)
        error_codes = {e["code"] for e in errors}
        unknown = sorted(set(overrides) - error_codes)
        if unknown:
            raise ApprovalRefused(
                "override_not_an_error",
                _("An override reason was given for something that is not an error of this "
                  "plan: %(codes)s.") % {"codes": ", ".join(unknown)},
                errors,
            )
        reasons = {code: str(overrides.get(code) or "").strip() for code in error_codes}
        too_long = sorted(c for c, r in reasons.items() if len(r) > MAX_REASON_LENGTH)
        if too_long:
            raise ApprovalRefused(
                "override_reason_too_long",
                _("An override reason is longer than %(n)s characters.")
                % {"n": MAX_REASON_LENGTH},
                errors,
            )
        missing = [e for e in errors if not reasons[e["code"]]]
        if missing:
            raise ApprovalRefused(
                "override_reason_required",
                _("This plan has %(n)s error finding(s). Approving it needs, for each error, "
                  "the reason it is approved anyway.") % {"n": len(errors)},
                missing,
            )
        snapshot = dict(plan_dict)
        snapshot[OVERRIDES_KEY] = [
            {**e, "reason": reasons[e["code"]]} for e in errors
        ]
        return Approval.objects.create(
            plan_version=locked,
            snapshot=snapshot,
            catalogue_version=plan.catalogue.version,
            approved_by=user,
            language=language,
        )


# --- Choosing an approved plan to start an infusion -------------------------------------------


@dataclass(frozen=True)
class StartChoice:
    """One approved version the nurse may start, with what the start list shows about it."""

    approval: Approval
    current: bool  # False: a newer version replaces it
    replaced_by: list[PlanVersion]
    overrides: list[dict[str, str]]

    @property
    def version(self) -> PlanVersion:
        return self.approval.plan_version

    @property
    def course(self) -> dict[str, Any]:
        course = self.approval.snapshot.get("course") if self.approval.snapshot else None
        return course if isinstance(course, dict) else {}


def start_choices(
    approvals: list[Approval], replacing: Mapping[int, list[PlanVersion]] | None = None
) -> tuple[list[StartChoice], Approval | None]:
    """The approved versions (not archived) with their status, newest approval first, and the
    default: the latest approval of the current prescription (a prescribed or amended version
    that no newer active version replaces). No default when there is none, so nothing is
    preselected silently. ``replacing``: {version id: the versions that replace it} when the
    caller has read them (else each version's ``superseded_by``)."""
    ordered = sorted(approvals, key=lambda a: (a.approved_at, a.pk), reverse=True)
    out: list[StartChoice] = []
    for approval in ordered:
        version = approval.plan_version
        replacements = (
            version.superseded_by.all() if replacing is None else replacing.get(version.pk, [])
        )
        newer = [v for v in replacements if v.archived_at is None]
        out.append(StartChoice(approval, not newer, newer, approval.error_overrides))
    prescriptions = (PlanKind.PRESCRIBED, PlanKind.AMENDED)
    default = next(
        (c.approval for c in out if c.current and c.version.kind in prescriptions), None
    )
    return out, default
