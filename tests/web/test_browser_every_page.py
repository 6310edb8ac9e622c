"""Every page (from the URL list) at 360 px: no horizontal scrolling, axe-core finds no serious
or critical violation, and every aria-describedby points at an element that exists. Pages a
caregiver may not open are checked as the prescriber. Screenshots of failures go to
test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.web.conftest import build_world
from tests.web.pages import build_site, html_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}


def serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({[n.get('target') for n in v['nodes']][:3]})"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def logged_in(browser: Any, live_server: Any, user: Any) -> Any:
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=PHONE)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context.new_page()


def test_every_page_fits_360_px_and_passes_axe(
    browser: Any, live_server: Any, artifacts_dir: Path
) -> None:
    world = build_world()
    values = build_site(world)
    people = {u.pk: logged_in(browser, live_server, u) for u in (world.caregiver, world.prescriber)}
    checked: list[str] = []
    problems: list[str] = []
    for item, person in html_pages(values, [world.caregiver, world.prescriber]):
        page = people[person.pk]
        page.goto(live_server.url + item.url)
        checked.append(item.url)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide = page.evaluate(
                """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .filter(e => { for (let a = e.parentElement; a; a = a.parentElement) {
                    const o = getComputedStyle(a).overflowX;
                    if (o === 'auto' || o === 'scroll' || o === 'hidden') return false; }
                    return true; })
                .slice(0, 4).map(e => e.tagName + '.' + e.className)"""
            )
            problems.append(f"{item.url}: {width} px wide ({wide})")
            page.screenshot(path=str(artifacts_dir / f"too-wide-{len(problems)}.png"))
        problems += [f"{item.url}: {v}" for v in serious_violations(page)]
        broken = page.evaluate(
            """() => [...document.querySelectorAll('[aria-describedby]')].flatMap(e =>
                e.getAttribute('aria-describedby').split(/\\s+/).filter(Boolean)
                 .filter(id => !document.getElementById(id)).map(id => e.id + ' -> ' + id))"""
        )
        problems += [f"{item.url}: aria-describedby points at nothing: {b}" for b in broken]
    print(f"\n{len(checked)} pages checked at 360 px with axe-core:", " ".join(checked))
    assert len(checked) >= 30, checked
    assert not problems, "\n".join(problems)
