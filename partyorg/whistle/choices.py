"""Choices of 吹哨报到 ("网格吹哨、部门报到", seeds 002, 004).

A whistle summons departments and in-service party members to a place; each
summons (a call) ends in one of three outcomes, counted per department per
month for the departments' assessment.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CallStatus(models.TextChoices):
    # 待报到: summoned, not yet on site, the time to report has not run out.
    PENDING = "pending", _("Awaiting arrival")
    # 按时报到: arrived on site before the time set by the whistle.
    ON_TIME = "on_time", _("Arrived on time")
    # 迟到: arrived on site, but after the time set by the whistle.
    LATE = "late", _("Arrived late")
    # 缺席: still not on site when the grace period after the time ran out
    # (marked by the periodic job). Final: a later arrival is refused.
    ABSENT = "absent", _("Absent")


# An arrival may be recorded only from this status (a second arrival is refused).
ARRIVABLE = (CallStatus.PENDING,)
# The statuses the assessment counts as "came" (报到).
ARRIVED = (CallStatus.ON_TIME, CallStatus.LATE)
