from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tickets"
    verbose_name = _("Tickets (12345)")

    def ready(self):
        from mptt.signals import node_moved

        from grids.models import Region

        node_moved.connect(
            _region_moved, sender=Region, dispatch_uid="tickets_region_moved"
        )


def _region_moved(sender, instance, **kwargs):
    """A region moved in the tree: its tickets' scope columns follow it."""
    from .places import refresh_scope_columns

    refresh_scope_columns(instance)
