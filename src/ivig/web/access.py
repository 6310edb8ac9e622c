"""Who may see and do what: the one permission helper every view goes through.

Access comes only from an active membership of the patient's care team; being a superuser or
staff member gives no access to patient records through these pages. A patient the user
cannot see is answered with 404 (its existence is not revealed); a patient the user can see but
not change is answered with 403.

The role matrix (docs/roles.md explains each choice):

=====================  =========  =====  ==========  ======
action                 caregiver  nurse  prescriber  viewer
=====================  =========  =====  ==========  ======
view                   yes        yes    yes         yes
record_measurement     yes        yes    yes         no
edit_profile           yes        no     yes         no
archive_patient        yes        no     no          no
add_patient            yes        no     no          no
manage_team            yes        no     no          no
edit_plans             yes        yes    yes         no
approve_plans          no         no     yes         no
=====================  =========  =====  ==========  ======
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.http import Http404, HttpRequest, HttpResponse

from ivig.web import sql
from ivig.web.accounts.models import CareTeam, Membership, Role
from ivig.web.patients.models import Patient


class Action(StrEnum):
    VIEW = "view"
    RECORD_MEASUREMENT = "record_measurement"
    EDIT_PROFILE = "edit_profile"
    ARCHIVE_PATIENT = "archive_patient"
    ADD_PATIENT = "add_patient"
    MANAGE_TEAM = "manage_team"
    EDIT_PLANS = "edit_plans"
    APPROVE_PLANS = "approve_plans"


_ALL_WRITES = frozenset(Action) - {Action.VIEW}

ROLE_ACTIONS: Final[Mapping[Role, frozenset[Action]]] = MappingProxyType(
    {
        Role.CAREGIVER: frozenset(
            {
                Action.VIEW,
                Action.RECORD_MEASUREMENT,
                Action.EDIT_PROFILE,
                Action.ARCHIVE_PATIENT,
                Action.ADD_PATIENT,
                Action.MANAGE_TEAM,
                Action.EDIT_PLANS,
            }
        ),
        Role.NURSE: frozenset({Action.VIEW, Action.RECORD_MEASUREMENT, Action.EDIT_PLANS}),
        Role.PRESCRIBER: frozenset(
            {
                Action.VIEW,
                Action.RECORD_MEASUREMENT,
                Action.EDIT_PROFILE,
                Action.ADD_PATIENT,
                Action.EDIT_PLANS,
                Action.APPROVE_PLANS,
            }
        ),
        Role.VIEWER: frozenset({Action.VIEW}),
    }
)

# Writes that stay possible on an archived patient (to bring it back).
_ALLOWED_WHEN_ARCHIVED = frozenset({Action.VIEW, Action.ARCHIVE_PATIENT})


def role_allows(role: str | None, action: Action) -> bool:
    if role is None:
        return False
    return action in ROLE_ACTIONS.get(Role(role), frozenset())


def _authenticated(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def memberships_of(user: Any) -> QuerySet[Membership]:
    if not _authenticated(user) or not user.is_active:
        return Membership.objects.none()
    return Membership.objects.filter(
        user=user, archived_at__isnull=True, team__archived_at__isnull=True
    )


# --- One read of a membership per request -------------------------------------------------------
# A page asks "what may this user do in this team?" several times (the view's check, then the
# template's buttons). Within one request the answer is read from the database once and kept in
# this request-scoped dict (set by RequestMembershipsMiddleware; outside a request nothing is
# kept). Any change to a membership, a team or a user during the request empties it, so a check
# made after a change reads the database again.
MembershipRow = tuple[str, str] | None
_request_memberships: ContextVar[dict[tuple[int, int], MembershipRow] | None] = ContextVar(
    "ivig_request_memberships", default=None
)


class RequestMembershipsMiddleware:
    """Scope the membership reads of ``actions_in`` to one request (see above)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request_memberships.set({})
        try:
            return self.get_response(request)
        finally:
            _request_memberships.reset(token)


def _forget_memberships(**_kwargs: Any) -> None:
    kept = _request_memberships.get()
    if kept is not None:
        kept.clear()


