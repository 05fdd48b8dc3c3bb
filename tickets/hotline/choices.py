"""Choices of the hotline integration."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryState(models.TextChoices):
    # 待发送: written with the change, waiting for a worker.
    PENDING = "pending", _("Pending")
    # 发送中: a worker claimed it (until ``claimed_until``; a dead worker's claim
    # lapses and the sweep announces it again).
    SENDING = "sending", _("Sending")
    # 待重试: the platform did not take it; tried again at ``next_attempt_at``.
    RETRY = "retry", _("Waiting to retry")
    # 已送达: the platform answered 2xx.
    DELIVERED = "delivered", _("Delivered")
    # 死信: refused or unreachable after the last attempt; staff resend it.
    DEAD = "dead", _("Dead letter")


class TriageFlag(models.TextChoices):
    """Why a pushed ticket needs the street centre's eye at 制单."""

    CATEGORY_UNMAPPED = "category_unmapped", _("Category code not mapped")
    AREA_UNMAPPED = "area_unmapped", _("Area or address not mapped")
