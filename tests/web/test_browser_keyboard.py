"""The plan editor with the keyboard only: a logical tab order (the rule fields are skipped while
steps are chosen, the computed plan comes before Save), every aria-describedby points at an
element that exists, and a whole plan is entered and saved without the mouse."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.web.conftest import build_world
from tests.web.test_plans import make_seed_child

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_TABS = 150


def focused(page: Any) -> str:
    return str(
        page.evaluate(
            "() => { const e = document.activeElement;"
            " return e ? (e.id || e.getAttribute('name') || e.tagName) : ''; }"
        )
    )


def tab_order(page: Any, until: str) -> list[str]:
    order: list[str] = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        order.append(focused(page))
        if order[-1] == until:
            return order
    raise AssertionError(f"{until!r} not reached with Tab: {order}")


def tab_to(page: Any, target: str) -> None:
    tab_order(page, target)


def test_the_plan_editor_with_the_keyboard_only(browser: Any, live_server: Any) -> None:
    world = build_world()
    child = make_seed_child(world)
    client = Client()
    client.force_login(world.caregiver)
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/patients/{child.pk}/plans/new/")

    broken = page.evaluate(
        """() => [...document.querySelectorAll('[aria-describedby]')].flatMap(e =>
            e.getAttribute('aria-describedby').split(/\\s+/).filter(Boolean)
             .filter(id => !document.getElementById(id)).map(id => e.id + ' -> ' + id))"""
    )
    assert broken == []

    # Steps are chosen: Tab skips the rule fields and reaches the computed plan before Save.
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    order = tab_order(page, "save")
    assert not [name for name in order if name.startswith("id_rule_")], order
    assert "plan-preview-section" in order
    assert order.index("plan-preview-section") < order.index("save")
    print(f"\n{len(order)} tab stops from the top of the page to Save (steps chosen)")

    # Entering the seed chart's order with the keyboard only.
    page.evaluate("() => window.scrollTo(0, 0)")
    page.locator("body").focus()
    tab_to(page, "id_product")
    page.keyboard.type("Privigen")
    tab_to(page, "id_indication")
    page.keyboard.type("Juvenile derm")
    for field, text in (
        ("id_dose", "2 g/kg"),
        ("id_days", "2"),
        ("id_start", "2026-12-01T08:30"),
        ("id_prescriber", "Dr. A. Rivera"),
        ("id_step-0-rate", "0.5 mL/kg/h"),
        ("id_step-0-minutes", "30"),
        ("id_step-1-rate", "1 mL/kg/h"),
        ("id_step-1-minutes", "30"),
        ("id_step-2-rate", "1.5 mL/kg/h"),
        ("id_step-2-minutes", "30"),
        ("id_step-3-rate", "2 mL/kg/h"),
    ):
        tab_to(page, field)
        page.keyboard.type(text)
    assert page.input_value("#id_product") == "privigen"
    assert page.input_value("#id_indication") == "jdm"
    tab_to(page, "save")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    errors = page.locator(".errorlist, .form-errors").all_inner_texts()
    assert re.search(r"/plans/\d+/$", page.url), (page.url, errors)
    assert page.get_by_text("Plan saved as a new version").is_visible()

    # Choosing "a rule" with the keyboard brings the rule fields into the tab order.
    page.goto(f"{live_server.url}/patients/{child.pk}/plans/new/")
    page.focus("#id_titration_form_0")
    page.keyboard.press("ArrowDown")  # radio group: the next choice ("a rule")
    assert page.is_checked("input[name=titration_form][value=rule]")
    order = tab_order(page, "save")
    assert "id_rule_start" in order and not [n for n in order if n.startswith("id_step-")]
