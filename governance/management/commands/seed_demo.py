"""Load the demo district once: grids first, then every app that has a demo."""

import importlib
import random
import time

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

DEMO_APPS = (
    "grids",
    "partyorg",
    "points",
    "tickets",
    "partyorg.whistle",
    "partyorg.sites",
    "partyorg.microprojects",
    "governance",
)


class Command(BaseCommand):
    help = "Load demo data (idempotent: a second run changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=20261122, help="random seed")
        parser.add_argument(
            "--small",
            action="store_true",
            help="a small demo for tests: a tenth of the households, a third "
            "of the tickets",
        )

    def handle(self, *args, seed, small=False, **options):
        started = time.monotonic()
        rng = random.Random(seed)
        for app in DEMO_APPS:
            try:
                demo = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            app_started, app_cpu = time.monotonic(), time.process_time()
            demo.seed(stdout=self.stdout, rng=random.Random(rng.random()), small=small)
            self.stdout.write(
                f"  ({time.monotonic() - app_started:.1f} s, "
                f"CPU {time.process_time() - app_cpu:.1f} s)"
            )
        from grids.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

        self.stdout.write(
            _("Demo accounts (password %(password)s):") % {"password": DEMO_PASSWORD}
        )
        self.stdout.write("  admin (superuser)")
        for username, role, _scope, _name in DEMO_ACCOUNTS:
            self.stdout.write(f"  {username} ({role})")
        self.stdout.write(
            _("Done in %(seconds).1f s.") % {"seconds": time.monotonic() - started}
        )
