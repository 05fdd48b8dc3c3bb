"""Our zh-hans wording for a few of Django's own admin strings.

Django's catalogue renders a list page's title "Select %s to change" as the awkward
"选择 %s 来修改". The governance catalogue sits in LOCALE_PATHS, which Django
searches before any app's (and its own), so the msgids below get our wording
("工单列表"); naming them here keeps ``makemessages`` from dropping them.
"""

from django.utils.translation import gettext_noop

DJANGO_ADMIN_WORDING = [
    gettext_noop("Select %s to change"),
    gettext_noop("Select %s to view"),
]

# django-axes ships no Chinese catalogue: its admin pages (登录锁定: access
# attempts, failures and logs), its field names and its lockout message get our
# wording here. Its app name is set by ``governance.apps.AxesConfig``.
AXES_WORDING = [
    gettext_noop("Locked Out"),
    gettext_noop("Form Data"),
    gettext_noop("Meta Data"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Not set"),
    gettext_noop("Attempt Remaining"),
    gettext_noop("User Agent"),
    gettext_noop("IP Address"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Path"),
    gettext_noop("Attempt Time"),
    gettext_noop("Access lock out"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("Failed Logins"),
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("Access Attempt"),
    gettext_noop("Expires At"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("Logout Time"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("Account locked: too many login attempts. Please try again later."),
]
