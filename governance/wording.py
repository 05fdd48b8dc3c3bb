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
