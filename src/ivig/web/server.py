"""``ivig serve``: migrate, optionally load the demo, then serve with gunicorn sync workers."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def _static_sources_key() -> str:
    """A fingerprint of every static file the finders see (path, size, modification time)."""
    from django.contrib.staticfiles.finders import get_finders

    digest = hashlib.sha256()
    for finder in get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def collect_static() -> bool:
    """``collectstatic`` into STATIC_ROOT when the sources changed since the last run (it takes
    seconds: every file is hashed and compressed). Returns whether it ran."""
    from django.conf import settings
    from django.core.management import call_command

    root = Path(settings.STATIC_ROOT)
    stamp = root / ".ivig-sources"
    key = _static_sources_key()
    manifest = root / "staticfiles.json"
    if manifest.exists() and stamp.exists() and stamp.read_text() == key:
        return False
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(key)
    return True


def run(*, host: str, port: int, demo: bool, workers: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivig.web.settings")
    if "IVIG_ALLOWED_HOSTS" not in os.environ and host not in ("0.0.0.0", "::", ""):
        # The address we listen on is the address people type: allow it (plus localhost).
        os.environ["IVIG_ALLOWED_HOSTS"] = ",".join(
            dict.fromkeys([host.strip("[]"), "127.0.0.1", "localhost", "[::1]"])
        )

    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    if demo and settings.PRODUCTION:
        sys.exit("ivig serve: --demo is refused with IVIG_PRODUCTION=1")
    print(f"Data folder: {settings.DATA_DIR}")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    print("Database is up to date.")
    if collect_static():
        print(f"Static files collected (hashed, brotli and gzip) into {settings.STATIC_ROOT}")
    if demo:
        from ivig.web.demo import load_demo

        print("Demo care team loaded. Logins (new passwords each start):")
        for login in load_demo():
            print(f"  {login.role:<32} {login.email:<28} {login.password}")
    if host in ("0.0.0.0", "::") and "IVIG_ALLOWED_HOSTS" not in os.environ:
        print(
            "Note: listening on all addresses. Set IVIG_ALLOWED_HOSTS to the name or address "
            "phones use (e.g. IVIG_ALLOWED_HOSTS=192.168.1.20)."
        )
    connections.close_all()  # do not share database connections with the forked workers

    from gunicorn.app.base import BaseApplication

    from ivig.web.wsgi import application

    url = f"http://{_bind(host, port)}/"

    def when_ready(server: Any) -> None:
        print(f"IVIG planner running at {url}", flush=True)

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": _bind(host, port),
                "workers": workers,
                "worker_class": "sync",
                "timeout": 60,
                "accesslog": "-",
                "logger_class": "ivig.web.logs.GunicornLogger",  # no reset/invite tokens
                "control_socket_disable": True,
                "when_ready": when_ready,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    Server().run()
