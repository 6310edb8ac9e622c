"""Run ``answer_at_once`` on a file SQLite database with the production settings (WAL and
BEGIN IMMEDIATE), in its own process: ``IVIG_DATA_DIR=/tmp/x python -m
tests.web.concurrent_answers``. Prints the result as one JSON line (read by
tests/web/test_infusion_day.py)."""

from __future__ import annotations

import json
import os


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "ivig.web.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    assert settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    from tests.web.conftest import build_world
    from tests.web.test_infusion_day import answer_at_once

    print(json.dumps(answer_at_once(build_world())))


if __name__ == "__main__":
    main()
