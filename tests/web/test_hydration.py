"""Drinks (issue 9 item 8): future entries refused, a single drink above the bound asks for
confirmation, drinks in mL/L/oz/cups and limits per day through the one parser, the "after"
window from the actual end of the course, and the day's figure in mL with its source."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ivig.core import infusion_day
from ivig.web.infusions.models import FluidLimit, HydrationEntry, Infusion
from tests.core import builders
from tests.web.test_care_checkins import approve_document, run_last_day

pytestmark = pytest.mark.django_db
T = "%Y-%m-%dT%H:%M"


def page(world):
    return f"/patients/{world.patient.pk}/hydration/"


def ago(minutes):
    return (timezone.localtime() - timedelta(minutes=minutes)).strftime(T)


def test_a_drink_in_the_future_is_refused_and_not_counted(client, world):
    client.force_login(world.caregiver)
    for later in (timedelta(hours=2), timedelta(days=30)):
        at = (timezone.localtime() + later).strftime(T)
        response = client.post(page(world), {"at": at, "volume": "250 mL"})
        assert response.status_code == 200
    assert "is in the future" in client.post(
        page(world),
        {"at": (timezone.localtime() + timedelta(hours=2)).strftime(T), "volume": "250 mL"},
    ).content.decode()
    assert not HydrationEntry.objects.exists()


def test_drinks_in_ounces_and_cups_are_read_by_the_one_parser(client, world):
    client.force_login(world.caregiver)
    for volume in ("8 oz", "1 cup", "0.25 L"):
        assert client.post(page(world), {"at": ago(5), "volume": volume}).status_code == 302
    assert sorted(HydrationEntry.objects.values_list("volume_ml", flat=True)) == [
        Decimal("240"),
        Decimal("240"),
        Decimal("250"),
    ]
    assert "Last 24 hours: 730 mL" in client.get(page(world)).content.decode()
    bad = client.post(page(world), {"at": ago(5), "volume": "250"})
    assert "unit" in bad.content.decode() and HydrationEntry.objects.count() == 3


def test_a_single_drink_above_the_bound_asks_for_confirmation(client, world):
    """The bound is the Holliday-Segar daily volume for the patient's weight (a design choice,
    labelled in the message): 1500 mL + 20 mL/kg above 20 kg."""
    client.force_login(world.caregiver)
    weight = world.patient.latest_weight()
    assert weight is not None
    assert weight.unit == "kg" and 20 < weight.value < 30
    bound = infusion_day.single_entry_bound_ml(Decimal(str(weight.value)))
    expected = Decimal(1500) + 20 * (weight.value - 20)
    assert bound.design_choice and bound.bound_ml == expected
    response = client.post(page(world), {"at": ago(5), "volume": "5 L"})
    body = response.content.decode()
    assert f"more than {expected:.0f} mL" in body and "design choice" in body
    assert 'name="confirm"' in body and not HydrationEntry.objects.exists()
    response = client.post(page(world), {"at": ago(5), "volume": "5 L", "confirm": "on"})
    assert response.status_code == 302 and HydrationEntry.objects.get().volume_ml == 5000
    # an ordinary drink never shows the confirmation box
    assert 'name="confirm"' not in client.get(page(world)).content.decode()


def test_limits_per_day_and_the_days_figure(client, world):
    client.force_login(world.caregiver)
    weight = world.patient.latest_weight()
    assert weight is not None and weight.unit == "kg"
    expected = Decimal(1500) + 20 * (weight.value - 20)
    body = client.get(page(world)).content.decode()
    assert f"about {expected:.0f} mL" in body and "Holliday" in body and "NICE NG29" in body
    response = client.post(page(world) + "limit/", {"limit": "1.2 L/day", "reason": "heart"})
    assert response.status_code == 302
    assert FluidLimit.objects.get().limit_ml == 1200
    client.post(page(world) + "limit/", {"limit": "40 oz/day", "reason": "kidney"})
    assert FluidLimit.objects.filter(archived_at__isnull=True).get().reason == "kidney"
    client.post(page(world) + "limit/", {"limit": "1200 mL/day", "reason": "heart again"})
    body = client.get(page(world)).content.decode()
    assert "At most 1200 mL a day" in body and "limit comes first" in body
    bad = client.post(page(world) + "limit/", {"limit": "1200", "reason": "x"})
    assert "unit" in bad.content.decode()


def test_the_after_window_follows_the_actual_end_of_the_course(client, world):
    client.force_login(world.nurse)
    approval = approve_document(world, builders.document())
    body = client.get(page(world)).content.decode()
    assert "starts with the next infusion" in body
    started = timezone.localtime() - timedelta(minutes=300)
    client.post(
        f"/patients/{world.patient.pk}/infusions/start/",
        {"approval": approval.pk, "day": 1, "started_at": started.strftime(T)},
    )
    day1 = Infusion.objects.get()
    client.post(
        f"/patients/{world.patient.pk}/infusions/{day1.pk}/record/stop/",
        {
            "stop-at": (started + timedelta(minutes=100)).strftime(T),
            "stop-volume": f"{approval.snapshot['days'][0]['volume_ml']} mL",
        },
    )
    body = client.get(page(world)).content.decode()
    assert "starts when the last day of the course ends" in body  # day 1 is not the end
    last = run_last_day(client, world, approval)
    body = client.get(page(world)).content.decode()
    assert "starts when the last day" not in body
    end = timezone.localtime(last.ended_at).strftime("%Y-%m-%d %H:%M")
    assert end in body


def test_the_page_reads_the_same_few_times_however_many_drinks_and_infusions(client, world):
    """Issue 10: the windows' sums, the course's two ends and the list are each one read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def reads() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(page(world)).status_code == 200
        return len(context.captured_queries)

    client.force_login(world.nurse)
    approval = approve_document(world, builders.document())
    last = run_last_day(client, world, approval)
    few = reads()
    start = last.started_at
    for n in range(1, 6):  # more infusions of the course, and drinks in every window
        Infusion.objects.create(
            approval=approval, patient=world.patient, day=last.day, started_by=world.nurse,
            started_at=start - timedelta(days=n), ended_at=start - timedelta(days=n, hours=-3),
        )
    HydrationEntry.objects.bulk_create(
        HydrationEntry(patient=world.patient, at=timezone.now() - timedelta(hours=h),
                       volume="100 mL", volume_ml=Decimal(100), recorded_by=world.nurse)
        for h in range(60)
    )
    assert reads() == few <= 10


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_empty_drink_form_is_written_as_the_field_template_writes_it(client, world, language):
    """Issue 10: the page writes its empty drink form directly (no widget template per field);
    labels, help text, aria-describedby and attributes are those of includes/field.html."""
    import re

    from django.conf import settings
    from django.template import Context, Template
    from django.utils import translation

    from ivig.web.infusions.forms import HydrationForm

    client.force_login(world.nurse)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    body = client.get(page(world)).content.decode()
    assert f'<html lang="{language}"' in body
    written = body.split('<form method="post" novalidate>', 1)[1].split("<button", 1)[0]
    written = written.split(">", 1)[1]  # after the CSRF field
    value = re.search(r'name="at" value="([^"]*)"', written)[1]
    with translation.override(language):
        form = HydrationForm(initial={"at": value})
        expected = Template(
            '{% for field in form %}{% if field.name != "confirm" %}'
            '{% include "includes/field.html" %}{% endif %}{% endfor %}'
        ).render(Context({"form": form}))

    def squeeze(html: str) -> str:
        return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()

    assert squeeze(written) == squeeze(expected)
    assert 'aria-describedby="id_volume_helptext"' in written
    assert 'id="id_volume_helptext"' in written
