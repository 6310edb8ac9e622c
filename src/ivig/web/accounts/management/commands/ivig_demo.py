from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ivig.web.demo import load_demo


class Command(BaseCommand):
    help = "Load (or refresh) the demo care team and print its logins."

    def handle(self, *args: Any, **options: Any) -> None:
        for login in load_demo():
            self.stdout.write(f"  {login.role:<32} {login.email:<28} {login.password}")