for _model in (Membership, CareTeam, "accounts.User"):
    post_save.connect(_forget_memberships, sender=_model, dispatch_uid=f"ivig-access-{_model}")
    post_delete.connect(
        _forget_memberships, sender=_model, dispatch_uid=f"ivig-access-del-{_model}"
    )


def _membership_row(user: Any, team_id: int) -> MembershipRow:
    """(role, clinical_role) of the user's active membership of an active team, or None."""
    if not _authenticated(user) or not user.is_active:
        return None
    kept = _request_memberships.get()
    key = (user.pk, team_id)
    if kept is not None and key in kept:
        return kept[key]
    # at most one membership per (user, team): a database constraint; no ordering needed
    found = memberships_of(user).filter(team_id=team_id).order_by()
    row = next(iter(found.values_list("role", "clinical_role")[:1]), None)
    if kept is not None:
        kept[key] = row
    return row


def role_in(user: Any, team: CareTeam | int) -> str | None:
    """The user's role in a team, or None."""
    team_id = team if isinstance(team, int) else team.pk
    row = _membership_row(user, team_id)
    return row[0] if row else None


def actions_in(user: Any, team: CareTeam | int) -> frozenset[Action] | None:
    """What the user may do in a team: their role's actions, plus those of the clinical role a
    team's creator chose (a doctor or nurse working alone); None when not a member."""
    team_id = team if isinstance(team, int) else team.pk
    return _actions_of(_membership_row(user, team_id))


def _actions_of(row: MembershipRow) -> frozenset[Action] | None:
    if row is None:
        return None
    role, clinical = row
    actions = ROLE_ACTIONS.get(Role(role), frozenset())
    if clinical:
        actions = actions | ROLE_ACTIONS.get(Role(clinical), frozenset())
    return actions


def teams_for(user: Any, action: Action = Action.VIEW) -> QuerySet[CareTeam]:
    """Teams in which the user may do ``action``."""
    roles = [role.value for role, actions in ROLE_ACTIONS.items() if action in actions]
    team_ids = (
        memberships_of(user)
        .filter(Q(role__in=roles) | Q(clinical_role__in=roles))
        .values("team_id")
    )
    return CareTeam.objects.filter(pk__in=team_ids, archived_at__isnull=True)


def patients_for(user: Any, *, include_archived: bool = False) -> QuerySet[Patient]:
    """Every patient the user may see (active ones unless ``include_archived``)."""
    patients = Patient.objects.filter(team__in=teams_for(user)).select_related("team")
    return patients if include_archived else patients.filter(archived_at__isnull=True)


def patients_with_roles(user: Any) -> tuple[list[Patient], dict[int, str]]:
    """The active patients the user may see (as ``patients_for``) and the user's role in each
    of their teams, from one read of the user's memberships."""
    rows = list(memberships_of(user).order_by().values_list("team_id", "role", "clinical_role"))
    roles = {team_id: role for team_id, role, _clinical in rows}
    seeing = [
        team_id
        for team_id, role, clinical in rows
        if Action.VIEW in (_actions_of((role, clinical)) or frozenset())
    ]
    if not seeing:
        return [], roles
    patients = list(
        Patient.objects.filter(team_id__in=seeing, archived_at__isnull=True).select_related(
            "team"
        )
    )
    return patients, roles


def check(user: Any, patient: Patient, action: Action) -> None:
    """Raise Http404 if the user cannot see the patient, PermissionDenied if not allowed."""
    actions = actions_in(user, patient.team_id)
    if actions is None:
        raise Http404("No such patient")
    if action not in actions:
        raise PermissionDenied("Your role in this care team does not allow this")
    if patient.archived_at is not None and action not in _ALLOWED_WHEN_ARCHIVED:
        raise PermissionDenied("This patient is archived: bring the record back to change it")


def can(user: Any, patient: Patient, action: Action) -> bool:
    try:
        check(user, patient, action)
    except (Http404, PermissionDenied):
        return False
    return True


