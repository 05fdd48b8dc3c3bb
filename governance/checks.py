"""System checks of project-level settings: an integration switched on but
misconfigured stops ``manage.py`` (migrate, runserver, check) at start."""

from django.core.checks import Error, register

from grids.sms import check_sms_backend


@register()
def sms_backend_check(app_configs=None, **kwargs):
    problem = check_sms_backend()
    if problem is None:
        return []
    return [
        Error(
            problem,
            hint="Set SMS_BACKEND to a dotted path of a grids.sms.BaseSmsBackend "
            "subclass (default grids.sms.LoggingSmsBackend), and its "
            "SMS_BACKEND_OPTIONS.",
            id="governance.E001",
        )
    ]
