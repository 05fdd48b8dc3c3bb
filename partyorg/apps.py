from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartyorgConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "partyorg"
    verbose_name = _("Party organisation")
