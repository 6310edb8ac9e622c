"""Fuzzing every form of the web app (issue 10).

The forms are found, not listed: every URL pattern from the resolver is opened (GET) by a
caregiver and by a prescriber of team A (with an approved plan, a running infusion and a
check-in, so the infusion pages show their forms too), and every ``<form method="post">`` on
those pages is collected with its fields, their default values and their options. Hypothesis then
posts each form with its defaults and one to three fields replaced by hostile values (huge
numbers with units, dates in year 1 or 9999, control characters, odd Unicode, 5,000 characters),
sometimes as an htmx request. No response may be a 5xx. URL patterns without a form on any page
are posted with hostile values under the names of the fields seen elsewhere.

``IVIG_FUZZ_EXAMPLES=500 bash scripts/fuzz.sh`` runs it longer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import WEB_FUZZ_SETTINGS, hostile_text
from tests.web.test_url_access import Values, routes

pytestmark = pytest.mark.django_db


@dataclass
class Form:
    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> defaults / options
    multiple: set[str] = field(default_factory=set)


class _FormParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._form = Form(action=urljoin(self.page, a.get("action") or self.page))
            self.forms.append(self._form)
        form = self._form
        if form is None or (not a.get("name") and tag != "option"):
            return
        name = a.get("name", "")
        if name == "csrfmiddlewaretoken":
            return
        if tag == "input" and a.get("type") not in ("file", "submit", "button", "image"):
            values = form.fields.setdefault(name, [])
            if a.get("type") in ("checkbox", "radio"):
                values.append(a.get("value", "on"))
                if a.get("type") == "checkbox":
                    form.multiple.add(name)
            else:
                values.append(a.get("value", ""))
        elif name and (tag == "button" or (tag == "input" and a.get("type") == "submit")):
            form.fields.setdefault(name, [a.get("value", "1")])
        elif tag == "select":
            self._select = name
            form.fields.setdefault(name, [])
            if "multiple" in a:
                form.multiple.add(name)
        elif tag == "option" and self._select:
            form.fields[self._select].append(a.get("value", ""))
        elif tag == "textarea":
            form.fields.setdefault(name, [""])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def collect_forms(client: Client, urls: list[str]) -> dict[str, Form]:
    found: dict[str, Form] = {}
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = _FormParser(url)
        parser.feed(response.content.decode("utf-8", "replace"))
        for form in parser.forms:
            path = urlsplit(form.action).path + (
                "?" + urlsplit(form.action).query if urlsplit(form.action).query else ""
            )
            merged = found.setdefault(path, Form(action=path))
            for name, values in form.fields.items():
                merged.fields.setdefault(name, [])
                merged.fields[name] += [v for v in values if v not in merged.fields[name]]
            merged.multiple |= form.multiple
    return found


@pytest.fixture
def rich_world(world: Any) -> Any:
    """Team A with an approved computed plan, a running infusion and an open check-in."""
    from tests.core import builders
    from tests.web.test_care_checkins import approve_document

    approve_document(world, builders.document())
    world.fuzz_targets = _targets(world)  # found once: the draws must not depend on state
    return world


def _targets(world: Any) -> tuple[dict[str, Form], list[str]]:
    values = Values(world)
    urls = [r.url for r in routes(values) if not r.template.startswith(("admin/", "static"))]
    forms: dict[str, Form] = {}
    for persona in (None, world.caregiver, world.prescriber, world.nurse):
        client = Client()
        if persona is not None:
            client.force_login(persona)
        for path, form in collect_forms(client, urls).items():
            merged = forms.setdefault(path, Form(action=path))
            for name, options in form.fields.items():
                merged.fields.setdefault(name, [])
                merged.fields[name] += [o for o in options if o not in merged.fields[name]]
            merged.multiple |= form.multiple
    return forms, urls


def _post(client: Client, url: str, data: dict[str, Any], htmx: bool) -> int:
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(url, data, **extra).status_code


def test_the_form_finder_sees_the_main_forms(rich_world):
    forms, _ = rich_world.fuzz_targets
    patient = rich_world.patient.pk
    expected = [
        f"/patients/{patient}/edit/",
        f"/patients/{patient}/plans/new/",
        f"/patients/{patient}/hydration/",
        "/accounts/login/",
        "/accounts/password-reset/",
    ]
    for path in expected:
        assert path in forms, sorted(forms)
    assert "dose" in forms[f"/patients/{patient}/plans/new/"].fields
    assert len(forms) >= 15, sorted(forms)


@WEB_FUZZ_SETTINGS
@given(data=st.data())
def test_no_form_answers_5xx_to_hostile_values(rich_world, data):
    forms, urls = rich_world.fuzz_targets
    all_names = sorted({name for form in forms.values() for name in form.fields})
    client = Client(raise_request_exception=False)
    for persona in (None, rich_world.caregiver, rich_world.prescriber, rich_world.nurse):
        if persona is None:
            client.logout()
        else:
            client.force_login(persona)
        for path, form in sorted(forms.items()):
            post: dict[str, Any] = {}
            for name, options in form.fields.items():
                if name in form.multiple:
                    post[name] = options[:1]
                else:
                    post[name] = options[0] if options else ""
            names = sorted(form.fields)
            if names:
                for name in data.draw(
                    st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)
                ):
                    post[name] = data.draw(hostile_text)
            status = _post(client, path, post, data.draw(st.booleans()))
            assert status < 500, (persona, path, post)
    # URL patterns with no form on any page: hostile values under names seen elsewhere.
    client.force_login(rich_world.caregiver)
    for url in urls:
        if url in forms:
            continue
        names = data.draw(st.lists(st.sampled_from(all_names), max_size=4, unique=True))
        post = {name: data.draw(hostile_text) for name in names}
        assert _post(client, url, post, data.draw(st.booleans())) < 500, (url, post)
