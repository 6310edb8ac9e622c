"""The history shows a changed order document as readable items, not raw JSON; long lists of
items start collapsed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ivig.web.history import flatten, json_parts
from tests.web.test_plans import make_seed_child, save_plan

pytestmark = pytest.mark.django_db


def test_flatten_and_parts_name_each_item():
    before = {"order": {"dose": "2 g/kg", "titration": [{"rate": "0.5 mL/kg/h"}], "days": 2}}
    after = {"order": {"dose": "1 g/kg", "titration": [{"rate": "0.5 mL/kg/h"}], "days": 2}}
    assert flatten(before)["order › titration › 1 › rate"] == "0.5 mL/kg/h"
    parts = json_parts(before, after)
    assert [(p.path, p.before, p.after) for p in parts] == [("order › dose", "2 g/kg", "1 g/kg")]


def test_the_history_page_shows_changes_not_json(client, world):
    child = make_seed_child(world)
    client.force_login(world.caregiver)
    plan = save_plan(client, child)
    document = dict(plan.order_document)
    document["order"] = {**document["order"], "dose": "1 g/kg"}
    plan.order_document = document
    plan.save()
    page = client.get(reverse("patients:history", args=[child.pk])).content.decode()
    body = page[page.index("<main") :]
    assert "order › dose" in body and "2 g/kg</span> → 1 g/kg" in body
    assert '{"' not in body and "&quot;order&quot;" not in body
    assert "<details open><summary>Order document: 1 item</summary>" in body
    assert "<details><summary>Order document:" in body  # the created version: many items, folded
