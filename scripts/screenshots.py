#!/usr/bin/env python3
"""Regenerate the README screenshots (desktop 1280x800 and phone 360x740) of the main pages.

    .venv/bin/python scripts/screenshots.py

Builds a throw-away database (a temporary IVIG_DATA_DIR) with the test suite's example team
(tests/web/pages.py: an approved plan, a running infusion, a check-in, drinks), starts
`ivig serve` on it, logs the people in and photographs each page in Debian's Chromium. The PNGs
are reduced to 64 colours so that the repository stays small. Writes docs/screenshots/*.png.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shrink(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main() -> int:
    data_dir = tempfile.mkdtemp(prefix="ivig-screenshots-")
    os.environ.update(
        IVIG_DATA_DIR=data_dir, DJANGO_SETTINGS_MODULE="ivig.web.settings", IVIG_TIME_ZONE="UTC"
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    from tests.web.conftest import build_world
    from tests.web.pages import build_site

    world = build_world()
    values = build_site(world)
    patient, plan = world.patient.pk, world.plan.pk
    pages = [
        ("today", "/", world.nurse),
        ("patient", f"/patients/{patient}/", world.caregiver),
        ("plan-editor", f"/patients/{patient}/plans/{plan}/edit/", world.prescriber),
        ("plan", f"/patients/{patient}/plans/{plan}/", world.prescriber),
        ("infusion-log", f"/patients/{patient}/infusions/{values.infusion.pk}/", world.nurse),
        ("comparison-print", f"/patients/{patient}/plans/compare/print/", world.nurse),
    ]
    cookies = {}
    for _name, _url, person in pages:
        if person.pk not in cookies:
            client = Client()
            client.force_login(person)
            cookies[person.pk] = client.cookies[settings.SESSION_COOKIE_NAME].value

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "ivig.cli", "serve", "--port", str(port)],
        env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        from playwright.sync_api import sync_playwright

        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                args=["--no-sandbox"],
            )
            for size, viewport in SIZES.items():
                for name, url, person in pages:
                    context = browser.new_context(viewport=viewport)
                    context.add_cookies(
                        [{"name": settings.SESSION_COOKIE_NAME, "value": cookies[person.pk],
                          "url": base}]
                    )
                    page = context.new_page()
                    page.goto(base + url)
                    page.wait_for_load_state("networkidle")
                    path = OUT / f"{name}-{size}.png"
                    page.screenshot(path=str(path))
                    shrink(path)
                    print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")
                    context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
