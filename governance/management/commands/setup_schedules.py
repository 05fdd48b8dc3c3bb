"""Install the project's periodic jobs into django-celery-beat (idempotent)."""

from django.core.management.base import BaseCommand

from governance.schedules import install_periodic_tasks


class Command(BaseCommand):
    help = "Create the django-celery-beat rows for every declared periodic job."

    def handle(self, *args, **options):
        created, existing = install_periodic_tasks()
        self.stdout.write(
            f"periodic tasks: {created} created, {existing} already there"
        )
