"""Approved plan versions and approvals cannot be rewritten: not by the admin, not through the
ORM, and an approved version is archived only by a prescriber who writes a reason (issue 10)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ivig.web.plans.models import Approval, ApprovedRecordError, PlanVersion
from tests.web.conftest import make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, build):
    admin = build.make_user("root@example.org", name="Root")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    return client


def test_the_admin_cannot_change_an_approved_plan_or_forge_an_approval(admin_client, world):
    version, approval = world.plan, world.approval
    before = (version.order_document, approval.snapshot, Approval.objects.count())
    change = reverse("admin:plans_planversion_change", args=[version.pk])
    response = admin_client.post(
        change,
        {"patient": world.patient.pk, "kind": "prescribed", "label": "x",
         "order_document": '{"order": {"dose": "2 g/kg"}}', "author": world.prescriber.pk},
    )
    assert response.status_code == 403
    page = admin_client.get(change)
    assert page.status_code == 200 and 'name="order_document"' not in page.content.decode()
    add = admin_client.post(
        reverse("admin:plans_approval_add"),
        {"plan_version": version.pk, "snapshot": '{"forged": true}', "catalogue_version": "x",
         "approved_by": world.stranger.pk, "language": "en"},
    )
    assert add.status_code == 403
    assert admin_client.post(
        reverse("admin:plans_approval_change", args=[approval.pk]), {"snapshot": "{}"}
    ).status_code == 403
    assert admin_client.post(
        reverse("admin:plans_approval_delete", args=[approval.pk]), {"post": "yes"}
    ).status_code == 403
    version.refresh_from_db()
    approval.refresh_from_db()
    assert (version.order_document, approval.snapshot, Approval.objects.count()) == before


def test_the_models_refuse_changes_to_approved_records(world):
    version, approval = world.plan, world.approval
    version.order_document = {"order": {"dose": "2 g/kg"}}
    with pytest.raises(ApprovedRecordError):
        version.save()
    with pytest.raises(ApprovedRecordError):
        PlanVersion.objects.filter(pk=version.pk).update(order_document={})
    with pytest.raises(ApprovedRecordError):
        version.delete()
    approval.snapshot = {"forged": True}
    with pytest.raises(ApprovedRecordError):
        approval.save()
    with pytest.raises(ApprovedRecordError):
        Approval.objects.filter(pk=approval.pk).update(approved_by=world.stranger)
    with pytest.raises(ApprovedRecordError):
        Approval.objects.filter(pk=approval.pk).delete()
    version.refresh_from_db()
    approval.refresh_from_db()
    assert version.order_document == {"order": {"dose": "0.4 g/kg"}}
    assert approval.snapshot == {"shown": "plan"}


def test_an_unapproved_version_can_still_be_archived_by_its_team(client, world):
    draft = make_plan(world.patient, world.nurse, label="Draft")
    client.force_login(world.nurse)
    response = client.post(reverse("plans:archive", args=[world.patient.pk, draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.archived_at is not None


@pytest.mark.parametrize("role", ["caregiver", "nurse"])
def test_only_a_prescriber_archives_an_approved_plan(client, world, role):
    client.force_login(world.persona(role))
    target = reverse("plans:archive", args=[world.patient.pk, world.plan.pk])
    assert client.post(target, {"reason": "wrong"}).status_code == 403
    world.plan.refresh_from_db()
    assert world.plan.archived_at is None


def test_a_prescriber_archives_an_approved_plan_with_a_reason(client, world):
    client.force_login(world.prescriber)
    target = reverse("plans:archive", args=[world.patient.pk, world.plan.pk])
    refused = client.post(target, {"reason": "  "})
    assert refused.status_code == 400 and "with a reason" in refused.content.decode()
    world.plan.refresh_from_db()
    assert world.plan.archived_at is None
    assert client.post(target, {"reason": "Dose changed after new weight"}).status_code == 302
    world.plan.refresh_from_db()
    assert world.plan.archived_at is not None
    assert world.plan.archive_reason == "Dose changed after new weight"
    assert world.plan.history.filter(archive_reason="Dose changed after new weight").exists()
