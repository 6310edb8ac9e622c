"""The session store (ivig.web.accounts.sessions) reads what Django's database store reads: the
same session data, nothing once the session has expired or for a key that does not exist, and
signing in, staying signed in and signing out work through it, on whichever database the suite
runs on (SQLite, and PostgreSQL in the second pass)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from ivig.web.accounts.sessions import SessionStore
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_settings_use_this_store():
    assert settings.SESSION_ENGINE == "ivig.web.accounts.sessions"


@pytest.mark.parametrize("age", [timedelta(hours=1), timedelta(seconds=-1), timedelta(days=-30)])
def test_reads_what_djangos_store_reads(age):
    store = SessionStore()
    store["user"] = "42"
    store["words"] = {"es": "¿Dónde está la enfermera?", "n": [1, 2.5, None]}
    store.create()
    store.save()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() + age
    )
    ours, django = SessionStore(store.session_key), DjangoStore(store.session_key)
    assert ours.load() == django.load()
    assert ours.session_key == django.session_key  # None once the session has expired
    if age > timedelta(0):
        assert ours.load()["words"]["es"] == "¿Dónde está la enfermera?"
    else:
        assert ours.load() == {} and ours.session_key is None


@pytest.mark.parametrize("key", ["no-such-session-key-0123456789ab", "x" * 40, "' OR 1=1 --"])
def test_an_unknown_key_reads_nothing(key):
    store = SessionStore(key)
    assert store.load() == {}
    assert store.session_key is None


def test_signing_in_staying_in_and_out(client, world):
    response = client.post(
        "/accounts/login/", {"username": world.nurse.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert Session.objects.filter(session_key=key).exists()
    assert client.get(f"/patients/{world.patient.pk}/").status_code == 200
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    response = client.get(f"/patients/{world.patient.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