def get_patient_for_user(
    user: Any, patient_id: int, *, write: bool = False, action: Action | None = None
) -> Patient:
    """The patient, if the user may see it (404 otherwise).

    ``action`` names what the view is about to do; ``write=True`` without an action asks for
    any role that can change something (everyone but a viewer). A role that may see but not do
    it gets 403."""
    patient = _patient_with_membership(user, patient_id)
    if action is None:
        action = Action.VIEW
        if write:
            held = actions_in(user, patient.team_id)
            if held is None:
                raise Http404("No such patient")
            if not (held & _ALL_WRITES):
                raise PermissionDenied("Your role in this care team is read-only")
            if patient.archived_at is not None:
                raise PermissionDenied("This patient is archived")
    check(user, patient, action)
    return patient


_PATIENT_FIELDS, _PATIENT_COLUMNS = sql.columns(Patient, "p")
_TEAM_FIELDS, _TEAM_COLUMNS = sql.columns(CareTeam, "t")


def _patient_with_membership(user: Any, patient_id: Any) -> Patient:
    """The patient with its care team, and the user's membership of that team read with them
    in the same statement (kept for the request as ``_membership_row`` keeps it): every page of
    a patient starts here. The same answer as ``Patient.objects.select_related("team")`` and
    ``_membership_row`` (tests/web/test_access_read.py, on both databases); 404 when there is
    no such patient."""
    pk = sql.row_id(patient_id)
    if pk is None:
        raise Http404("No such patient")
    member = _authenticated(user) and user.is_active
    q = sql.quote
    statement = (
        f"SELECT {_PATIENT_COLUMNS}, {_TEAM_COLUMNS}, m.{q('role')}, m.{q('clinical_role')} "
        f"FROM {q(Patient._meta.db_table)} p "
        f"JOIN {q(CareTeam._meta.db_table)} t ON t.{q('id')} = p.{q('team_id')} "
        f"LEFT JOIN {q(Membership._meta.db_table)} m ON m.{q('team_id')} = t.{q('id')} "
        f"AND m.{q('user_id')} = %s AND m.{q('archived_at')} IS NULL "
        f"AND t.{q('archived_at')} IS NULL "
        f"WHERE p.{q('id')} = %s"
    )
    rows = sql.sql_rows(
        statement,
        [user.pk if member else None, pk],
        [*_PATIENT_FIELDS, *_TEAM_FIELDS, None, None],
    )
    if not rows:
        raise Http404("No such patient")
    values = rows[0]
    split = len(_PATIENT_FIELDS)
    patient = sql.instance(Patient, _PATIENT_FIELDS, values[:split])
    patient.team = sql.instance(CareTeam, _TEAM_FIELDS, values[split:-2])
    role, clinical = values[-2:]
    kept = _request_memberships.get()
    if member and kept is not None:
        kept[(user.pk, patient.team_id)] = None if role is None else (role, clinical)
    return patient


def get_team_for_user(user: Any, team_id: int, *, action: Action = Action.VIEW) -> CareTeam:
    """The care team, if the user is a member (404 otherwise; 403 if ``action`` is refused)."""
    team: CareTeam | None = CareTeam.objects.filter(pk=team_id, archived_at__isnull=True).first()
    held = actions_in(user, team) if team is not None else None
    if team is None or held is None:
        raise Http404("No such care team")
    if action not in held:
        raise PermissionDenied("Your role in this care team does not allow this")
    return team


def can_edit_plans(user: Any, patient: Patient) -> bool:
    """Caregivers (transcribing a paper order), nurses and prescribers may enter plans."""
    return can(user, patient, Action.EDIT_PLANS)


def can_approve_plans(user: Any, patient: Patient) -> bool:
    """Only a prescriber approves a plan."""
    return can(user, patient, Action.APPROVE_PLANS)


def allowed_actions(user: Any, patient: Patient) -> frozenset[Action]:
    """What the user may do for this patient (one query)."""
    held = actions_in(user, patient.team_id)
    if held is None:
        return frozenset()
    actions = held
    if patient.archived_at is not None:
        actions = actions & _ALLOWED_WHEN_ARCHIVED
    return actions


def permissions_for(user: Any, patient: Patient) -> dict[str, bool]:
    """``{"edit_profile": True, ...}`` for templates: ``{% if can.edit_plans %}``."""
    actions = allowed_actions(user, patient)
    return {action.value: action in actions for action in Action}
