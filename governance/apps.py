from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "governance"
    verbose_name = _("Governance")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from . import checks  # noqa: F401  (registers the system checks)
        from .middleware_security import stamp_login

        user_logged_in.connect(stamp_login, dispatch_uid="governance.stamp_login")


class AxesConfig(AxesAppConfig):
    """django-axes under a Chinese name in the admin (its own is "Axes")."""

    verbose_name = _("Login lockouts")
