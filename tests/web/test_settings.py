"""Settings from the environment, the production profile, SQLite WAL, the secret key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from ivig.web import env


def _django(tmp_path: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("IVIG_")
        and key not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE")
    }
    environment.update({"IVIG_DATA_DIR": str(tmp_path / "data")}, **extra_env)
    return subprocess.run(
        [sys.executable, "-m", "django", *args, "--settings=ivig.web.settings"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("raw, expected", [("1", True), ("yes", True), ("off", False), ("", False)])
def test_env_bool(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env.env_bool("X_FLAG") is expected


def test_env_helpers_fail_loudly(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env.env_bool("X_FLAG")
    monkeypatch.setenv("X_NUMBER", "thirty")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env.env_int("X_NUMBER", 1)
    monkeypatch.setenv("X_NUMBER", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env.env_int("X_NUMBER", 5, minimum=1)


def test_env_list_and_secret_file(monkeypatch, tmp_path):
    monkeypatch.setenv("X_HOSTS", " a.example, ,b.example ")
    assert env.env_list("X_HOSTS", []) == ["a.example", "b.example"]
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env.env_secret("X_SECRET") == "s3cret"
    monkeypatch.setenv("X_SECRET", "also")
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env.env_secret("X_SECRET")


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = env.secret_key_from_data_dir(tmp_path)
    assert len(first) >= 50
    assert env.secret_key_from_data_dir(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.nopostgres
def test_sqlite_connections_use_wal(tmp_path, django_db_blocker):
    """Open a real file database with the configured options and ask SQLite its journal mode."""
    from django.db import connections

    if connections["default"].vendor != "sqlite":
        pytest.skip("SQLite only")
    from django.db.backends.sqlite3.base import DatabaseWrapper

    config = {**connections["default"].settings_dict, "NAME": str(tmp_path / "wal.sqlite3")}
    wrapper = DatabaseWrapper(config, alias="wal_check")
    try:
        with django_db_blocker.unblock(), wrapper.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 2  # FULL: acknowledged writes survive a power cut
        assert wrapper.transaction_mode == "IMMEDIATE"
    finally:
        wrapper.close()


def test_default_database_is_sqlite_in_the_data_folder(tmp_path):
    result = _django(
        tmp_path,
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; print(s.DATABASES['default']['NAME'])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "data" / "ivig.sqlite3")
    assert (tmp_path / "data" / "secret_key").exists()


def test_production_profile_passes_check_deploy(tmp_path):
    result = _django(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level=WARNING",
        IVIG_PRODUCTION="1",
        IVIG_ALLOWED_HOSTS="ivig.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_profile_is_not_deploy_ready(tmp_path):
    result = _django(tmp_path, "check", "--deploy", "--fail-level=WARNING")
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"IVIG_PRODUCTION": "1"}, "IVIG_ALLOWED_HOSTS"),
        ({"IVIG_PRODUCTION": "1", "IVIG_ALLOWED_HOSTS": "x.org", "IVIG_DEBUG": "1"}, "IVIG_DEBUG"),
        ({"IVIG_PRODUCTION": "1", "IVIG_ALLOWED_HOSTS": "*"}, "not allowed"),
        ({"IVIG_DEBUG": "perhaps"}, "IVIG_DEBUG"),
        ({"IVIG_WEIGHT_MAX_AGE_DAYS": "a month"}, "IVIG_WEIGHT_MAX_AGE_DAYS"),
    ],
)
def test_bad_configuration_stops_the_start(tmp_path, extra, message):
    result = _django(tmp_path, "check", **extra)
    assert result.returncode != 0
    assert message in result.stderr


def test_debug_is_off_by_default():
    from ivig.web import settings as web_settings

    assert web_settings.DEBUG is False
